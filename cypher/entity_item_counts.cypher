// Purpose: store on every KG entity how many distinct items it links to, by any relation or
//          direction (`itemCount`: an entity's specificity, read by explanations, new items'
//          KG similarity and the analysts' library instead of counting hubs per request).
//          Run after ingest; entities linked to no item get 0.
// Parameters: none.
// Returns: entities (how many entities were counted).
MATCH (e:Entity)
OPTIONAL MATCH (e)--(i:Item)
WITH e, count(DISTINCT i) AS items
SET e.itemCount = items
RETURN count(e) AS entities
