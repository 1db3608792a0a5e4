// Purpose: create KG relationships of one type between existing nodes (idempotent).
// Identifiers: {{head_label}} and {{tail_label}} are node labels; {{rel_type}} is a relationship
//   type produced by tailgraph.graph.schema.relationship_types.
// Parameters: $relation: the source relation name, kept in the `relation` property;
//   $rows: list of {head: string, tail: string} node ids.
// Returns: written (number of relationships merged).
UNWIND $rows AS row
MATCH (h:{{head_label}} {id: row.head})
MATCH (t:{{tail_label}} {id: row.tail})
MERGE (h)-[r:{{rel_type}}]->(t)
SET r.relation = $relation
RETURN count(r) AS written
