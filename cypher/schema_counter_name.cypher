// schema_counter_name: one Counter node per name (profile ids, audit sequence, override ids)
// params: none
CREATE CONSTRAINT counter_name IF NOT EXISTS
FOR (c:Counter) REQUIRE c.name IS UNIQUE
