// Purpose: replace one model's RECOMMENDED relationships for a batch of users.
//   Each statement is one transaction, so every user's list switches from the old version to
//   the new one atomically; other models' recommendations are left alone.
// Parameters: $rows (list of {user: string, items: list of {item: string, score: float,
//   rank: int}}), $model (string: model name), $version (string: model version).
// Returns: written (number of RECOMMENDED relationships created in this batch).
UNWIND $rows AS row
MATCH (u:User {id: row.user})
OPTIONAL MATCH (u)-[old:RECOMMENDED {model: $model}]->(:Item)
DELETE old
WITH DISTINCT u, row
UNWIND row.items AS rec
MATCH (i:Item {id: rec.item})
CREATE (u)-[r:RECOMMENDED {score: rec.score, rank: rec.rank, model: $model, version: $version}]->(i)
RETURN count(r) AS written
