// Purpose: the relationship types in the graph (the validated set new KG links may use,
//          after INTERACTED and RECOMMENDED are removed by the caller).
// Parameters: none.
// Returns: type (string).
CALL db.relationshipTypes() YIELD relationshipType
RETURN relationshipType AS type
