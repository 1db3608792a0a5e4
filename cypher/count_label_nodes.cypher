// Purpose: how many nodes carry a label (progress totals).
// Parameters: none.
// Identifiers: {{label}} (User, Item or Entity).
// Returns: count (int).
MATCH (n:{{label}})
RETURN count(n) AS count
