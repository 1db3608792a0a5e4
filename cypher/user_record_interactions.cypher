// Purpose: record interactions posted to the API: MERGE the user (created when new) and one
//          INTERACTED relationship per (user, item); a repeated post updates it (latest ts
//          wins, a missing rating keeps the stored one). `recorded` (server time) lets serving
//          fold interactions newer than the model into the user's vector without retraining.
//          Each user is written first (on Neo4j that locks it until commit), so concurrent
//          posts for one user run one after the other and the counts say what this statement
//          itself created; the marker properties are removed before it ends.
// Parameters: $users (sorted list of the rows' distinct user ids: a fixed lock order);
//             $rows: list of {user: string, item: string, rating: float|null, ts: float}, one
//             per distinct (user, item); $recorded (float: epoch seconds); $token (string, unique
//             per call). Items must exist (rows for missing items are skipped; the caller checks).
// Returns: written (relationships created or updated), created (of those, new ones),
//          users_created (users that did not exist before).
UNWIND $users AS user_id
MERGE (u:User {id: user_id})
ON CREATE SET u.tgCreatedBy = $token
SET u.tgLockedBy = $token
WITH count(u) AS locked
UNWIND $rows AS row
MATCH (u:User {id: row.user})
MATCH (i:Item {id: row.item})
OPTIONAL MATCH (u)-[old:INTERACTED]->(i)
WITH u, i, row, count(old) AS before
MERGE (u)-[r:INTERACTED]->(i)
SET r.rating = coalesce(row.rating, r.rating), r.ts = row.ts, r.recorded = $recorded
WITH count(r) AS written,
     sum(CASE WHEN before = 0 THEN 1 ELSE 0 END) AS created,
     count(DISTINCT CASE WHEN u.tgCreatedBy = $token THEN u.id END) AS users_created,
     collect(DISTINCT u) AS users
FOREACH (u IN users | REMOVE u.tgCreatedBy, u.tgLockedBy)
RETURN written, created, users_created
