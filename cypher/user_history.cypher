// Purpose: a user's interaction history (existence check + seen items + expansion seeds).
// Parameters: $user_id (string).
// Returns: one row per interacted item: user_id, item_id, rating, ts, recorded (server time
//          the API recorded the interaction; null for bulk-loaded ones); one row with
//          item_id = null when the user exists but has no interactions; no rows when the
//          user does not exist.
MATCH (u:User {id: $user_id})
OPTIONAL MATCH (u)-[r:INTERACTED]->(i:Item)
RETURN u.id AS user_id, i.id AS item_id, r.rating AS rating, r.ts AS ts, r.recorded AS recorded
