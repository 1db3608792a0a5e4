// Purpose: write learned `embedding` vectors onto nodes of one label (after training).
// Parameters: $rows (list of {id: string, vector: list of floats}); identifier {{label}}.
// Returns: written (number of nodes updated in this batch).
UNWIND $rows AS row
MATCH (n:{{label}} {id: row.id})
SET n.embedding = {{vector: row.vector}}
RETURN count(n) AS written
