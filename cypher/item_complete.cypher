// Purpose: mark an item added from the API as completely written (its KG links are in place).
// Parameters: $item_id (string).
// Returns: item_id.
MATCH (i:Item {id: $item_id})
REMOVE i.pendingWrite
RETURN i.id AS item_id
