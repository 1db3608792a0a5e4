// Purpose: link a new item to existing KG entities with one relationship type (idempotent).
// Identifiers: {{rel_type}}, a KG relationship type already present in the graph.
// Parameters: $item_id (string), $entity_ids (list of entity ids), $relation (original KG
//             relation name of this type, may be null).
// Returns: written (relationships merged).
MATCH (i:Item {id: $item_id})
UNWIND $entity_ids AS entity_id
MATCH (e:Entity {id: entity_id})
MERGE (i)-[r:{{rel_type}}]->(e)
SET r.relation = $relation
RETURN count(r) AS written
