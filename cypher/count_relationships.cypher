// Purpose: number of relationships per type (INTERACTED, RECOMMENDED and every KG type).
// Parameters: none.
// Returns: one row per type: type, count.
MATCH ()-[r]->()
RETURN type(r) AS type, count(r) AS count
ORDER BY type
