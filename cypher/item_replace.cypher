// Purpose: PUT /items, first step, in one statement: give an existing item new properties
//          and text vector (absent properties removed), remove its learned `embedding` (the
//          caller writes the new one next, with write_embeddings: FalkorDB 4.16 can keep the
//          old vector when it is set here), mark it `pendingWrite` with this call's token until
//          its new KG links are written (item_complete), and remove its KG links.
//          REMOVE before SET: FalkorDB silently keeps an existing vector on SET.
// Parameters: $item_id, $title, $text (string or null), $year (int or null), $genres (list
//             or null), $text_embedding (list of floats or null), $text_hash, $payload_hash,
//             $token (string or null), $version (the version of the model whose vector the
//             caller writes next, or null).
// Returns: at most one row: entity_ids (the entities it linked before, whose `itemCount`
//          the caller refreshes).
MATCH (i:Item {id: $item_id})
REMOVE i.textEmbedding, i.embedding
SET i.title = $title, i.text = $text, i.year = $year, i.genres = $genres,
    i.textEmbedding = CASE WHEN $text_embedding IS NULL THEN null
                           ELSE {{vector: $text_embedding}} END,
    i.textHash = $text_hash, i.payloadHash = $payload_hash, i.pendingWrite = $token,
    i.embeddingVersion = $version
WITH i
OPTIONAL MATCH (i)-[r]-(e:Entity)
DELETE r
RETURN collect(DISTINCT e.id) AS entity_ids
