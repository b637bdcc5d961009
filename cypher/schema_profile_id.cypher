// schema_profile_id: one Profile node per profile id
// params: none
CREATE CONSTRAINT profile_id IF NOT EXISTS
FOR (p:Profile) REQUIRE p.id IS UNIQUE
