// Purpose: create or update nodes of one label by id (idempotent: MERGE on id, then SET +=).
// Identifiers: {{label}} is User, Item or Entity.
// Parameters: $rows: list of {id: string, props: map of non-null properties}.
// Returns: written (number of rows merged).
UNWIND $rows AS row
MERGE (n:{{label}} {id: row.id})
SET n += row.props
RETURN count(n) AS written
