// Purpose: everything PUT /items may replace on an item, read before it writes, so a replace
//          that fails part-way can put the previous version back: its properties, vectors,
//          markers and KG links (type, entity, relation name, direction).
// Parameters: $item_id (string).
// Returns: at most one row: title, text, year, genres, text_embedding, text_hash,
//          payload_hash, pending, embedding, embedding_version, links (list of {type, entity_id, relation,
//          outgoing}).
MATCH (i:Item {id: $item_id})
OPTIONAL MATCH (i)-[r]-(e:Entity)
WITH i, collect({type: type(r), entity_id: e.id, relation: r.relation,
                 outgoing: id(startNode(r)) = id(i)}) AS links
RETURN i.title AS title, i.text AS text, i.year AS year, i.genres AS genres,
       i.textEmbedding AS text_embedding, i.textHash AS text_hash,
       i.payloadHash AS payload_hash, i.pendingWrite AS pending, i.embedding AS embedding,
       i.embeddingVersion AS embedding_version,
       [l IN links WHERE l.type IS NOT NULL] AS links
