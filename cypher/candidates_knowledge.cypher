// Purpose: knowledge candidates: items sharing a KG entity with the user's seed items
//          (seed item -[any KG relation]- entity -[any KG relation]- candidate), bounded per
//          seed ($max_entities_per_seed) and per entity ($max_items_per_entity) so hub
//          entities (a genre, a country) cannot blow up the expansion.
// Parameters: $user_id (string), $seeds (list of item ids), $max_entities_per_seed,
//             $max_items_per_entity, $max_candidates (rows returned), $exclude_seen (bool),
//             $exclude (list of item ids to drop). $user_id may name no user.
// Returns: item_id, support (number of seed–entity paths reaching the item), best first.
OPTIONAL MATCH (u:User {id: $user_id})
WITH u
UNWIND $seeds AS seed_id
MATCH (s:Item {id: seed_id})
CALL {
  WITH s
  MATCH (s)-[]-(e:Entity)
  RETURN DISTINCT e
  LIMIT $max_entities_per_seed
}
CALL {
  WITH s, e
  MATCH (e)-[]-(c:Item)
  WHERE c <> s
  RETURN DISTINCT c
  LIMIT $max_items_per_entity
}
WITH u, c, count(*) AS support
WHERE NOT c.id IN $exclude
  AND (NOT $exclude_seen OR u IS NULL OR NOT (u)-[:INTERACTED]->(c))
RETURN c.id AS item_id, support
ORDER BY support DESC, item_id
LIMIT $max_candidates
