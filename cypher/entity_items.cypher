// Purpose: items linked to one KG entity (the catalogue fill when recommendations are
//          filtered by that entity), bounded for hub entities.
// Parameters: $entity_id (string), $limit (int: most items returned).
// Returns: item_id, in id order.
MATCH (:Entity {id: $entity_id})--(i:Item)
RETURN DISTINCT i.id AS item_id
ORDER BY item_id
LIMIT $limit
