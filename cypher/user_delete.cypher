// Purpose: erase a user (privacy): the node and every relationship it has (INTERACTED,
//          RECOMMENDED, anything else).
// Parameters: $user_id (string).
// Returns: one row (relationships: how many were deleted with the user) when the user
//          existed; no rows otherwise.
MATCH (u:User {id: $user_id})
OPTIONAL MATCH (u)-[r]-()
WITH u, count(r) AS relationships
DETACH DELETE u
RETURN relationships
