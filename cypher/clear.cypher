// clear: delete one batch of nodes with their relationships; repeated until nothing is left
// params: limit (nodes per batch)
MATCH (n)
WITH n
LIMIT $limit
DETACH DELETE n
RETURN count(*) AS deleted
