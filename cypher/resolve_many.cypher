// resolve_many: the profile id of each identifier that belongs to one
// params: rows (list of {type, value})
UNWIND $rows AS row
MATCH (i:Identifier {type: row.type, value: row.value})-[:IN_PROFILE]->(p:Profile)
RETURN i.type AS type, i.value AS value, p.id AS profile_id
