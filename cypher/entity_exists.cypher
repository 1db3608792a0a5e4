// Purpose: existence check for KG entities (recommendation filter, new-item links).
// Parameters: $entity_ids (list of entity ids).
// Returns: entity_id for each one that exists.
UNWIND $entity_ids AS entity_id
MATCH (e:Entity {id: entity_id})
RETURN e.id AS entity_id
