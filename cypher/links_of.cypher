// links_of: every link touching at least one identifier of a set, each link once
// params: rows (identifiers, as "type:value" key texts)
UNWIND $rows AS k
MATCH (:Identifier {key: k})-[touching:LINK]-(:Identifier)
WITH DISTINCT touching AS l
WITH l, startNode(l) AS a, endNode(l) AS b
RETURN a.type AS a_type, a.value AS a_value, b.type AS b_type, b.value AS b_value,
       l.rule AS rule, l.weight AS weight, l.count AS count,
       l.first_seen AS first_seen, l.last_seen AS last_seen,
       l.sources AS sources, l.samples AS samples, l.details AS details
