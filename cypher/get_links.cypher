// get_links: the stored links among requested (a, b, rule) keys; missing ones are absent
// params: rows (list of {a_type, a_value, b_type, b_value, rule})
UNWIND $rows AS row
MATCH (a:Identifier {type: row.a_type, value: row.a_value})
      -[l:LINK {rule: row.rule}]->
      (b:Identifier {type: row.b_type, value: row.b_value})
RETURN a.type AS a_type, a.value AS a_value, b.type AS b_type, b.value AS b_value,
       l.rule AS rule, l.weight AS weight, l.count AS count,
       l.first_seen AS first_seen, l.last_seen AS last_seen,
       l.sources AS sources, l.samples AS samples, l.details AS details
