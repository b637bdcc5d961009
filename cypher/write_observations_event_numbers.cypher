// write_observations_event_numbers: the numeric properties of each observation's event
// params: rows (list of {source, record_key, num_names, num_values})
// Run by write_observations after write_observations.cypher: two parallel lists, the names of the
// properties that read as numbers and their values (identity_graph.segments.cypher.event_numbers),
// which segment rules sum (Cypher 5 cannot parse the properties' JSON text).
UNWIND $rows AS row
MATCH (:Observation {source: row.source, record_key: row.record_key})-[:HAS_EVENT]->(e:Event)
SET e.num_names = row.num_names,
    e.num_values = row.num_values
