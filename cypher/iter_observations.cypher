// iter_observations: one page of observations of one source in record key order, with their anchor, events and consent
// params: source, after (the last record key of the previous page; '' to start), limit (page size)
MATCH (o:Observation)
WHERE o.source = $source AND o.record_key > $after
WITH o
ORDER BY o.record_key
LIMIT $limit
OPTIONAL MATCH (o)-[:ANCHORED_AT]->(i:Identifier)
RETURN o.record_key AS record_key, o.ts AS ts, o.attributes AS attributes,
       i.type AS anchor_type, i.value AS anchor_value,
       [(o)-[:HAS_EVENT]->(e:Event) | {name: e.name, properties: e.properties}] AS events,
       [(o)-[:HAS_CONSENT]->(c:Consent) | {purpose: c.purpose, granted: c.granted}] AS consent
ORDER BY record_key
