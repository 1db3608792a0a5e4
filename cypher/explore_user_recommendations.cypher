// Purpose: /explore - the items written back as RECOMMENDED for a user, in rank order.
// Parameters: $id (string, user id), $limit (int, max items)
// Returns: id, title, score, rank, model (one row per recommended item)
MATCH (u:User {id: $id})-[r:RECOMMENDED]->(i:Item)
WITH i, r, coalesce(r.rank, 2147483647) AS by_rank, coalesce(r.score, 0.0) AS by_score
RETURN i.id AS id, i.title AS title, r.score AS score, r.rank AS rank, r.model AS model
ORDER BY by_rank, by_score DESC, id
LIMIT $limit
