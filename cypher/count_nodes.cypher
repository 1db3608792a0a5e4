// Purpose: number of nodes per label (after ingest, for reports and `tailgraph db status`).
// Parameters: none.
// Returns: one row per label: label, count.
MATCH (n)
UNWIND labels(n) AS label
RETURN label, count(*) AS count
ORDER BY label
