// set_flags: set the generic and/or blocked flag of identifiers (null leaves a flag as it is)
// params: rows (list of {type, value}), generic (boolean or null), blocked (boolean or null)
UNWIND $rows AS row
MATCH (i:Identifier {type: row.type, value: row.value})
SET i.generic = coalesce($generic, i.generic),
    i.blocked = coalesce($blocked, i.blocked)
