// stats_generic: the generic or blocked identifiers with the most links
// params: top (how many)
MATCH (i:Identifier)
WHERE i.generic = true OR i.blocked = true
RETURN i.type AS type, i.value AS value, COUNT { (i)-[:LINK]-() } AS degree
ORDER BY degree DESC, type, value
LIMIT $top
