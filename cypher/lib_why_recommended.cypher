// Purpose: why an item suits a user: KG paths from the user's items to the item through a
//          shared entity (kind 'entity'), and users who interacted with one of the user's items
//          and with the item (kind 'user'). Each kind is bounded by $limit.
// Parameters: $user_id (string), $item_id (string: the recommended item), $limit (int: rows
//             per kind).
// Returns: kind ('entity' or 'user'), via_item (the user's item id), via_title, via_id (entity
//          or co-user id), via_name (entity name; null for users), relations (relationship
//          types along the path, user's item side first), support (1 per entity path; for a
//          co-user, how many of the user's items they share; via_item is then the first
//          shared item by id). Entity rows come first, then user rows.
MATCH (u:User {id: $user_id})-[:INTERACTED]->(s:Item)-[r1]-(e:Entity)
      -[r2]-(t:Item {id: $item_id})
WHERE s <> t
WITH s, e, type(r1) AS seed_relation, type(r2) AS item_relation
ORDER BY s.id, e.id, seed_relation, item_relation
LIMIT $limit
RETURN 'entity' AS kind, s.id AS via_item, s.title AS via_title, e.id AS via_id,
       e.name AS via_name, [seed_relation, item_relation] AS relations, 1 AS support
UNION ALL
MATCH (u:User {id: $user_id})-[:INTERACTED]->(s:Item)<-[:INTERACTED]-(v:User)
      -[:INTERACTED]->(t:Item {id: $item_id})
WHERE v <> u AND s <> t
WITH DISTINCT v, s
ORDER BY v.id, s.id
WITH v, collect(s) AS shared
WITH v, shared[0] AS s, size(shared) AS support
ORDER BY support DESC, v.id
LIMIT $limit
RETURN 'user' AS kind, s.id AS via_item, s.title AS via_title, v.id AS via_id,
       null AS via_name, ['INTERACTED', 'INTERACTED'] AS relations, support
