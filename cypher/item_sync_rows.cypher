// Purpose: what a serving worker needs to give its loaded models and text index the current
//          state of items another worker wrote: properties, vectors and KG entities.
// Parameters: $item_ids (list of item ids).
// Returns: one row per item that exists: id, title, api (added through the API and not
//          pending), pending (a write of it is under way), text_embedding, embedding, version
//          (model version of the embedding), entity_ids (the KG entities it links to).
UNWIND $item_ids AS item_id
MATCH (i:Item {id: item_id})
OPTIONAL MATCH (i)--(e:Entity)
WITH i, collect(DISTINCT e.id) AS entity_ids
RETURN i.id AS id, i.title AS title,
       i.payloadHash IS NOT NULL AND i.pendingWrite IS NULL AS api,
       i.pendingWrite IS NOT NULL AS pending,
       i.textEmbedding AS text_embedding, i.embedding AS embedding,
       i.embeddingVersion AS version, entity_ids
