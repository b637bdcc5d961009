// add_override: append one steward decision, numbered by the persistent override counter
// params: kind, a_type, a_value, b_type, b_value, actor, reason, ts, force
MERGE (c:Counter {name: 'override_id'})
  ON CREATE SET c.value = 0
SET c.value = c.value + 1
CREATE (:Override {
  id: c.value,
  kind: $kind,
  a_type: $a_type,
  a_value: $a_value,
  b_type: $b_type,
  b_value: $b_value,
  actor: $actor,
  reason: $reason,
  ts: $ts,
  force: $force
})
