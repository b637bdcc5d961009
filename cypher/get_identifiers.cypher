// get_identifiers: identifier nodes by (type, value), with the profile each belongs to
// params: rows (list of {type, value})
UNWIND $rows AS row
MATCH (i:Identifier {type: row.type, value: row.value})
OPTIONAL MATCH (i)-[:IN_PROFILE]->(p:Profile)
RETURN i.type AS type, i.value AS value, i.first_seen AS first_seen, i.last_seen AS last_seen,
       p.id AS profile_id, i.generic AS generic, i.blocked AS blocked
