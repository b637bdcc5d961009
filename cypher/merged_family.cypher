// merged_family: a profile and every profile merged into it, directly or through others
// params: profile_id
MATCH (:Profile {id: $profile_id})<-[:MERGED_INTO*0..]-(m:Profile)
RETURN DISTINCT m.id AS id
ORDER BY id
