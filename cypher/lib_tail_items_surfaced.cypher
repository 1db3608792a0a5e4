// Purpose: is the long tail being surfaced? Tail items (fewer than $max_interactions
//          interactions) ranked by how many users have them in RECOMMENDED, optionally for
//          one model only.
// Parameters: $max_interactions (int: an item is tail below this count), $model (string, or
//             null for every model), $limit (int: rows returned).
// Returns: item_id, title, interactions (int), recommended_to (distinct users), best_rank
//          (lowest RECOMMENDED rank), most recommended first.
MATCH (u:User)-[r:RECOMMENDED]->(i:Item)
WHERE $model IS NULL OR r.model = $model
WITH i, count(DISTINCT u) AS recommended_to, min(r.rank) AS best_rank
OPTIONAL MATCH (:User)-[x:INTERACTED]->(i)
WITH i, recommended_to, best_rank, count(x) AS interactions
WHERE interactions < $max_interactions
RETURN i.id AS item_id, i.title AS title, interactions, recommended_to, best_rank
ORDER BY recommended_to DESC, interactions, item_id
LIMIT $limit
