// Purpose: one page of the text embeddings of a label (keyset paging by id), for export.
// Parameters: $after (string: last id of the previous page, '' for the first page),
//   $limit (int: page size).
// Identifiers: {{label}} (User, Item or Entity).
// Returns: id, embedding (list of floats), title (null where the label has none), only for
//          nodes that have an embedding.
MATCH (n:{{label}})
WHERE n.id > $after AND n.textEmbedding IS NOT NULL
RETURN n.id AS id, n.textEmbedding AS embedding, n.title AS title
ORDER BY id
LIMIT $limit
