// put_audit: store audit events with the sequence numbers they already have (copying a store)
// params: rows (list of {seq, ts, kind, actor, reason, profiles_before, profiles_after, identifiers, link, details, profiles})
// The audit sequence counter is moved past the largest seq written.
UNWIND $rows AS row
CREATE (a:AuditEvent {
  seq: row.seq,
  ts: row.ts,
  kind: row.kind,
  actor: row.actor,
  reason: row.reason,
  profiles_before: row.profiles_before,
  profiles_after: row.profiles_after,
  identifiers: row.identifiers,
  link: row.link,
  details: row.details
})
WITH a, row
CALL (a, row) {
  UNWIND row.profiles AS pid
  MERGE (p:Profile {id: pid})
  MERGE (a)-[:CONCERNS]->(p)
}
WITH max(row.seq) AS top
MERGE (c:Counter {name: 'audit_seq'})
  ON CREATE SET c.value = 0
SET c.value = CASE WHEN top > c.value THEN top ELSE c.value END
