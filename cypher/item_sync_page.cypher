// Purpose: one page of every item (keyset paging by id), with what a serving worker needs to
//          match its loaded models to the store: whether the item was added through the API
//          (`payloadHash`) and is completely written, and then its learned `embedding` and the
//          version of the model that computed it.
// Parameters: $after (string: last id of the previous page, '' for the first page),
//             $limit (int: page size).
// Returns: id, api (added through the API and not pending), embedding (list of floats, or null;
//          only for api items), version (model version of the embedding, or null), ordered by id.
MATCH (i:Item)
WHERE i.id > $after
WITH i, i.payloadHash IS NOT NULL AND i.pendingWrite IS NULL AS api
RETURN i.id AS id, api,
       CASE WHEN api THEN i.embedding ELSE null END AS embedding,
       CASE WHEN api THEN i.embeddingVersion ELSE null END AS version
ORDER BY id
LIMIT $limit
