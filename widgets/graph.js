// Node graph: the selected clip's compositing graph, read only. Source, its effects in order (a mask feeding a
// node hangs below it), placement, blend, track. The kernel describes the nodes in a "graph" message, sent when
// the selection changes and after each change while a clip is selected.
// Plain script (no import/export): nbedit joins preview.js, timeline.js, graph.js and editor.js into one ES module.

const NODE_W = 132;
const NODE_H = 34;
const GAP = 26;

function mountGraph(root, bus) {
  const { model } = bus;
  const box = h("div", "nbe-graph");
  root.appendChild(box);
  const svgNS = "http://www.w3.org/2000/svg";
  const el = (tag, attrs, text) => {
    const e = document.createElementNS(svgNS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text) e.textContent = text;
    return e;
  };

  let graph = null; // the last "graph" message: { clip, nodes }

  function selected() {
    const id = (model.get("selection") || [])[0];
    if (!graph || !id || graph.clip !== id || !graph.nodes) return null;
    for (const t of (bus.doc() || {}).tracks || []) for (const c of t.items) if (c.id === id) return c;
    return null;
  }

  function draw() {
    box.innerHTML = "";
    const clip = selected();
    if (!clip) { box.style.display = "none"; return; }
    box.style.display = "block";
    const nodes = graph.nodes;
    const masked = nodes.some((n) => n.mask);
    const width = nodes.length * (NODE_W + GAP) + 8;
    const height = NODE_H * (masked ? 2 : 1) + (masked ? GAP : 0) + 24;
    const svg = el("svg", { class: "nbe-graph-svg", width, height, viewBox: `0 0 ${width} ${height}` });
    svg.appendChild(el("text", { x: 4, y: 12, class: "nbe-graph-title" }, `${clip.name} (${clip.id})`));
    nodes.forEach((n, i) => {
      const x = 4 + i * (NODE_W + GAP);
      const y = 18;
      if (i > 0) svg.appendChild(el("line", { x1: x - GAP, y1: y + NODE_H / 2, x2: x - 4, y2: y + NODE_H / 2, class: "nbe-edge" }));
      const g = el("g", { class: `nbe-node nbe-node-${n.kind}` });
      g.dataset.kind = n.kind;
      g.appendChild(el("rect", { x, y, width: NODE_W, height: NODE_H, rx: 5 }));
      g.appendChild(el("text", { x: x + 6, y: y + 14, class: "nbe-node-kind" }, n.id ? `${n.kind} · ${n.id}` : n.kind));
      g.appendChild(el("text", { x: x + 6, y: y + 27, class: "nbe-node-label" }, shorten(n.label, 22)));
      g.appendChild(el("title", {}, n.label));
      svg.appendChild(g);
      if (n.mask) {
        const my = y + NODE_H + GAP;
        svg.appendChild(el("line", { x1: x + NODE_W / 2, y1: my, x2: x + NODE_W / 2, y2: y + NODE_H + 4, class: "nbe-edge" }));
        const m = el("g", { class: "nbe-node nbe-node-maskinput" });
        m.appendChild(el("rect", { x: x + 10, y: my, width: NODE_W - 20, height: NODE_H - 8, rx: 5 }));
        m.appendChild(el("text", { x: x + 16, y: my + 17, class: "nbe-node-label" }, shorten(`mask ${n.mask}`, 18)));
        svg.appendChild(m);
      }
    });
    box.appendChild(svg);
  }

  function shorten(text, n) { return text.length > n ? `${text.slice(0, n - 1)}…` : text; }

  bus.on("graph", (msg) => { graph = msg; draw(); });
  bus.on("doc", draw);
  model.on("change:selection", draw);
  draw();
  return null;
}
