// stats_size_distribution: how many live profiles there are of each size
// params: none
MATCH (p:Profile)
WHERE p.merged_into IS NULL AND p.size > 0
RETURN p.size AS size, count(p) AS profiles
ORDER BY size
