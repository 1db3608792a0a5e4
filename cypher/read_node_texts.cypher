// Purpose: one page of nodes of a label with the properties text is built from (keyset paging
//   by id); vector properties are left out so 384-float embeddings never travel back.
// Parameters: $after (string: last id of the previous page, '' for the first page),
//   $limit (int: page size), $skip (list of property names not to return).
// Identifiers: {{label}} (User, Item or Entity).
// Returns: id, textHash (null when never encoded), props (list of [key, value] pairs).
MATCH (n:{{label}})
WHERE n.id > $after
RETURN n.id AS id, n.textHash AS textHash,
       [k IN keys(n) WHERE NOT k IN $skip | [k, n[k]]] AS props
ORDER BY id
LIMIT $limit
