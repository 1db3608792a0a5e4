// Purpose: /explore - users who interacted with an item (bounded), best rated and most recent first.
// Parameters: $id (string, item id), $limit (int, max users)
// Returns: id, rating, ts (one row per user)
MATCH (u:User)-[r:INTERACTED]->(i:Item {id: $id})
WITH u, r, coalesce(r.rating, 0) AS by_rating, coalesce(r.ts, 0) AS by_time
RETURN u.id AS id, r.rating AS rating, r.ts AS ts
ORDER BY by_rating DESC, by_time DESC, id
LIMIT $limit
