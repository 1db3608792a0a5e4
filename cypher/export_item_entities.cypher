// Purpose: every (item, KG entity) link, any relationship type or direction (the knowledge
//          neighbours precomputed for serving, see tailgraph.api.neighbours).
// Parameters: none.
// Returns: item_id, entity_id; one row per distinct linked pair.
MATCH (i:Item)--(e:Entity)
RETURN DISTINCT i.id AS item_id, e.id AS entity_id
