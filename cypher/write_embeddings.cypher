// Purpose: write learned `embedding` vectors onto nodes of one label (after training).
// Parameters: $rows (list of {id: string, vector: list of floats}); identifier {{label}}.
// REMOVE comes first because FalkorDB 4.16 silently keeps an existing vector on SET.
// Returns: written (number of nodes updated in this batch).
UNWIND $rows AS row
MATCH (n:{{label}} {id: row.id})
REMOVE n.embedding
SET n.embedding = {{vector: row.vector}}
RETURN count(n) AS written
