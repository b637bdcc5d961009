// iter_all_profiles: one page of every profile (live, merged or emptied) in id order (copying)
// params: after (the last id of the previous page; 0 to start), limit (page size)
MATCH (p:Profile)
WHERE p.id > $after
WITH p
ORDER BY p.id
LIMIT $limit
RETURN p.id AS id, p.created AS created, p.updated AS updated, p.size AS size,
       p.merged_into AS merged_into, p.golden AS golden
ORDER BY id
