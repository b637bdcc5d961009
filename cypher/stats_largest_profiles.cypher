// stats_largest_profiles: the largest live profiles (ties: smaller id first)
// params: top (how many)
MATCH (p:Profile)
WHERE p.merged_into IS NULL AND p.size > 0
RETURN p.id AS id, p.size AS size
ORDER BY size DESC, id
LIMIT $top
