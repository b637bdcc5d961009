// upsert_identifiers: create identifier nodes or widen their first/last seen span, and return
// each as it now stands, with the profile it belongs to
// params: rows (list of {type, value, key, first_seen, last_seen}; ISO-8601 UTC text)
UNWIND $rows AS row
MERGE (i:Identifier {type: row.type, value: row.value})
  ON CREATE SET
    i.key = row.key,
    i.first_seen = row.first_seen,
    i.last_seen = row.last_seen,
    i.generic = false,
    i.blocked = false
  ON MATCH SET
    i.first_seen = CASE WHEN row.first_seen < i.first_seen THEN row.first_seen ELSE i.first_seen END,
    i.last_seen = CASE WHEN row.last_seen > i.last_seen THEN row.last_seen ELSE i.last_seen END
WITH i
OPTIONAL MATCH (i)-[:IN_PROFILE]->(p:Profile)
RETURN i.type AS type, i.value AS value, i.first_seen AS first_seen, i.last_seen AS last_seen,
       p.id AS profile_id, i.generic AS generic, i.blocked AS blocked
