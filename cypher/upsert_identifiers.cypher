// upsert_identifiers: create identifier nodes or widen their first/last seen span
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
