// iter_assignments: one page of (identifier, profile id) of one type in value order
// params: type, after (the last value of the previous page; '' to start), limit (page size)
MATCH (i:Identifier)
WHERE i.type = $type AND i.value > $after
WITH i
ORDER BY i.value
LIMIT $limit
OPTIONAL MATCH (i)-[:IN_PROFILE]->(p:Profile)
RETURN i.value AS value, p.id AS profile_id
ORDER BY value
