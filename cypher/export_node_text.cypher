// Purpose: text embeddings of a page of nodes of one label (graph export).
// Parameters: $ids (list of node ids); identifier {{label}}.
// Returns: id (string), vector (list of floats); nodes without textEmbedding are left out.
UNWIND $ids AS node_id
MATCH (n:{{label}} {id: node_id})
WHERE n.textEmbedding IS NOT NULL
RETURN n.id AS id, n.textEmbedding AS vector
