// Purpose: users most similar to $user_id by the Jaccard index of their interacted items
//          (shared / union); only users sharing at least one item are returned.
// Parameters: $user_id (string), $limit (int: rows returned).
// Returns: user_id, shared (items both interacted with), union_size (items either did),
//          jaccard (float in (0, 1]), most similar first.
MATCH (u:User {id: $user_id})-[:INTERACTED]->(ui:Item)
WITH u, count(DISTINCT ui) AS user_items
MATCH (u)-[:INTERACTED]->(i:Item)<-[:INTERACTED]-(v:User)
WHERE v <> u
WITH v, user_items, count(DISTINCT i) AS shared
MATCH (v)-[:INTERACTED]->(vi:Item)
WITH v, user_items, shared, count(DISTINCT vi) AS other_items
WITH v, shared, user_items + other_items - shared AS union_size
RETURN v.id AS user_id, shared, union_size, toFloat(shared) / union_size AS jaccard
ORDER BY jaccard DESC, shared DESC, user_id
LIMIT $limit
