// Purpose: /explore - the KG entities linked to each of a set of items, a bounded number per
//          item, preferring entities shared by several of the items (a connected, readable view).
//          An item linked to an entity by several relations (a relation and its inverse) keeps one:
//          the stored item -> entity direction first, then by relationship type (engine-independent).
// Parameters: $ids (list of item ids), $per_item (int, max entities per item)
// Returns: item, entity, name, type (relationship type), relation (source relation name),
//          outgoing (true when the triple points item -> entity), shared (how many of $ids link
//          to the entity)
UNWIND $ids AS item_id
MATCH (i:Item {id: item_id})-[r]-(e:Entity)
WITH item_id, i, e, r
ORDER BY startNode(r) = i DESC, type(r)
WITH item_id, e, collect({type: type(r), relation: r.relation, outgoing: startNode(r) = i})[0] AS rel
WITH e, collect({item: item_id, rel: rel}) AS links, count(*) AS shared
UNWIND links AS link
WITH link.item AS item_id, e, link.rel AS rel, shared
ORDER BY shared DESC, e.id
WITH item_id, collect({entity: e.id, name: e.name, type: rel.type, relation: rel.relation,
                       outgoing: rel.outgoing, shared: shared})[0..$per_item] AS kept
UNWIND kept AS k
RETURN item_id AS item, k.entity AS entity, k.name AS name, k.type AS type,
       k.relation AS relation, k.outgoing AS outgoing, k.shared AS shared
