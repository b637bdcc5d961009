// links_among: the links whose both ends are in a set of identifiers
// params: rows (this chunk of the set, as "type:value" key texts)
// params: keys (the whole set, as "type:value" key texts)
UNWIND $rows AS k
MATCH (a:Identifier {key: k})-[l:LINK]->(b:Identifier)
WHERE b.key IN $keys
RETURN a.type AS a_type, a.value AS a_value, b.type AS b_type, b.value AS b_value,
       l.rule AS rule, l.weight AS weight, l.count AS count,
       l.first_seen AS first_seen, l.last_seen AS last_seen,
       l.sources AS sources, l.samples AS samples, l.details AS details
