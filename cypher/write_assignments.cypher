// write_assignments: move identifiers into profiles (one IN_PROFILE relationship each)
// params: rows (list of {type, value, profile_id})
// Rows whose profile does not exist are not applied and are returned, so the store can fail.
UNWIND $rows AS row
MATCH (i:Identifier {type: row.type, value: row.value})
OPTIONAL MATCH (p:Profile {id: row.profile_id})
CALL (i, p) {
  WITH i, p
  WHERE p IS NOT NULL
  OPTIONAL MATCH (i)-[old:IN_PROFILE]->(other:Profile)
  WHERE other <> p
  DELETE old
  MERGE (i)-[:IN_PROFILE]->(p)
}
WITH row, p
WHERE p IS NULL
RETURN row.profile_id AS missing_profile
