"""Graph stores (embedded FalkorDB, Neo4j), schema, loaders, ingest and export."""
