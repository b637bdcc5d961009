// schema_suppressed_hash: one SuppressedIdentifier node per salted hash of an erased identifier
// params: none
CREATE CONSTRAINT suppressed_hash IF NOT EXISTS
FOR (s:SuppressedIdentifier) REQUIRE s.hash IS UNIQUE
