// Purpose: /explore search box - users whose id contains the search text (case-insensitive).
// Parameters: $q (string, already lower-cased), $limit (int, max rows)
// Returns: id, label, exact (0 for an exact id match, else 1); exact matches first, then short ids
MATCH (u:User)
WHERE toLower(toString(u.id)) CONTAINS $q
WITH u.id AS id, CASE WHEN toLower(toString(u.id)) = $q THEN 0 ELSE 1 END AS exact
RETURN id, id AS label, exact, size(toString(id)) AS length
ORDER BY exact, length, id
LIMIT $limit
