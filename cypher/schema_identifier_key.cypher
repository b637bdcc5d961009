// schema_identifier_key: one Identifier node per (type, value)
// params: none
CREATE CONSTRAINT identifier_key IF NOT EXISTS
FOR (i:Identifier) REQUIRE (i.type, i.value) IS UNIQUE
