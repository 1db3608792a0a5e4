// Purpose: INTERACTED edges of a page of users (graph export).
// Parameters: $ids (list of user ids).
// Returns: user, item (ids), rating (float or null), ts (number or null), one row per edge.
UNWIND $ids AS user_id
MATCH (u:User {id: user_id})-[r:INTERACTED]->(i:Item)
RETURN u.id AS user, i.id AS item, r.rating AS rating, r.ts AS ts
