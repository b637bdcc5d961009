// neighbour_type_counts: for each identifier, how many distinct linked identifiers of each type
// params: rows (list of {type, value})
UNWIND $rows AS row
MATCH (i:Identifier {type: row.type, value: row.value})-[:LINK]-(o:Identifier)
RETURN i.type AS type, i.value AS value, o.type AS neighbour_type,
       count(DISTINCT o) AS neighbours
