// iter_identifiers: one page of identifiers of one type in value order, after a cursor
// params: type, after (the last value of the previous page; '' to start), limit (page size)
MATCH (i:Identifier)
WHERE i.type = $type AND i.value > $after
WITH i
ORDER BY i.value
LIMIT $limit
OPTIONAL MATCH (i)-[:IN_PROFILE]->(p:Profile)
RETURN i.type AS type, i.value AS value, i.first_seen AS first_seen, i.last_seen AS last_seen,
       p.id AS profile_id, i.generic AS generic, i.blocked AS blocked
ORDER BY value
