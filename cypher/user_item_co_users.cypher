// Purpose: explanation: how many users interacted with the target item and also with at
//          least one of this user's items; reads at most $max_raters raters of the target
//          (bounded for hub items).
// Parameters: $user_id (string), $item_id (target item id), $max_raters (raters examined).
// Returns: one row: raters (raters examined, <= $max_raters), co_users (of those, how many
//          share an item with the user).
MATCH (u:User {id: $user_id}), (t:Item {id: $item_id})
CALL {
  WITH t, u
  MATCH (t)<-[:INTERACTED]-(v:User)
  WHERE v <> u
  RETURN v
  LIMIT $max_raters
}
WITH u, v
OPTIONAL MATCH (v)-[:INTERACTED]->(s:Item)<-[:INTERACTED]-(u)
WITH v, count(s) AS shared
RETURN count(v) AS raters, sum(CASE WHEN shared > 0 THEN 1 ELSE 0 END) AS co_users
