// Purpose: /explore - the items a user interacted with, best rated and most recent first.
// Parameters: $id (string, user id), $limit (int, max items)
// Returns: id, title, rating, ts (one row per interacted item)
MATCH (u:User {id: $id})-[r:INTERACTED]->(i:Item)
WITH i, r, coalesce(r.rating, 0) AS by_rating, coalesce(r.ts, 0) AS by_time
RETURN i.id AS id, i.title AS title, r.rating AS rating, r.ts AS ts
ORDER BY by_rating DESC, by_time DESC, id
LIMIT $limit
