// existing_record_keys: which (source, record_key) pairs of a batch are already stored
// params: rows (list of {source, record_key})
UNWIND $rows AS row
MATCH (o:Observation {source: row.source, record_key: row.record_key})
RETURN o.source AS source, o.record_key AS record_key
