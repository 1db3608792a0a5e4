// Purpose: collaborative candidates: items interacted with by users who share seed items
//          with this user (user -> seed item <- co-user -> candidate), bounded at every hop
//          so a hub item with 100k raters reads at most $max_co_users of them.
// Parameters: $user_id (string), $seeds (list of item ids: the user's most recent /
//             top-rated items), $max_co_users (co-users read per seed), $max_items_per_co_user
//             (items read per co-user), $max_candidates (rows returned), $exclude_seen (bool:
//             drop items the user already interacted with), $exclude (short list of item
//             ids to drop). $user_id may name no user (an anonymous profile's seeds).
// Returns: item_id, support (distinct co-users reaching the item), best support first.
OPTIONAL MATCH (u:User {id: $user_id})
WITH u
UNWIND $seeds AS seed_id
MATCH (s:Item {id: seed_id})
CALL {
  WITH s
  MATCH (s)<-[:INTERACTED]-(v:User)
  WHERE v.id <> $user_id
  RETURN v
  LIMIT $max_co_users
}
CALL {
  WITH v
  MATCH (v)-[:INTERACTED]->(c:Item)
  RETURN c
  LIMIT $max_items_per_co_user
}
WITH u, c, count(DISTINCT v) AS support
WHERE NOT c.id IN $exclude
  AND (NOT $exclude_seen OR u IS NULL OR NOT (u)-[:INTERACTED]->(c))
RETURN c.id AS item_id, support
ORDER BY support DESC, item_id
LIMIT $max_candidates
