// Purpose: delete an item with every relationship it has (interactions, KG links,
//          recommendations); returns the KG entities it linked, whose `itemCount` the caller
//          then refreshes.
// Parameters: $item_id (string).
// Returns: one row (entity_ids, relationships) when the item existed; no rows otherwise.
MATCH (i:Item {id: $item_id})
OPTIONAL MATCH (i)-[r]-(n)
WITH i, count(r) AS relationships,
     [x IN collect(DISTINCT n) WHERE 'Entity' IN labels(x) | x.id] AS entity_ids
DETACH DELETE i
RETURN entity_ids, relationships
