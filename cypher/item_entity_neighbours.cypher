// Purpose: items sharing KG entities with a new item (their learned vectors shape its
//          inductive vector), bounded per entity so a hub entity reads a fixed number.
// Parameters: $entity_ids (list of entity ids), $item_id (the new item, excluded),
//             $per_entity (int: items read per entity).
// Returns: item_id, entity_id.
UNWIND $entity_ids AS entity_id
MATCH (e:Entity {id: entity_id})
CALL {
  WITH e
  MATCH (e)--(j:Item)
  WHERE j.id <> $item_id
  RETURN DISTINCT j
  LIMIT $per_entity
}
RETURN j.id AS item_id, e.id AS entity_id
