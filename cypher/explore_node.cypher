// Purpose: /explore - the node at the centre of the view (existence check and its properties).
// Placeholders: {{label}} is User or Item (validated by the caller).
// Parameters: $id (string, the node's id)
// Returns: node (the whole node; the caller drops vectors and other bulky properties)
MATCH (n:{{label}} {id: $id})
RETURN n AS node
LIMIT 1
