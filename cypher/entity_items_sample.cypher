// Purpose: a bounded sample of the items one KG entity links to, by any relation or direction
//          (to caption an entity that has no name by the best-known items it links).
// Parameters: $entity_id (string), $limit (int).
// Returns: item_id, title.
MATCH (e:Entity {id: $entity_id})--(i:Item)
RETURN DISTINCT i.id AS item_id, i.title AS title
LIMIT $limit
