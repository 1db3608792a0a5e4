// Purpose: explanation: which of the user's items share which KG entities with the target
//          item, one row per distinct (seed item, entity) pair whatever relation or direction
//          links them, with how many items each entity links (its specificity). Anchored on
//          the target's few entities, so a hub item in the user's history costs nothing extra.
// Parameters: $user_id (string), $item_id (target item id), $max_rows (rows read at most,
//             before ranking in the caller).
// Returns: seed_id, seed_title, seed_relation (a relationship type on the seed side),
//          seed_relation_name (its original KG relation name, may be null), entity_id,
//          entity_name, item_relation, item_relation_name, entity_items (items the entity
//          links to, any relation: its `itemCount`, stored by ingest).
MATCH (t:Item {id: $item_id})-[r2]-(e:Entity)
WITH t, e, collect(r2)[0] AS r2
MATCH (u:User {id: $user_id})-[:INTERACTED]->(s:Item)-[r1]-(e)
WHERE s <> t
WITH t, e, r2, s, collect(r1)[0] AS r1
WITH e, r2, s, r1, coalesce(e.itemCount, 0) AS entity_items
RETURN s.id AS seed_id, s.title AS seed_title,
       type(r1) AS seed_relation, r1.relation AS seed_relation_name,
       e.id AS entity_id, e.name AS entity_name,
       type(r2) AS item_relation, r2.relation AS item_relation_name, entity_items
ORDER BY entity_items, seed_id, entity_id
LIMIT $max_rows
