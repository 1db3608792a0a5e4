// Purpose: titles of items (also an existence check: unknown ids return no row).
// Parameters: $item_ids (list of item ids).
// Returns: item_id, title (null when the item has none), year (null when unknown).
UNWIND $item_ids AS item_id
MATCH (i:Item {id: item_id})
RETURN i.id AS item_id, i.title AS title, i.year AS year
