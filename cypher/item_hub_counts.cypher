// Purpose: explanation fallback: the distinct `itemCount`s of the target item's hub entities
//          (those linking at least $min_entity_items items), smallest first, so the caller
//          reads the least general hubs first and stops once it has enough paths.
// Parameters: $item_id (target item id), $min_entity_items (int: the hub threshold).
// Returns: entity_items (one row per distinct itemCount, ascending).
MATCH (:Item {id: $item_id})--(e:Entity)
WITH DISTINCT coalesce(e.itemCount, 0) AS entity_items
WHERE entity_items >= $min_entity_items
RETURN entity_items
ORDER BY entity_items
