// Purpose: add one item from the API with its properties and text embedding (MERGE on id;
//          properties are only set when it is created, so a racing duplicate changes nothing).
// Parameters: $item_id (string), $props (map of non-null properties: title, text, year,
//             genres), $text_embedding (list of floats), $text_hash (string).
// Returns: item_id.
MERGE (i:Item {id: $item_id})
ON CREATE SET i += $props, i.textEmbedding = {{vector: $text_embedding}}, i.textHash = $text_hash
RETURN i.id AS item_id
