// schema_audit_seq: one AuditEvent node per sequence number
// params: none
CREATE CONSTRAINT audit_seq IF NOT EXISTS
FOR (a:AuditEvent) REQUIRE a.seq IS UNIQUE
