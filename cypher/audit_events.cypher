// audit_events: audit events after a sequence number, in sequence order
// params: since (sequence number; events after it), limit (at most this many)
MATCH (a:AuditEvent)
WHERE a.seq > $since
RETURN a.seq AS seq, a.ts AS ts, a.kind AS kind, a.actor AS actor, a.reason AS reason,
       a.profiles_before AS profiles_before, a.profiles_after AS profiles_after,
       a.identifiers AS identifiers, a.link AS link, a.details AS details
ORDER BY seq
LIMIT $limit
