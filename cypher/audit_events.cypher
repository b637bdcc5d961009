// audit_events: audit events after a sequence number, in sequence order, optionally of some kinds
// params: since (sequence number; events after it), limit (at most this many)
// params: kinds (list of kinds, or null for every kind)
MATCH (a:AuditEvent)
WHERE a.seq > $since AND ($kinds IS NULL OR a.kind IN $kinds)
RETURN a.seq AS seq, a.ts AS ts, a.kind AS kind, a.actor AS actor, a.reason AS reason,
       a.profiles_before AS profiles_before, a.profiles_after AS profiles_after,
       a.identifiers AS identifiers, a.link AS link, a.details AS details
ORDER BY seq
LIMIT $limit
