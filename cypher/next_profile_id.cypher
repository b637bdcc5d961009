// next_profile_id: the profile id the counter will hand out next, without reserving it
// params: none
OPTIONAL MATCH (c:Counter {name: 'profile_id'})
RETURN coalesce(c.next, 1) AS next
