// Purpose: every item's title, read once when the service starts (the in-memory title map).
// Parameters: none.
// Returns: item_id, title (null when the item has none), year (null when unknown).
MATCH (i:Item)
RETURN i.id AS item_id, i.title AS title, i.year AS year
