// iter_profiles: one page of live profiles (with members, not merged) in id order
// params: after (the last id of the previous page; 0 to start), limit (page size)
MATCH (p:Profile)
WHERE p.id > $after AND p.merged_into IS NULL AND p.size > 0
WITH p
ORDER BY p.id
LIMIT $limit
RETURN p.id AS id, p.created AS created, p.updated AS updated, p.size AS size,
       p.merged_into AS merged_into, p.golden AS golden
ORDER BY id
