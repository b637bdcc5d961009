// profile_members: the identifiers that belong to each requested profile
// params: profile_ids (list of integers)
UNWIND $profile_ids AS pid
MATCH (p:Profile {id: pid})<-[:IN_PROFILE]-(i:Identifier)
RETURN i.type AS type, i.value AS value, i.first_seen AS first_seen, i.last_seen AS last_seen,
       p.id AS profile_id, i.generic AS generic, i.blocked AS blocked
