// remove_overrides: delete the steward decisions of a kind about (a, b) in either order, or about a alone
// params: kind, a_type, a_value, b_type (null for a decision about a alone), b_value
MATCH (o:Override {kind: $kind})
WHERE (o.a_type = $a_type AND o.a_value = $a_value
       AND ((o.b_type IS NULL AND $b_type IS NULL)
            OR (o.b_type = $b_type AND o.b_value = $b_value)))
   OR (o.a_type = $b_type AND o.a_value = $b_value
       AND o.b_type = $a_type AND o.b_value = $a_value)
DELETE o
RETURN count(o) AS removed
