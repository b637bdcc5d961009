// next_profile_ids: reserve n profile ids from the persistent counter (ids are never reused)
// params: n (how many ids)
// The counter update reads and writes c.next in one SET, so Neo4j locks the node before reading.
MERGE (c:Counter {name: 'profile_id'})
  ON CREATE SET c.next = 1
SET c.next = c.next + $n
RETURN c.next - $n AS first
