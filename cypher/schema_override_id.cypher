// schema_override_id: one Override node per id (steward decisions, in the order they were made)
// params: none
CREATE CONSTRAINT override_id IF NOT EXISTS
FOR (o:Override) REQUIRE o.id IS UNIQUE
