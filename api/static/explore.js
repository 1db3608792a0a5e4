// TailGraph explorer: search a user or item and draw its neighbourhood with cytoscape.js.
// Read-only: it only calls GET /explore/search and GET /explore/graph. Text coming from the
// graph is only ever written with textContent (never innerHTML).
(function () {
  "use strict";

  const base = document.body.dataset.base || "/explore";
  const statusBox = document.getElementById("status");
  const details = document.getElementById("details");
  const hitsList = document.getElementById("hits");
  const nodeList = document.getElementById("node-list");
  const input = document.getElementById("q");
  const COLOURS = {
    user: "#2563eb", item: "#f59e0b", recommended: "#dc2626", similar: "#a855f7",
    entity: "#059669", path: "#dc2626", edge: "#9ca3af",
  };
  const LABEL_WIDTH = 170; // px of a node label before it is cut with an ellipsis
  const showMore = document.getElementById("show-more");
  let cy = null;
  let current = null; // the last graph response

  function setStatus(state, message, counts) {
    statusBox.dataset.state = state;
    statusBox.textContent = message;
    if (counts) {
      for (const [key, value] of Object.entries(counts)) statusBox.dataset[key] = String(value);
    }
  }

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function shorten(text, size) {
    return text.length > size ? text.slice(0, size - 1) + "…" : text;
  }

  const KEY_STORE = "tailgraph-api-key";

  async function getJson(path, params, retried) {
    const headers = {};
    const key = window.sessionStorage.getItem(KEY_STORE);
    if (key) headers["X-API-Key"] = key;
    const response = await fetch(base + path + "?" + new URLSearchParams(params), { headers });
    if ((response.status === 401 || response.status === 403) && !retried) {
      // The service requires an API key (TAILGRAPH_API_KEYS): ask once, keep it for the tab.
      const entered = window.prompt("This TailGraph service needs an API key (X-API-Key):");
      if (entered) {
        window.sessionStorage.setItem(KEY_STORE, entered);
        return getJson(path, params, true);
      }
    }
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    if (!response.ok) {
      let detail = body && body.detail;
      if (Array.isArray(detail)) detail = detail.map((d) => d.msg).join("; ");
      throw new Error(detail || "request failed with HTTP " + response.status);
    }
    return body;
  }

  // -- search ------------------------------------------------------------------------------
  let searchTimer = null;
  let lastHits = [];

  function showHits(hits) {
    lastHits = hits;
    hitsList.replaceChildren();
    for (const hit of hits) {
      const button = el("button", hit.kind + " · " + hit.label);
      button.type = "button";
      button.addEventListener("click", () => { hitsList.replaceChildren(); load(hit.kind, hit.id); });
      const item = el("li");
      item.appendChild(button);
      hitsList.appendChild(item);
    }
    if (!hits.length && input.value.trim()) hitsList.appendChild(el("li", "no match", "muted"));
  }

  input.addEventListener("input", () => {
    clearTimeout(searchTimer);
    const text = input.value.trim();
    if (!text) { showHits([]); return; }
    searchTimer = setTimeout(async () => {
      try {
        showHits((await getJson("/search", { q: text })).hits);
      } catch (error) {
        setStatus("error", "Search failed: " + error.message);
      }
    }, 250);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape") showHits([]);
  });
  document.getElementById("search").addEventListener("submit", (event) => {
    event.preventDefault();
    if (lastHits.length) { hitsList.replaceChildren(); load(lastHits[0].kind, lastHits[0].id); }
  });

  // -- drawing -----------------------------------------------------------------------------
  const STYLE = [
    { selector: "node", style: {
      "label": "data(caption)", "font-size": 10, "color": "#1f2937",
      "text-valign": "center", "text-halign": "right", "text-margin-x": 4,
      "text-wrap": "ellipsis", "text-max-width": LABEL_WIDTH, "text-background-color": "#ffffff",
      "text-background-opacity": 0.75, "text-background-padding": 1,
      "width": 18, "height": 18, "background-color": COLOURS.item,
      "border-width": 1, "border-color": "#ffffff",
    } },
    { selector: "node[kind = 'user']", style: { "background-color": COLOURS.user } },
    { selector: "node[kind = 'entity']", style: {
      "background-color": COLOURS.entity, "shape": "round-rectangle", "width": 14, "height": 14,
    } },
    { selector: "node[role = 'recommended']", style: {
      "background-color": COLOURS.recommended, "shape": "star", "width": 24, "height": 24,
    } },
    { selector: "node[role = 'similar']", style: { "background-color": COLOURS.similar } },
    { selector: "node[role = 'center']", style: {
      "width": 34, "height": 34, "border-width": 3, "border-color": "#111827",
      "font-size": 13, "font-weight": "bold", "text-valign": "bottom", "text-halign": "center",
      "text-margin-x": 0, "text-margin-y": 4,
    } },
    { selector: "node:selected", style: { "border-width": 3, "border-color": "#111827" } },
    { selector: "edge", style: {
      "width": 1, "line-color": COLOURS.edge, "curve-style": "bezier",
      "target-arrow-shape": "triangle", "target-arrow-color": COLOURS.edge, "arrow-scale": 0.6,
      "label": "data(caption)", "font-size": 8, "color": "#6b7280", "text-opacity": 0,
      "text-rotation": "autorotate", "text-background-color": "#ffffff",
      "text-background-opacity": 0.8,
    } },
    { selector: "edge[type = 'INTERACTED']", style: { "line-color": "#93c5fd",
      "target-arrow-color": "#93c5fd" } },
    { selector: "edge[type = 'RECOMMENDED']", style: {
      "line-color": COLOURS.recommended, "target-arrow-color": COLOURS.recommended,
      "line-style": "dashed", "width": 2, "line-opacity": 0.45,
    } },
    { selector: "edge[type = 'SIMILAR']", style: {
      "line-color": COLOURS.similar, "target-arrow-color": COLOURS.similar, "line-style": "dotted",
      "width": 2,
    } },
    { selector: "edge[?path]", style: { "line-color": "#f87171", "target-arrow-color": "#f87171",
      "width": 1.5 } },
    { selector: ".highlight", style: {
      "line-color": COLOURS.path, "target-arrow-color": COLOURS.path, "width": 3, "z-index": 10,
      "text-opacity": 1,
    } },
    { selector: "edge.hover", style: { "text-opacity": 1, "z-index": 10 } },
    { selector: ".faded", style: { "opacity": 0.25 } },
  ];

  function edgeCaption(edge) {
    const p = edge.props || {};
    if (edge.type === "INTERACTED") return p.rating !== undefined ? "★" + p.rating : "";
    if (edge.type === "RECOMMENDED") return p.rank !== undefined ? "#" + p.rank : "";
    if (edge.type === "SIMILAR") return p.similarity !== undefined ? "≈" + p.similarity : "";
    return edge.type.toLowerCase().replace(/_/g, " ");
  }

  // -- layout: one column per relation to the centre, so a path reads left to right -------
  // user -> interacted items -> KG entities -> recommended items (an item: raters, entities,
  // similar items); each column shows its most relevant nodes first, "show more" adds more.
  const COLUMN = { center: 0, interacted: 1, user: 1, entity: 2, recommended: 3, similar: 3 };
  const PER_COLUMN = 12; // nodes per column drawn at first, and added by each "show more"
  const ROW = 30, GAP = 150 + LABEL_WIDTH; // px between rows, between columns
  let perColumn = PER_COLUMN;

  function relevance(graph) {
    // interacted: rating; recommended: rank; similar: similarity; entity: drawn links
    const score = new Map(graph.nodes.map((n) => [n.id, 0]));
    for (const e of graph.edges) {
      const p = e.props || {};
      if (e.type === "INTERACTED" && e.target !== graph.center) {
        score.set(e.target, (p.rating || 0) + 1);
      } else if (e.type === "INTERACTED") {
        score.set(e.source, (p.rating || 0) + 1);
      } else if (e.type === "RECOMMENDED") {
        score.set(e.target, 1000 - (p.rank || 0));
      } else if (e.type === "SIMILAR") {
        score.set(e.target, p.similarity || 0);
      } else {
        for (const end of [e.source, e.target]) {
          if (end.startsWith("entity:")) score.set(end, score.get(end) + (e.path ? 10 : 1));
        }
      }
    }
    return score;
  }

  function columns(graph) {
    const score = relevance(graph);
    const byColumn = [[], [], [], []];
    for (const n of graph.nodes) byColumn[COLUMN[n.role] ?? 2].push(n);
    for (const column of byColumn) {
      column.sort((a, b) => score.get(b.id) - score.get(a.id) || a.label.localeCompare(b.label));
    }
    return byColumn;
  }

  function entityCaption(graph, node) {
    // an entity without a name (a Freebase id): what it is to the drawn items it links
    if (node.label !== node.key) return node.label;
    const links = graph.edges.filter((e) => (e.source === node.id || e.target === node.id) &&
                                            e.type !== "INTERACTED" && e.type !== "RECOMMENDED");
    if (!links.length) return node.label;
    const titles = [...new Set(links.map((e) => (e.source === node.id ? e.target : e.source)))]
      .map((id) => byId(id)).filter(Boolean).map((n) => n.label).slice(0, 2);
    const relation = links[0].type.toLowerCase().replace(/_/g, " ");
    return titles.length ? "the “" + relation + "” of " + titles.join(", ") : relation;
  }

  function elements(graph) {
    const visible = new Set();
    const byColumn = columns(graph);
    const positions = {};
    byColumn.forEach((column, x) => {
      const drawn = column.slice(0, perColumn);
      drawn.forEach((n, y) => {
        visible.add(n.id);
        positions[n.id] = { x: x * GAP, y: (y - (drawn.length - 1) / 2) * ROW };
      });
    });
    const nodes = graph.nodes.filter((n) => visible.has(n.id)).map((n) => ({
      group: "nodes",
      position: positions[n.id],
      data: { id: n.id, kind: n.kind, role: n.role, key: n.key,
              caption: shorten(n.kind === "entity" ? entityCaption(graph, n) : n.label, 40) },
    }));
    const edges = graph.edges.filter((e) => visible.has(e.source) && visible.has(e.target))
      .map((e) => ({
        group: "edges",
        data: { id: e.id, source: e.source, target: e.target, type: e.type, path: e.path,
                caption: edgeCaption(e) },
      }));
    return { items: nodes.concat(edges), hidden: graph.nodes.length - visible.size };
  }

  function labelOverlaps() {
    // pairs of node labels whose boxes intersect (the browser test asserts there are none)
    const boxes = cy.nodes().map((n) => n.boundingBox({ includeNodes: false, includeEdges: false,
                                                          includeLabels: true }));
    let overlaps = 0;
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i], b = boxes[j];
        if (a.x1 < b.x2 - 1 && b.x1 < a.x2 - 1 && a.y1 < b.y2 - 1 && b.y1 < a.y2 - 1) overlaps++;
      }
    }
    return overlaps;
  }

  function draw(graph, focus) {
    if (!cy) {
      cy = window.cytoscape({ container: document.getElementById("graph"), style: STYLE,
                              wheelSensitivity: 0.3, minZoom: 0.2, maxZoom: 4 });
      cy.on("tap", "node", (event) => select(event.target.id()));
      cy.on("tap", (event) => { if (event.target === cy) select(null); });
      cy.on("mouseover", "edge", (event) => event.target.addClass("hover"));
      cy.on("mouseout", "edge", (event) => event.target.removeClass("hover"));
      cy.on("dbltap", "node", (event) => {
        const node = byId(event.target.id());
        if (node && node.kind !== "entity" && node.role !== "center") load(node.kind, node.key);
      });
    }
    cy.elements().remove();
    const drawn = elements(graph);
    cy.add(drawn.items);
    const layout = cy.layout({ name: "preset", fit: true, padding: 30 });
    layout.one("layoutstop", () => {
      const counts = { nodes: cy.nodes().length, edges: cy.edges().length,
                       hidden: drawn.hidden, overlaps: labelOverlaps() };
      const centre = byId(graph.center);
      setStatus("ready", centre.label + ": " + counts.nodes + " nodes, " +
        counts.edges + " edges" + (drawn.hidden ? " (" + drawn.hidden + " more hidden)" : "") +
        ". Click a node for details; double-click to explore it.", counts);
      showMore.hidden = drawn.hidden === 0;
      showMore.textContent = "Show more (" + drawn.hidden + " hidden)";
      listNodes(graph);
      select(focus && byId(focus) ? focus : graph.center);
    });
    layout.run();
  }

  function listNodes(graph) {
    nodeList.replaceChildren();
    for (const node of graph.nodes) {
      const item = el("li", node.kind + ": " + node.label);
      item.dataset.id = node.id;
      nodeList.appendChild(item);
    }
    nodeList.parentElement.querySelector("summary").textContent =
      "All nodes (" + graph.nodes.length + ")";
  }

  function byId(id) {
    return current ? current.nodes.find((n) => n.id === id) : undefined;
  }

  // -- details panel -----------------------------------------------------------------------
  function select(id) {
    cy.elements().removeClass("highlight faded");
    details.replaceChildren();
    const node = id && byId(id);
    if (!node) return;
    details.appendChild(el("h2", node.label));
    const facts = el("dl");
    const add = (key, value) => { facts.appendChild(el("dt", key)); facts.appendChild(el("dd", value)); };
    add("kind", node.kind + (node.role === node.kind ? "" : " (" + node.role + ")"));
    add("id", node.key);
    for (const [key, value] of Object.entries(node.props)) {
      if (key === "id") continue;
      add(key, Array.isArray(value) ? value.join(", ") : String(value));
    }
    const recommendation = current.edges.find((e) => e.type === "RECOMMENDED" && e.target === id);
    if (recommendation) {
      for (const key of ["rank", "score", "model"]) {
        const value = recommendation.props[key];
        if (value !== undefined) add(key, typeof value === "number" ? String(+value.toFixed(4)) : String(value));
      }
    }
    details.appendChild(facts);
    const why = current.paths.filter((p) => "item:" + p.item_id === id);
    if (recommendation) explain(why);
    if (node.role !== "center" && node.kind !== "entity") {
      const button = el("button", "Explore this " + node.kind);
      button.type = "button";
      button.addEventListener("click", () => load(node.kind, node.key));
      details.appendChild(button);
    }
  }

  function explain(paths) {
    details.appendChild(el("h2", "Why recommended"));
    if (!paths.length) {
      details.appendChild(el("p", "No knowledge-graph path links it to this user's items."));
      return;
    }
    const list = el("ol");
    const keep = cy.getElementById(current.center);
    for (const p of paths) {
      const item = "item:" + p.item_id, entityId = "entity:" + p.entity_id;
      const viaId = "item:" + p.seed_item_id;
      const entity = byId(entityId), via = byId(viaId);
      list.appendChild(el("li", (entity ? entity.label : p.entity_id) + " (" +
        p.item_relation.toLowerCase().replace(/_/g, " ") + "), shared with " +
        (via ? via.label : p.seed_item_id)));
      keep.merge(cy.getElementById(item)).merge(cy.getElementById(entityId))
        .merge(cy.getElementById(viaId));
    }
    details.appendChild(list);
    const edges = keep.edgesWith(keep);
    edges.filter((e) => e.data("path")).addClass("highlight");
    cy.elements().not(keep.union(edges)).addClass("faded");
  }

  // -- loading -----------------------------------------------------------------------------
  // focus: a node of the drawn graph ("item:42") to select once drawn, else the centre.
  async function load(kind, id, focus) {
    setStatus("loading", "Loading " + kind + " " + id + "…");
    try {
      const graph = await getJson("/graph", { kind: kind, id: id });
      current = graph;
      perColumn = PER_COLUMN;
      history.replaceState(null, "", "?" + new URLSearchParams({ kind: kind, id: id }));
      draw(graph, focus);
    } catch (error) {
      setStatus("error", "Could not load " + kind + " " + id + ": " + error.message);
    }
  }

  showMore.addEventListener("click", () => {
    perColumn += PER_COLUMN;
    if (current) draw(current);
  });

  if (typeof window.cytoscape !== "function") {
    setStatus("no-library", "The graph library is missing: run `make assets` on the server.");
    return;
  }
  const params = new URLSearchParams(window.location.search);
  const kind = params.get("kind"), id = params.get("id");
  if ((kind === "user" || kind === "item") && id) load(kind, id, params.get("select"));
})();
