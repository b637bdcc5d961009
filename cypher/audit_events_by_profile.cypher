// audit_events_by_profile: audit events concerning any of some profiles, in sequence order
// params: profile_ids (list of integers), since (sequence number; events after it), limit
// params: kinds (list of kinds, or null for every kind)
UNWIND $profile_ids AS pid
MATCH (:Profile {id: pid})<-[:CONCERNS]-(a:AuditEvent)
WHERE a.seq > $since AND ($kinds IS NULL OR a.kind IN $kinds)
WITH DISTINCT a
RETURN a.seq AS seq, a.ts AS ts, a.kind AS kind, a.actor AS actor, a.reason AS reason,
       a.profiles_before AS profiles_before, a.profiles_after AS profiles_after,
       a.identifiers AS identifiers, a.link AS link, a.details AS details
ORDER BY seq
LIMIT $limit
