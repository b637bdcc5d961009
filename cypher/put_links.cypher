// put_links: create or replace links (a)-[:LINK {rule}]->(b), a < b, with their evidence
// params: rows (list of {a_type, a_value, b_type, b_value, rule, weight, count, first_seen, last_seen, sources, samples, details})
// details is JSON text. Returns how many rows found both endpoints.
UNWIND $rows AS row
MATCH (a:Identifier {type: row.a_type, value: row.a_value})
MATCH (b:Identifier {type: row.b_type, value: row.b_value})
MERGE (a)-[l:LINK {rule: row.rule}]->(b)
SET l.weight = row.weight,
    l.count = row.count,
    l.first_seen = row.first_seen,
    l.last_seen = row.last_seen,
    l.sources = row.sources,
    l.samples = row.samples,
    l.details = row.details
RETURN count(l) AS written
