// iter_links: the links leaving one page of identifiers of one type (each link once, a -> b)
// params: type, after (the last value of the previous page; '' to start), limit (page size)
MATCH (a:Identifier)
WHERE a.type = $type AND a.value > $after
WITH a
ORDER BY a.value
LIMIT $limit
RETURN a.value AS cursor,
       [(a)-[l:LINK]->(b:Identifier) | {
         b_type: b.type,
         b_value: b.value,
         rule: l.rule,
         weight: l.weight,
         count: l.count,
         first_seen: l.first_seen,
         last_seen: l.last_seen,
         sources: l.sources,
         samples: l.samples,
         details: l.details
       }] AS links
ORDER BY cursor
