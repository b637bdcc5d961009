// stats_identifiers_by_type: how many identifiers there are of each type
// params: none
MATCH (i:Identifier)
RETURN i.type AS type, count(i) AS identifiers
ORDER BY type
