// schema_identifier_key_text: look identifiers up by their "type:value" text (i.key)
// params: none
CREATE INDEX identifier_key_text IF NOT EXISTS
FOR (i:Identifier) ON (i.key)
