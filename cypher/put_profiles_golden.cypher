// put_profiles_golden: replace each profile's Golden nodes, the typed golden facts segments test
// params: rows (list of {id, facts}; facts: list of {name, kind, text, num, items_text, items_num})
// Run by put_profiles after put_profiles.cypher; the facts are computed in Python by
// identity_graph.segments.cypher.golden_facts (Cypher 5 cannot parse the golden JSON text).
UNWIND $rows AS row
MATCH (p:Profile {id: row.id})
CALL (p) {
  MATCH (p)-[:HAS_GOLDEN]->(old:Golden)
  DETACH DELETE old
}
FOREACH (f IN row.facts |
  CREATE (p)-[:HAS_GOLDEN]->(:Golden {
    name: f.name,
    kind: f.kind,
    text: f.text,
    num: f.num,
    items_text: f.items_text,
    items_num: f.items_num
  })
)
