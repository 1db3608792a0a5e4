// Purpose: how many items link to each of a set of KG entities, not counting one item (the new
//          item being embedded): an entity shared by few items weighs more in KG similarity.
// Parameters: $entity_ids (list of entity ids), $item_id (item left out of the counts)
// Returns: entity_id, degree
UNWIND $entity_ids AS entity_id
MATCH (e:Entity {id: entity_id})--(j:Item)
WHERE j.id <> $item_id
RETURN e.id AS entity_id, count(DISTINCT j) AS degree
