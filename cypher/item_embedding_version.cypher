// Purpose: record which model computed an item's learned `embedding` (after write_embeddings
//          replaced it), so only that model is given the stored vector.
// Parameters: $item_id (string), $version (model version, or null: no stored vector).
// Returns: item_id (no rows when there is no such item).
MATCH (i:Item {id: $item_id})
SET i.embeddingVersion = $version
RETURN i.id AS item_id
