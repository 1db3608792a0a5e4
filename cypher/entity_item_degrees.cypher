// Purpose: how many items link to each of a set of KG entities: an entity shared by few items
//          weighs more in KG similarity. Reads the `itemCount` ingest stores (kept fresh by
//          POST /items, which computes a new item's vector before writing it, so the item is
//          not among the counts), so a hub entity costs no more than any other.
// Parameters: $entity_ids (list of entity ids)
// Returns: entity_id, degree
UNWIND $entity_ids AS entity_id
MATCH (e:Entity {id: entity_id})
RETURN e.id AS entity_id, coalesce(e.itemCount, 0) AS degree
