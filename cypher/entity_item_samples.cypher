// Purpose: a few of the items each of some KG entities links to (to caption entities that
//          have no name by the best-known items they link).
// Parameters: $entity_ids (list of entity ids), $limit (int: items read per entity).
// Returns: entity_id, items (list of {item_id, title}, at most $limit).
UNWIND $entity_ids AS entity_id
MATCH (e:Entity {id: entity_id})--(i:Item)
WITH e, collect(DISTINCT {item_id: i.id, title: i.title}) AS items
RETURN e.id AS entity_id, items[0..$limit] AS items
