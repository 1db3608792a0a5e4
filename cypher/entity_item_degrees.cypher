// Purpose: how many items link to each of a set of KG entities, not counting one item (the new
//          item being embedded): an entity shared by few items weighs more in KG similarity.
//          Reads the `itemCount` ingest stores (kept fresh by POST /items), so a hub entity
//          costs no more than any other.
// Parameters: $entity_ids (list of entity ids), $item_id (item left out of the counts)
// Returns: entity_id, degree
UNWIND $entity_ids AS entity_id
MATCH (e:Entity {id: entity_id})
OPTIONAL MATCH (e)--(j:Item {id: $item_id})
WITH e, coalesce(e.itemCount, 0) AS items, count(DISTINCT j) AS itself
RETURN e.id AS entity_id, items - itself AS degree
