// Purpose: what a new item's KG similarity to each candidate item needs, aggregated in the
//          store: one row per candidate (not one per link) with the stored `itemCount` of
//          every entity it links to (for its weight norm) and which of the new item's
//          entities it shares. Reads each candidate's own links only, never a hub's.
// Parameters: $item_ids (list of candidate item ids), $entity_ids (the new item's entities).
// Returns: item_id, degrees (list of ints, one per distinct linked entity), shared (list of
//          entity ids among $entity_ids).
UNWIND $item_ids AS item_id
MATCH (i:Item {id: item_id})--(e:Entity)
WITH DISTINCT i, e
RETURN i.id AS item_id, collect(coalesce(e.itemCount, 0)) AS degrees,
       [x IN collect(e.id) WHERE x IN $entity_ids] AS shared
