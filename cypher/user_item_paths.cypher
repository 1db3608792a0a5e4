// Purpose: explanation: which of the user's items share which KG entities with the target
//          item, one row per distinct (seed item, entity) pair whatever relation or direction
//          links them, for the target's entities linking between $min_entity_items and
//          $max_entity_items items (the caller asks for specific entities first, hubs only if
//          none link). Anchored on the target's entities and filtered by the user's item ids,
//          so it reads each entity's items once and never the user's whole KG neighbourhood.
// Parameters: $item_id (target item id), $seen (list of the user's item ids),
//             $min_entity_items, $max_entity_items (ints: the entities' `itemCount` range),
//             $max_rows (rows read at most, before ranking in the caller).
// Returns: seed_id, seed_title, seed_relation (a relationship type on the seed side),
//          seed_relation_name (its original KG relation name, may be null), entity_id,
//          entity_name, item_relation, item_relation_name, entity_items (items the entity
//          links to, any relation: its `itemCount`, stored by ingest).
MATCH (t:Item {id: $item_id})-[r2]-(e:Entity)
WITH t, e, collect(r2)[0] AS r2, coalesce(e.itemCount, 0) AS entity_items
WHERE entity_items >= $min_entity_items AND entity_items <= $max_entity_items
MATCH (e)-[r1]-(s:Item)
WHERE s <> t AND s.id IN $seen
WITH e, r2, s, collect(r1)[0] AS r1, entity_items
RETURN s.id AS seed_id, s.title AS seed_title,
       type(r1) AS seed_relation, r1.relation AS seed_relation_name,
       e.id AS entity_id, e.name AS entity_name,
       type(r2) AS item_relation, r2.relation AS item_relation_name, entity_items
ORDER BY entity_items, seed_id, entity_id
LIMIT $max_rows
