// stats: how many of each kind of node and relationship the graph holds
// params: none
// A live profile has members (size > 0) and was not merged into another.
RETURN COUNT { (:Observation) } AS observations,
       COUNT { (:Identifier) } AS identifiers,
       COUNT { ()-[:LINK]->() } AS links,
       COUNT { (p:Profile) WHERE p.merged_into IS NULL AND p.size > 0 } AS profiles,
       COUNT { (:AuditEvent) } AS audit_events,
       COUNT { (:Event) } AS events,
       COUNT { (i:Identifier) WHERE i.generic = true OR i.blocked = true } AS generic_identifiers
