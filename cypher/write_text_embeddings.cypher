// Purpose: store text embeddings and the hash of the text they were computed from.
// Parameters: $rows (list of {id: string, embedding: string, hash: string}); embedding is the
//   vector as comma-separated decimals ('%.9g', exact for float32). One string per vector,
//   because the FalkorDB client inlines parameters into the query text and formatting 384
//   floats one by one there halves write throughput (measured: ~1.9k vs ~3.5k nodes/s).
//   REMOVE comes first because FalkorDB 4.16 silently keeps an existing vector on SET.
// Identifiers: {{label}} (User, Item or Entity).
// Returns: written (number of nodes updated).
UNWIND $rows AS row
MATCH (n:{{label}} {id: row.id})
REMOVE n.textEmbedding
SET n.textEmbedding = {{vector: [x IN split(row.embedding, ',') | toFloat(x)]}},
    n.textHash = row.hash
RETURN count(n) AS written
