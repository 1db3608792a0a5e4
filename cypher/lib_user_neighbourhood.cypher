// Purpose: a user's neighbourhood for exploration: the items they interacted with (highest
//          rated first), each item's KG entities and the other users who interacted with it.
//          Every list is bounded by $limit so hub items and hub entities stay cheap.
// Parameters: $user_id (string), $limit (int: items returned, and entities / co-users per item).
// Returns: item_id, title, rating (float or null), entities (list of {relation, id, name},
//          ordered by relation then id), co_users (list of user ids, ascending).
MATCH (u:User {id: $user_id})-[r:INTERACTED]->(i:Item)
WITH u, i, r
ORDER BY coalesce(r.rating, 0.0) DESC, i.id
LIMIT $limit
CALL {
  WITH i
  MATCH (i)-[k]-(e:Entity)
  WITH k, e
  ORDER BY type(k), e.id
  LIMIT $limit
  RETURN collect({relation: type(k), id: e.id, name: e.name}) AS entities
}
CALL {
  WITH u, i
  MATCH (i)<-[:INTERACTED]-(v:User)
  WHERE v <> u
  WITH v
  ORDER BY v.id
  LIMIT $limit
  RETURN collect(v.id) AS co_users
}
RETURN i.id AS item_id, i.title AS title, r.rating AS rating, entities, co_users
ORDER BY coalesce(rating, 0.0) DESC, item_id
