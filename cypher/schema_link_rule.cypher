// schema_link_rule: find the links of one rule (co_observed, fuzzy:<rule>, steward)
// params: none
CREATE INDEX link_rule IF NOT EXISTS
FOR ()-[l:LINK]-() ON (l.rule)
