// Purpose: link entities to an item with one relationship type pointing at the item
//          (idempotent): how PUT /items restores the incoming KG links of an item it could
//          not replace (item_link_entities writes the outgoing ones).
// Identifiers: {{rel_type}}, a KG relationship type already present in the graph.
// Parameters: $item_id (string), $entity_ids (list of entity ids), $relation (original KG
//             relation name of this type, may be null).
// Returns: written (relationships merged).
MATCH (i:Item {id: $item_id})
UNWIND $entity_ids AS entity_id
MATCH (e:Entity {id: entity_id})
MERGE (e)-[r:{{rel_type}}]->(i)
SET r.relation = $relation
RETURN count(r) AS written
