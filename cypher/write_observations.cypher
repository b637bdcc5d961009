// write_observations: create observations anchored at their identifier, with events and consent
// params: rows (list of {source, record_key, ts, attributes, anchor_type, anchor_value, events, consent})
// attributes and event properties are JSON text; events is a list of {name, properties};
// consent is a list of {purpose, granted}. Returns how many rows found their anchor.
UNWIND $rows AS row
MATCH (i:Identifier {type: row.anchor_type, value: row.anchor_value})
CREATE (o:Observation {
  source: row.source,
  record_key: row.record_key,
  ts: row.ts,
  attributes: row.attributes
})
CREATE (o)-[:ANCHORED_AT]->(i)
FOREACH (e IN row.events |
  CREATE (o)-[:HAS_EVENT]->(:Event {name: e.name, properties: e.properties, ts: row.ts})
)
FOREACH (c IN row.consent |
  CREATE (o)-[:HAS_CONSENT]->(:Consent {
    purpose: c.purpose,
    granted: c.granted,
    source: row.source,
    ts: row.ts
  })
)
RETURN count(o) AS written
