// Purpose: one page of node ids of one label, in a stable order (graph export).
// Parameters: $skip (int), $limit (int); identifier {{label}} (User, Item or Entity).
// Returns: id (string), one row per node, ordered by id.
MATCH (n:{{label}})
RETURN n.id AS id
ORDER BY id
SKIP $skip LIMIT $limit
