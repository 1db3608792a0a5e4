// Purpose: the original KG relation name stored on relationships of one type (to label new
//          links like the loaded ones).
// Identifiers: {{rel_type}}, a validated KG relationship type.
// Parameters: none.
// Returns: at most one row: relation (string or null).
MATCH (:Item)-[r:{{rel_type}}]->(:Entity)
RETURN r.relation AS relation
LIMIT 1
