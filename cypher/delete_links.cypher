// delete_links: delete links by (a, b, rule); missing ones are ignored
// params: rows (list of {a_type, a_value, b_type, b_value, rule})
UNWIND $rows AS row
MATCH (:Identifier {type: row.a_type, value: row.a_value})
      -[l:LINK {rule: row.rule}]->
      (:Identifier {type: row.b_type, value: row.b_value})
DELETE l
