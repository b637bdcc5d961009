// put_overrides: append steward decisions in order, numbered by the persistent override counter
// params: rows (list of {kind, a_type, a_value, b_type, b_value, actor, reason, ts, force})
MERGE (c:Counter {name: 'override_id'})
  ON CREATE SET c.value = 0
SET c.value = c.value + size($rows)
WITH c.value - size($rows) + 1 AS first
UNWIND range(0, size($rows) - 1) AS i
WITH first + i AS id, $rows[i] AS row
CREATE (:Override {
  id: id,
  kind: row.kind,
  a_type: row.a_type,
  a_value: row.a_value,
  b_type: row.b_type,
  b_value: row.b_value,
  actor: row.actor,
  reason: row.reason,
  ts: row.ts,
  force: row.force
})
