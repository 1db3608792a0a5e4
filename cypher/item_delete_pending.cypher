// Purpose: undo a POST /items cut short: delete the item only while it is still marked with
//          the failed call's `pendingWrite` token (a retry that finished it meanwhile keeps
//          it); returns the KG entities it linked, whose `itemCount` the caller refreshes.
// Parameters: $item_id (string), $token (the failed call's token).
// Returns: one row (entity_ids) when it was deleted; no rows otherwise.
MATCH (i:Item {id: $item_id})
WHERE i.pendingWrite = $token
OPTIONAL MATCH (i)--(e:Entity)
WITH i, collect(DISTINCT e.id) AS entity_ids
DETACH DELETE i
RETURN entity_ids
