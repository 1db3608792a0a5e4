// Purpose: /explore - explanation paths for a user's recommendations: recommended item -[KG]-
//          entity -[KG]- one of the user's items drawn in the view, a bounded number per
//          recommendation. Only the drawn (bounded) history is searched, which keeps the cost
//          at (entities of the recommended items) x (drawn items) even through hub entities.
// Parameters: $items (list of recommended item ids), $seen (list of the user's item ids to link
//             to), $per_item (int, max paths per recommended item)
// Returns: item, entity, name, support (how many drawn items share the entity), item_type,
//          item_out, via, via_title, via_type, via_out - one row per distinct entity, the
//          most specific first (fewest linked items, as explanations rank them: a director
//          before a language), then the best-supported, with one of the items it is shared
//          with (via): the first in $seen order, each triple in its stored item -> entity
//          direction before an inverse, then by relationship type (the pick
//          explore_item_entities makes, so a path edge and a drawn edge coincide)
//          (*_type: relationship types; *_out: true when the triple points item -> entity)
UNWIND range(0, size($seen) - 1) AS position
MATCH (seen:Item {id: $seen[position]})
WITH collect({node: seen, position: position}) AS history
UNWIND $items AS item_id
MATCH (rec:Item {id: item_id})
WITH item_id, rec, history
UNWIND history AS drawn
WITH item_id, rec, drawn.node AS seen, drawn.position AS position
MATCH (rec)-[r1]-(e:Entity)-[r2]-(seen)
WHERE seen <> rec
WITH item_id, rec, e, seen, r1, r2, position
ORDER BY position, startNode(r1) = rec DESC, type(r1), startNode(r2) = seen DESC, type(r2)
WITH item_id, e, collect({via: seen.id, via_title: seen.title, item_type: type(r1),
                          item_out: startNode(r1) = rec, via_type: type(r2),
                          via_out: startNode(r2) = seen}) AS found, count(DISTINCT seen) AS support
ORDER BY coalesce(e.itemCount, 0), support DESC, e.id
WITH item_id, collect({entity: e.id, name: e.name, support: support,
                       first: found[0]})[0..$per_item] AS paths
UNWIND paths AS p
RETURN item_id AS item, p.entity AS entity, p.name AS name, p.support AS support,
       p.first.item_type AS item_type, p.first.item_out AS item_out, p.first.via AS via,
       p.first.via_title AS via_title, p.first.via_type AS via_type, p.first.via_out AS via_out
