// Purpose: keep only the candidate items linked to one KG entity (any relationship type or
//          direction); anchored on the candidates, so a hub entity costs nothing extra.
// Parameters: $item_ids (list of item ids), $entity_id (string).
// Returns: item_id for each of $item_ids linked to the entity.
UNWIND $item_ids AS item_id
MATCH (i:Item {id: item_id})
WHERE (i)--(:Entity {id: $entity_id})
RETURN DISTINCT i.id AS item_id
