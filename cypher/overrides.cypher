// overrides: every steward decision, in the order they were made
// params: none
MATCH (o:Override)
RETURN o.kind AS kind, o.a_type AS a_type, o.a_value AS a_value, o.b_type AS b_type,
       o.b_value AS b_value, o.actor AS actor, o.reason AS reason, o.ts AS ts, o.force AS force
ORDER BY o.id
