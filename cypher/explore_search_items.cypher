// Purpose: /explore search box - items whose id or title contains the search text (case-insensitive).
// Parameters: $q (string, already lower-cased), $limit (int, max rows)
// Returns: id, label (title, else id), exact (0 for an exact id or title match, else 1)
MATCH (i:Item)
WHERE toLower(toString(i.id)) CONTAINS $q OR toLower(coalesce(i.title, '')) CONTAINS $q
WITH i.id AS id, coalesce(i.title, i.id) AS label,
     CASE WHEN toLower(toString(i.id)) = $q OR toLower(coalesce(i.title, '')) = $q
          THEN 0 ELSE 1 END AS exact
RETURN id, label, exact
ORDER BY exact, label, id
LIMIT $limit
