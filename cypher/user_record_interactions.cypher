// Purpose: record interactions posted to the API: MERGE the user (created when new) and one
//          INTERACTED relationship per (user, item); a repeated post updates it (latest ts
//          wins, a missing rating keeps the stored one). `recorded` (server time) lets serving
//          fold interactions newer than the model into the user's vector without retraining.
// Parameters: $rows: list of {user: string, item: string, rating: float|null, ts: float};
//             $recorded (float: epoch seconds). Items must exist (rows for missing items are
//             skipped; the caller checks first).
// Returns: written (relationships created or updated).
UNWIND $rows AS row
MATCH (i:Item {id: row.item})
MERGE (u:User {id: row.user})
MERGE (u)-[r:INTERACTED]->(i)
SET r.rating = coalesce(row.rating, r.rating), r.ts = row.ts, r.recorded = $recorded
RETURN count(r) AS written
