// Purpose: why an item suits a user: the user's items that share a KG entity with it (kind
//          'entity', one row per distinct item × entity whatever relation or direction links
//          them, the most specific entities first: those linking the fewest items; entities
//          linking more than $max_entity_items items, the hubs such as a language, are left
//          out), and users who interacted with the item and with one of the user's items (kind
//          'user'). Both kinds are anchored on the item (its entities, its first $max_raters
//          raters), so a hub item in the user's history costs nothing extra. Each kind is
//          bounded by $limit.
// Parameters: $user_id (string), $item_id (string: the recommended item), $limit (int: rows
//             per kind), $max_raters (int: raters of the item examined for the 'user' kind),
//             $max_entity_items (int: entities linking more items are not paths; 50 drops the
//             hubs of ml-100k, a large value keeps every entity at the cost of reading hubs).
// Returns: kind ('entity' or 'user'), via_item (the user's item id), via_title, via_id (entity
//          or co-user id), via_name (entity name; null for users), relations (relationship
//          types along the path, user's item side first), support (1 per entity path; for a
//          co-user, how many of the user's items they share; via_item is then the first
//          shared item by id), entity_items (items the entity links, its `itemCount` stored by
//          ingest: lower is more specific; null for users). Entity rows come first, then user rows.
MATCH (u:User {id: $user_id})-[:INTERACTED]->(h:Item)
WITH collect(h.id) AS seen
MATCH (t:Item {id: $item_id})-[r2]-(e:Entity)
WITH seen, t, e, collect(type(r2))[0] AS item_relation, coalesce(e.itemCount, 0) AS entity_items
WHERE entity_items <= $max_entity_items
MATCH (e)-[r1]-(s:Item)
WHERE s <> t AND s.id IN seen
WITH e, item_relation, s, collect(type(r1))[0] AS seed_relation, entity_items
ORDER BY entity_items, s.id, e.id
LIMIT $limit
RETURN 'entity' AS kind, s.id AS via_item, s.title AS via_title, e.id AS via_id,
       e.name AS via_name, [seed_relation, item_relation] AS relations, 1 AS support,
       entity_items
UNION ALL
MATCH (t:Item {id: $item_id})<-[:INTERACTED]-(v:User)
WITH t, v
ORDER BY v.id
LIMIT $max_raters
WITH t, collect(v) AS raters
MATCH (u:User {id: $user_id})-[:INTERACTED]->(s:Item)<-[:INTERACTED]-(v:User)
WHERE v IN raters AND v <> u AND s <> t
WITH DISTINCT v, s
ORDER BY v.id, s.id
WITH v, collect(s) AS shared
WITH v, shared[0] AS s, size(shared) AS support
ORDER BY support DESC, v.id
LIMIT $limit
RETURN 'user' AS kind, s.id AS via_item, s.title AS via_title, v.id AS via_id,
       null AS via_name, ['INTERACTED', 'INTERACTED'] AS relations, support,
       null AS entity_items
