// Purpose: add one item from the API with its properties, text embedding and (when it has one)
//          learned embedding, in one statement. MERGE on id: only the call whose $token it
//          stores created it (a racing or repeated call changes nothing and learns so). The
//          item stays marked `pendingWrite` until its KG links are written (item_complete), so
//          a write cut short is recognised and finished or replaced by the next call.
// Parameters: $item_id (string), $props (map of non-null properties: title, text, year,
//             genres), $text_embedding (list of floats), $text_hash (string), $payload_hash
//             (string: hash of the request body), $token (string, unique per call),
//             $embedding (list of floats, or null: no learned vector yet), $version (the
//             version of the model that computed $embedding: only that model may serve it).
// Returns: created (this call created it), payload_hash, pending (links not yet complete).
MERGE (i:Item {id: $item_id})
ON CREATE SET i += $props, i.textEmbedding = {{vector: $text_embedding}}, i.textHash = $text_hash,
              i.payloadHash = $payload_hash, i.pendingWrite = $token,
              i.embedding = CASE WHEN $embedding IS NULL THEN null ELSE {{vector: $embedding}} END,
              i.embeddingVersion = CASE WHEN $embedding IS NULL THEN null ELSE $version END
RETURN i.pendingWrite = $token AS created, i.payloadHash AS payload_hash,
       i.pendingWrite IS NOT NULL AS pending
