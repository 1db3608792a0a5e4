// Purpose: the original KG relation name stored on relationships of one type, read next to
//          the entities a new item links to (an index lookup and their links, instead of a
//          scan of every item), in either direction; item_relation_name is the fallback when
//          none of them has such a link.
// Identifiers: {{rel_type}}, a validated KG relationship type.
// Parameters: $entity_ids (list of entity ids).
// Returns: at most one row: relation (string or null).
UNWIND $entity_ids AS entity_id
MATCH (:Entity {id: entity_id})-[r:{{rel_type}}]-(:Item)
RETURN r.relation AS relation
LIMIT 1
