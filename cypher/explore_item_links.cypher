// Purpose: /explore - the KG entities an item shares with each of some other items (its similar
//          items by the served model), drawn as the reason two items are alike.
// Parameters: $id (string, item id), $others (list of item ids), $per_item (int, max shared
//             entities listed per other item)
// Returns: id, shared (number of shared entities), links (list of maps: entity, name, type,
//          outgoing - how the other item is linked to each shared entity - and center_type,
//          center_out - how the item $id is linked to it); items sharing nothing are absent
MATCH (i:Item {id: $id})-[ri]-(e:Entity)-[r]-(other:Item)
WHERE other.id IN $others AND other <> i
WITH other, e, collect({type: type(r), outgoing: startNode(r) = other,
                        center_type: type(ri), center_out: startNode(ri) = i})[0] AS link
ORDER BY e.id
WITH other, count(*) AS shared,
     collect({entity: e.id, name: e.name, type: link.type, outgoing: link.outgoing,
              center_type: link.center_type, center_out: link.center_out}) AS links
RETURN other.id AS id, shared, links[0..$per_item] AS links
ORDER BY id
