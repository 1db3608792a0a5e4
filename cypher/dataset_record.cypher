// Purpose: record which dataset this graph holds, so a second ingest of another one into the
//   same graph is refused instead of merged (graph.ingest.check_dataset).
// Parameters: $props: map with the dataset's name and its users / items / interactions counts.
// Returns: name.
MERGE (d:TailGraphDataset {id: 'dataset'})
SET d += $props
RETURN d.name AS name
