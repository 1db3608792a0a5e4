// Purpose: every (relationship type, head labels, tail labels) pattern in the graph.
// Parameters: none.
// Returns: type (string), head_labels (list of strings), tail_labels (list of strings).
MATCH (h)-[r]->(t)
RETURN DISTINCT type(r) AS type, labels(h) AS head_labels, labels(t) AS tail_labels
