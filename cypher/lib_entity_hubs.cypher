// Purpose: KG hub entities: the entities linked to the most items, counted per relationship
//          type (a director's DIRECTED_BY items apart from their STARRING items). Hubs are
//          what candidate expansion must bound.
// Parameters: $limit (int: rows returned).
// Returns: entity_id, name, relation (relationship type), items (distinct linked items),
//          largest first.
MATCH (i:Item)-[r]-(e:Entity)
WITH e, type(r) AS relation, count(DISTINCT i) AS items
RETURN e.id AS entity_id, e.name AS name, relation, items
ORDER BY items DESC, entity_id, relation
LIMIT $limit
