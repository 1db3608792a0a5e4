// Purpose: edges of one KG relationship type leaving a page of head nodes (graph export).
// Parameters: $ids (list of head node ids); identifiers {{head}}, {{type}}, {{tail}}.
// Returns: head, tail (ids), one row per edge.
UNWIND $ids AS head_id
MATCH (h:{{head}} {id: head_id})-[:{{type}}]->(t:{{tail}})
RETURN h.id AS head, t.id AS tail
