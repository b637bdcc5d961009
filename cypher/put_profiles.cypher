// put_profiles: create or update profile nodes; an existing profile keeps its created time
// params: rows (list of {id, created, updated, size, merged_into, golden}; golden is JSON text)
// A merged profile also points at the profile it was merged into: (p)-[:MERGED_INTO]->(into).
UNWIND $rows AS row
MERGE (p:Profile {id: row.id})
SET p.created = coalesce(p.created, row.created),
    p.updated = row.updated,
    p.size = row.size,
    p.merged_into = row.merged_into,
    p.golden = row.golden
WITH p, row
CALL (p, row) {
  OPTIONAL MATCH (p)-[old:MERGED_INTO]->(before:Profile)
  WHERE row.merged_into IS NULL OR before.id <> row.merged_into
  DELETE old
}
CALL (p, row) {
  WITH p, row
  WHERE row.merged_into IS NOT NULL
  MERGE (into:Profile {id: row.merged_into})
  MERGE (p)-[:MERGED_INTO]->(into)
}
