// Purpose: explanation: how many users interacted with the target item and also with at
//          least one of this user's items; reads at most $max_raters raters of the target
//          (bounded for hub items), then walks from the user's items to their raters.
// Parameters: $user_id (string), $item_id (target item id), $max_raters (raters examined).
// Returns: one row: raters (raters examined, <= $max_raters), co_users (of those, how many
//          share an item with the user).
MATCH (t:Item {id: $item_id})
OPTIONAL MATCH (t)<-[:INTERACTED]-(v:User)
WHERE v.id <> $user_id
WITH t, v
ORDER BY v.id
LIMIT $max_raters
WITH t, collect(v) AS raters
OPTIONAL MATCH (u:User {id: $user_id})-[:INTERACTED]->(s:Item)<-[:INTERACTED]-(w:User)
WHERE w IN raters AND s <> t
RETURN size(raters) AS raters, count(DISTINCT w) AS co_users
