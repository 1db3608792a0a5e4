// Purpose: write learned `embedding` vectors onto nodes of one label (after training), with
//          `embeddingVersion` the version of the model that computed them.
// Parameters: $rows (list of {id: string, vector: list of floats}), $version (string, or null:
//             unknown); identifier {{label}}.
// REMOVE comes first because FalkorDB 4.16 silently keeps an existing vector on SET.
// Returns: written (number of nodes updated in this batch).
UNWIND $rows AS row
MATCH (n:{{label}} {id: row.id})
REMOVE n.embedding
SET n.embedding = {{vector: row.vector}}, n.embeddingVersion = $version
RETURN count(n) AS written
