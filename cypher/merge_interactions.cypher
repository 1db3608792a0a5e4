// Purpose: create or update (:User)-[:INTERACTED {rating, ts}]->(:Item) edges (idempotent).
// Parameters: $rows: list of {user: string, item: string, rating: float|null, ts: float|null};
//   both endpoints must already exist (rows whose endpoints are missing are skipped).
// Returns: written (number of relationships merged).
UNWIND $rows AS row
MATCH (u:User {id: row.user})
MATCH (i:Item {id: row.item})
MERGE (u)-[r:INTERACTED]->(i)
SET r.rating = row.rating, r.ts = row.ts
RETURN count(r) AS written
