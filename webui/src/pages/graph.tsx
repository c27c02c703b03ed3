// The relationship graph around one object (cytoscape, bundled): pan and zoom with mouse or the
// buttons, click a node (or pick it in the list, for the keyboard) to select it and expand its
// neighbourhood. Nodes and edges are only what the graph API returned for this user.
import { useEffect, useRef, useState } from "preact/hooks";
import type { Core, ElementDefinition, NodeSingular } from "cytoscape";
import { api, type Graph } from "../api";
import { href, objectPath } from "../router";
import { ErrorBox, Loading, TypeTag } from "../ui";

const TYPE_COLOURS: Record<string, string> = {
  indicator: "#d9822b",
  malware: "#c23030",
  "threat-actor": "#8f398f",
  "intrusion-set": "#7157d9",
  campaign: "#2b95d6",
  report: "#5c7080",
  sighting: "#0f9960",
  vulnerability: "#a66321",
  identity: "#4a6fa5",
  "attack-pattern": "#d13913",
  tool: "#2965cc",
};

// cytoscape adds a <style> element (".__________cytoscape_container { position: relative }")
// unless an element with this id exists; the CSP (style-src 'self') would refuse it, so a
// placeholder stands in and styles.css gives .cy that position.
function preventCytoscapeStyleElement(): void {
  const id = "__________cytoscape_stylesheet";
  if (document.getElementById(id)) return;
  const placeholder = document.createElement("meta");
  placeholder.id = id;
  document.head.appendChild(placeholder);
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}

function toElements(g: Graph): ElementDefinition[] {
  const nodes = g.nodes.map((n) => ({ group: "nodes" as const, data: { id: n.id, label: n.label || n.id, type: n.type } }));
  const ids = new Set(g.nodes.map((n) => n.id));
  const edges = g.edges
    .filter((e) => ids.has(e.source) && ids.has(e.target))
    .map((e) => ({
      group: "edges" as const,
      data: { id: e.id + ":" + e.source + ">" + e.target, source: e.source, target: e.target, label: e.relationship_type },
    }));
  return [...nodes, ...edges];
}

// Room between nodes so that labels do not overlap on small neighbourhoods.
const LAYOUT = {
  name: "cose",
  animate: false,
  padding: 40,
  idealEdgeLength: () => 80,
  nodeRepulsion: () => 60000,
  nodeDimensionsIncludeLabels: true,
} as never;

interface NodeInfo {
  id: string;
  label: string;
  type: string;
}

export function GraphPage({ id }: { id: string }) {
  const box = useRef<HTMLDivElement>(null);
  const cy = useRef<Core | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [truncated, setTruncated] = useState(false);
  const [nodes, setNodes] = useState<NodeInfo[]>([]);
  const [selected, setSelected] = useState<string>(id);
  // A ref, not state: cytoscape's tap handler is registered once and must see the current set.
  const expandedRef = useRef<Set<string>>(new Set());
  const [, setExpandedCount] = useState(0);
  const expanded = expandedRef.current;

  const refreshList = () => {
    if (!cy.current) return;
    setNodes(
      cy.current
        .nodes()
        .map((n) => ({ id: n.id(), label: String(n.data("label")), type: String(n.data("type")) }))
        .sort((a, b) => a.type.localeCompare(b.type) || a.label.localeCompare(b.label)),
    );
  };

  // A few nodes would be fitted at a large zoom (huge labels): cap it after each layout.
  const capZoom = () => {
    const c = cy.current;
    if (c && c.zoom() > 1.2) {
      c.zoom(1.2);
      c.center();
    }
  };
  const relayout = () => {
    const l = cy.current?.layout(LAYOUT);
    l?.one("layoutstop", capZoom);
    l?.run();
  };

  const expand = async (nodeId: string) => {
    setSelected(nodeId);
    cy.current?.$id(nodeId).select();
    if (expandedRef.current.has(nodeId)) return;
    try {
      const g = await api.graph(nodeId, 1);
      if (!cy.current) return;
      const fresh = toElements(g).filter((el) => cy.current!.getElementById(el.data.id!).empty());
      cy.current.add(fresh);
      expandedRef.current.add(nodeId);
      setExpandedCount(expandedRef.current.size);
      setTruncated((t) => t || g.truncated);
      if (fresh.length) relayout();
      refreshList();
    } catch (e) {
      setError(e);
    }
  };

  useEffect(() => {
    let alive = true;
    setLoading(true);
    setError(null);
    // cytoscape is its own chunk, loaded only when a graph is opened.
    Promise.all([api.graph(id, 2), import("cytoscape")]).then(
      ([g, { default: cytoscape }]) => {
        if (!alive || !box.current) return;
        setTruncated(g.truncated);
        preventCytoscapeStyleElement();
        const c = cytoscape({
          container: box.current,
          elements: toElements(g),
          minZoom: 0.1,
          maxZoom: 4,
          style: [
            {
              selector: "node",
              style: {
                "background-color": (n: NodeSingular) => TYPE_COLOURS[n.data("type")] ?? "#738694",
                label: "data(label)",
                color: cssVar("--text"),
                "font-size": 11,
                "text-valign": "bottom",
                "text-margin-y": 4,
                "text-max-width": "140px",
                "text-wrap": "ellipsis",
                "text-background-color": cssVar("--panel"),
                "text-background-opacity": 0.85,
                "text-background-padding": "2px",
                width: 26,
                height: 26,
              },
            },
            {
              selector: "node:selected",
              style: { "border-width": 4, "border-color": cssVar("--focus") },
            },
            {
              selector: `node[id = "${id.replace(/"/g, "")}"]`,
              style: { width: 36, height: 36, "border-width": 3, "border-color": cssVar("--accent") },
            },
            {
              selector: "edge",
              style: {
                width: 1.5,
                "line-color": cssVar("--border"),
                "target-arrow-color": cssVar("--border"),
                "target-arrow-shape": "triangle",
                "curve-style": "bezier",
                label: "data(label)",
                "font-size": 9,
                color: cssVar("--muted"),
                "text-rotation": "autorotate",
              },
            },
          ],
          layout: LAYOUT,
        });
        c.on("tap", "node", (evt) => void expand(evt.target.id()));
        cy.current = c;
        capZoom();
        c.$id(id).select();
        expandedRef.current = new Set([id]);
        setExpandedCount(1);
        refreshList();
        setLoading(false);
      },
      (e) => {
        if (!alive) return;
        setError(e);
        setLoading(false);
      },
    );
    return () => {
      alive = false;
      cy.current?.destroy();
      cy.current = null;
    };
  }, [id]);

  const zoom = (f: number) => {
    const c = cy.current;
    if (!c) return;
    c.zoom({ level: c.zoom() * f, renderedPosition: { x: c.width() / 2, y: c.height() / 2 } });
  };
  const sel = nodes.find((n) => n.id === selected);

  return (
    <main id="main" class="page">
      <h1>Relationship graph</h1>
      <p class="muted small">
        Around <a href={href(objectPath(id))}>{id}</a>. Drag to pan, scroll to zoom, click a node to expand it.
      </p>
      <ErrorBox error={error} />
      {truncated && <p class="notice warn">The neighbourhood is larger than shown (the server bounds the nodes).</p>}
      <div class="graph-layout">
        <div>
          <div class="row" role="toolbar" aria-label="Graph view">
            <button type="button" onClick={() => zoom(1.25)} aria-label="Zoom in">
              + Zoom in
            </button>
            <button type="button" onClick={() => zoom(0.8)} aria-label="Zoom out">
              − Zoom out
            </button>
            <button type="button" onClick={() => cy.current?.fit(undefined, 30)}>
              Fit
            </button>
            <button type="button" onClick={relayout}>
              Re-arrange
            </button>
            <span class="muted small" id="graph-count">
              {nodes.length} nodes
            </span>
          </div>
          {loading && <Loading what="the graph" />}
          <div ref={box} class="cy" id="cy" aria-label="Relationship graph" role="img" />
        </div>
        <aside class="card">
          {sel && (
            <div id="graph-selected">
              <h2>Selected</h2>
              <p>
                <TypeTag type={sel.type} /> <strong class="wrap">{sel.label}</strong>
              </p>
              <div class="row">
                <a class="button" href={href(objectPath(sel.id))}>
                  Open object
                </a>
                <button type="button" disabled={expanded.has(sel.id)} onClick={() => void expand(sel.id)}>
                  {expanded.has(sel.id) ? "Expanded" : "Expand"}
                </button>
              </div>
            </div>
          )}
          <h2 style={{ marginTop: "14px" }}>Nodes</h2>
          <ul class="plain node-list" id="graph-nodes">
            {nodes.map((n) => (
              <li key={n.id}>
                <button
                  type="button"
                  data-id={n.id}
                  class={n.id === selected ? "active" : ""}
                  aria-pressed={n.id === selected}
                  onClick={() => void expand(n.id)}
                  title={n.id}
                >
                  {n.type}: {n.label}
                </button>
              </li>
            ))}
          </ul>
        </aside>
      </div>
    </main>
  );
}
