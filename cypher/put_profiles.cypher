// put_profiles: create or update profile nodes; an existing profile keeps its created time
// params: rows (list of {id, created, updated, size, merged_into, golden}; golden is JSON text)
UNWIND $rows AS row
MERGE (p:Profile {id: row.id})
SET p.created = coalesce(p.created, row.created),
    p.updated = row.updated,
    p.size = row.size,
    p.merged_into = row.merged_into,
    p.golden = row.golden
