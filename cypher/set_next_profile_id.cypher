// set_next_profile_id: move the profile id counter forward to at least a given id (never back)
// params: next (the smallest id the counter may hand out next)
MERGE (c:Counter {name: 'profile_id'})
  ON CREATE SET c.next = 1
SET c.next = CASE WHEN $next > c.next THEN $next ELSE c.next END
