// iter_identifiers_next_type: the smallest identifier type after a given one (a skip scan)
// params: after (the previous type; '' to start)
MATCH (i:Identifier)
WHERE i.type > $after AND i.value IS NOT NULL
RETURN i.type AS type
ORDER BY type
LIMIT 1
