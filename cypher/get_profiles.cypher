// get_profiles: profile nodes by id (placeholders that only audit events mention are skipped)
// params: profile_ids (list of integers)
UNWIND $profile_ids AS pid
MATCH (p:Profile {id: pid})
WHERE p.created IS NOT NULL
RETURN p.id AS id, p.created AS created, p.updated AS updated, p.size AS size,
       p.merged_into AS merged_into, p.golden AS golden
