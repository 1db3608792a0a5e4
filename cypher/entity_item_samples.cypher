// Purpose: a few of the items each of some KG entities links to (to caption entities that
//          have no name by the best-known items they link); reads at most $limit links per
//          entity, so a hub costs no more than a specific entity.
// Parameters: $entity_ids (list of entity ids), $limit (int: items read per entity).
// Returns: entity_id, items (list of {item_id, title}, at most $limit).
UNWIND $entity_ids AS entity_id
MATCH (e:Entity {id: entity_id})
CALL {
  WITH e
  MATCH (e)--(i:Item)
  RETURN DISTINCT i
  LIMIT $limit
}
WITH e, collect({item_id: i.id, title: i.title}) AS items
RETURN e.id AS entity_id, items
