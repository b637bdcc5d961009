// iter_record_assignments_next_source: the smallest observation source after a given one
// params: after (the previous source; '' to start)
MATCH (o:Observation)
WHERE o.source > $after AND o.record_key IS NOT NULL
RETURN o.source AS source
ORDER BY source
LIMIT 1
