// Purpose: /explore - items similar to one item because they share KG entities with it.
// Parameters: $id (string, item id), $limit (int, max items), $per_item (int, max shared
//             entities listed per similar item)
// Returns: id, title, shared (number of shared entities), links (list of maps: entity, name,
//          type, outgoing - how the similar item is linked to each shared entity - and
//          center_type, center_out - how the item $id is linked to it)
MATCH (i:Item {id: $id})-[ri]-(e:Entity)-[r]-(other:Item)
WHERE other <> i
WITH other, e, collect({type: type(r), outgoing: startNode(r) = other,
                        center_type: type(ri), center_out: startNode(ri) = i})[0] AS link
ORDER BY e.id
WITH other, count(*) AS shared,
     collect({entity: e.id, name: e.name, type: link.type, outgoing: link.outgoing,
              center_type: link.center_type, center_out: link.center_out}) AS links
RETURN other.id AS id, other.title AS title, shared, links[0..$per_item] AS links
ORDER BY shared DESC, id
LIMIT $limit
