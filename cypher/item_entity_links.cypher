// Purpose: the KG entities each of a set of items links to (by any relationship, once each):
//          the entity sets a new item's KG similarity to its neighbour items is computed from.
// Parameters: $item_ids (list of item ids)
// Returns: item_id, entity_id
UNWIND $item_ids AS item_id
MATCH (i:Item {id: item_id})--(e:Entity)
RETURN DISTINCT i.id AS item_id, e.id AS entity_id
