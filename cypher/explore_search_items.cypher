// Purpose: /explore search box - candidate items whose id, title or "title (year)" contains one
//          of the search forms (case-insensitive), the most interacted first; the caller ranks
//          them (exact, prefix, word start, substring) and keeps the best few.
// Parameters: $qs (list of strings, already lower-cased: the text, and without a leading
//             article), $limit (int, max candidates)
// Returns: id, title (or null), year (or null), interactions (int)
MATCH (i:Item)
WITH i, toLower(coalesce(i.title, '')) AS title,
     CASE WHEN i.year IS NULL THEN '' ELSE toLower(coalesce(i.title, '')) + ' (' + toString(i.year) + ')' END AS dated
WHERE any(q IN $qs WHERE toLower(toString(i.id)) CONTAINS q OR title CONTAINS q OR dated CONTAINS q)
WITH i, size([(i)<-[:INTERACTED]-() | 1]) AS interactions
RETURN i.id AS id, i.title AS title, i.year AS year, interactions
ORDER BY interactions DESC, id
LIMIT $limit
