// Purpose: which dataset `tailgraph ingest` wrote into this graph (one marker node, if any),
//   and whether the graph holds items without such a record (an earlier or API-only write).
// Parameters: none.
// Returns: one row: name (null when unrecorded), users, items, interactions, stored_items.
OPTIONAL MATCH (d:TailGraphDataset)
WITH d LIMIT 1
OPTIONAL MATCH (i:Item)
RETURN d.name AS name, d.users AS users, d.items AS items, d.interactions AS interactions,
       count(i) AS stored_items
