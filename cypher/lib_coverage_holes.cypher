// Purpose: catalogue coverage holes: items that no user has in RECOMMENDED (by any model),
//          with how often they were interacted with, the most interacted first (the items
//          the recommender most clearly ignores).
// Parameters: $limit (int: rows returned).
// Returns: item_id, title, interactions (int).
MATCH (i:Item)
WHERE NOT (i)<-[:RECOMMENDED]-(:User)
OPTIONAL MATCH (:User)-[x:INTERACTED]->(i)
WITH i, count(x) AS interactions
RETURN i.id AS item_id, i.title AS title, interactions
ORDER BY interactions DESC, item_id
LIMIT $limit
