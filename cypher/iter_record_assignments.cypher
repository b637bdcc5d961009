// iter_record_assignments: one page of (record key, profile id) of one source in key order
// params: source, after (the last record key of the previous page; '' to start), limit (page size)
MATCH (o:Observation)
WHERE o.source = $source AND o.record_key > $after
WITH o
ORDER BY o.record_key
LIMIT $limit
OPTIONAL MATCH (o)-[:ANCHORED_AT]->(i:Identifier)
OPTIONAL MATCH (i)-[:IN_PROFILE]->(p:Profile)
RETURN o.record_key AS record_key, i IS NOT NULL AS anchored, p.id AS profile_id
ORDER BY record_key
