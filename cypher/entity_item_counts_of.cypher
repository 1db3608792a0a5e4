// Purpose: refresh `itemCount` (distinct items linked, any relation or direction) on some KG
//          entities, after an item was linked to them.
// Parameters: $entity_ids (list of entity ids).
// Returns: entity_id, items (the new count).
UNWIND $entity_ids AS entity_id
MATCH (e:Entity {id: entity_id})
OPTIONAL MATCH (e)--(i:Item)
WITH e, count(DISTINCT i) AS items
SET e.itemCount = items
RETURN e.id AS entity_id, items
