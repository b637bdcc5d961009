// schema_observation_key: one Observation node per (source, record_key): ingest is idempotent
// params: none
CREATE CONSTRAINT observation_key IF NOT EXISTS
FOR (o:Observation) REQUIRE (o.source, o.record_key) IS UNIQUE
