// Purpose: which of the given user ids exist (to report users created by a write).
// Parameters: $user_ids (list of user ids).
// Returns: user_id for each existing one.
UNWIND $user_ids AS user_id
MATCH (u:User {id: user_id})
RETURN u.id AS user_id
