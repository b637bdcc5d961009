// attribute_values: the observed attributes of each profile's identifiers, for survivorship
// params: profile_ids (list of integers)
// attributes is the observation's JSON object of name -> value (every value has its source and ts).
UNWIND $profile_ids AS pid
MATCH (:Profile {id: pid})<-[:IN_PROFILE]-(i:Identifier)<-[:ANCHORED_AT]-(o:Observation)
WHERE o.attributes <> '{}'
RETURN pid AS profile_id, i.type AS type, i.value AS value, o.source AS source, o.ts AS ts,
       o.attributes AS attributes
