// append_audit: append audit events, numbered by the persistent audit sequence counter
// params: rows (list of {ts, kind, actor, reason, profiles_before, profiles_after, identifiers, link, details, profiles})
// link and details are JSON text; profiles is every profile the event concerns. Event i of the
// batch gets seq = first + i; the counter is read and written in one SET, under its lock.
MERGE (c:Counter {name: 'audit_seq'})
  ON CREATE SET c.value = 0
SET c.value = c.value + size($rows)
WITH c.value - size($rows) + 1 AS first
UNWIND range(0, size($rows) - 1) AS i
WITH first, first + i AS seq, $rows[i] AS row
CREATE (a:AuditEvent {
  seq: seq,
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
WITH first, a, row
CALL (a, row) {
  UNWIND row.profiles AS pid
  MERGE (p:Profile {id: pid})
  MERGE (a)-[:CONCERNS]->(p)
}
RETURN min(first) AS first
