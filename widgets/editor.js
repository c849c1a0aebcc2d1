// Editor: joins the preview and the timeline around one playhead, plays in real time and maps the keyboard.
// It also holds the timeline document: the whole of it arrives once ("doc", asked for with "hello"), then each
// change brings only the tracks that changed ("tracks": whole tracks, splices of their clip and crossfade lists,
// removed names, the header; nbedit/widgets.py describes the messages). A change that does not follow the one
// before (seq) means a message was missed: ask for the whole doc.
// This part holds the module's export; preview.js, timeline.js, graph.js and inspector.js are joined in front of it.

// the fields of a track's lists that hold timeline positions (a ripple's splice moves them by its shift)
const POSITIONS = { items: ["start"], xfades: ["start", "end", "at"] };

function makeBus(model, root) {
  const handlers = {};
  let doc = null; // the timeline document: header fields and tracks
  let seq = -1; // the last change it shows
  let asking = false; // a whole doc was asked for and has not arrived
  const bus = {
    model,
    on(kind, fn) { (handlers[kind] = handlers[kind] || []).push(fn); },
    emit(kind, ...args) { for (const fn of handlers[kind] || []) fn(...args); },
    doc: () => doc,
    seq: () => seq,
    frames: () => (doc || {}).frames || 0,
    fps: () => (doc || {}).fps || 24,
    playing: () => player.playing(),
    focus: () => root.focus({ preventScroll: true }),
    timecode(n) {
      const base = Math.max(1, Math.round(bus.fps()));
      const s = Math.floor(n / base);
      const p = (v) => String(v).padStart(2, "0");
      return `${p(Math.floor(s / 3600))}:${p(Math.floor(s / 60) % 60)}:${p(s % 60)}:${p(n % base)}`;
    },
    seek(n) {
      n = Math.max(0, Math.min(bus.frames() - 1, Math.round(n)));
      if (n === model.get("playhead")) return false;
      model.set("playhead", n);
      model.save_changes();
      player.seek(n); // its frame at once, not when ipywidgets lets the sync through
      return true;
    },
    edit(msg) { model.send({ type: "edit", ...msg }); },
    // play forwards (dir 1) or backwards (-1) at 1x, from the playhead
    play(dir = 1, speed = 1) {
      let n0 = model.get("playhead");
      if (dir > 0 && n0 >= bus.frames() - 1) n0 = 0;
      if (dir < 0 && n0 <= 0) return;
      player.play(n0, dir * speed);
    },
    stop() { player.stop(); },
    toggle() { player.playing() ? bus.stop() : bus.play(1); },
    // J/L: each press in the direction playing doubles the speed (1x, 2x, 4x); the other direction starts at 1x
    shuttle(dir) {
      const step = player.step();
      const speed = Math.sign(step) === dir ? Math.min(4, Math.abs(step) * 2) : 1;
      if (speed === Math.abs(step) && Math.sign(step) === dir) return;
      if (step) player.play(model.get("playhead"), dir * speed); else bus.play(dir, speed);
    },
  };
  const player = makePlayer(model, bus, root);
  function askDoc() {
    if (asking) return;
    asking = true;
    model.send({ type: "hello" });
  }
  // a change on top of the doc held; false when it does not follow from it
  function applyTracks(msg) {
    if (!doc || msg.seq !== seq + 1) return false;
    const byName = new Map(doc.tracks.map((t) => [t.name, t]));
    for (const name of msg.removed || []) byName.delete(name);
    for (const [name, t] of Object.entries(msg.tracks || {})) byName.set(name, t);
    for (const [name, p] of Object.entries(msg.patches || {})) {
      const old = byName.get(name);
      if (!old) return false;
      const { splice, ...rest } = p;
      const track = { ...old, ...rest };
      for (const [field, [at, remove, items, shift]] of Object.entries(splice)) {
        const keys = POSITIONS[field] || [];
        let tail = (old[field] || []).slice(at + remove);
        if (shift) tail = tail.map((x) => { const y = { ...x }; for (const k of keys) y[k] += shift; return y; });
        track[field] = (old[field] || []).slice(0, at).concat(items, tail);
      }
      byName.set(name, track);
    }
    if (!msg.order.every((n) => byName.has(n))) return false;
    doc = { ...msg.header, tracks: msg.order.map((n) => byName.get(n)) };
    seq = msg.seq;
    return true;
  }
  model.on("msg:custom", (msg, buffers) => {
    if (msg.type === "doc") {
      asking = false;
      if (msg.seq < seq) return; // older than what is held (another view's answer, overtaken)
      doc = msg.doc;
      seq = msg.seq;
      bus.emit("doc", null, msg);
      return;
    }
    if (msg.type === "tracks") {
      if (msg.seq <= seq) return;
      if (!applyTracks(msg)) { askDoc(); return; }
      const changed = new Set([...Object.keys(msg.tracks), ...Object.keys(msg.patches), ...msg.removed]);
      bus.emit("doc", changed, msg);
      return;
    }
    bus.emit(msg.type, msg, buffers);
  });
  bus.askDoc = askDoc;
  return bus;
}

function keyboard(bus, e) {
  const { model } = bus;
  const mod = e.ctrlKey || e.metaKey;
  const key = e.key;
  const here = model.get("playhead");
  if (panelKeys(bus, e)) return true; // inspector.js: Ctrl/Cmd+J, the timecode entry
  if (timelineKeys(bus, e)) return true; // edit modes, copy and paste, deleting a selection (tools.js)
  if (mod && (key === "z" || key === "Z")) { bus.edit({ op: e.shiftKey ? "redo" : "undo" }); return true; }
  if (mod && (key === "y" || key === "Y")) { bus.edit({ op: "redo" }); return true; }
  if (mod) return false;
  if (sourceKeys(bus, e)) return true; // I/O marks (of the monitor clicked last), Alt+X, "," and "." (source.js)
  switch (key) {
    case " ": bus.toggle(); return true;
    case "k": case "K": bus.stop(); return true;
    case "l": case "L": bus.shuttle(1); return true;
    case "j": case "J": bus.shuttle(-1); return true;
    case "ArrowLeft": bus.stop(); bus.seek(here - (e.shiftKey ? 10 : 1)); return true;
    case "ArrowRight": bus.stop(); bus.seek(here + (e.shiftKey ? 10 : 1)); return true;
    case "Home": bus.seek(0); return true;
    case "End": bus.seek(bus.frames() - 1); return true;
    case "i": case "I": model.set("mark_in", here); model.save_changes(); return true;
    case "o": case "O": model.set("mark_out", here); model.save_changes(); return true;
    case "s": case "S": {
      const sel = model.get("selection") || [];
      bus.edit(sel.length ? { op: "split", clip: sel[0] } : { op: "split" });
      return true;
    }
    case "Delete": case "Backspace":
      if ((model.get("selection") || []).length) bus.edit({ op: "delete", ripple: e.shiftKey });
      return true;
    case "m": case "M": bus.edit({ op: "add_marker" }); return true;
    case "+": case "=": if (bus.zoom) bus.zoom(model.get("zoom") * 1.5); return true;
    case "-": case "_": if (bus.zoom) bus.zoom(model.get("zoom") / 1.5); return true;
    default: return false;
  }
}

// ---- the recorded cells: in order, after the editor's cell; the keyboard and the scroll stay where they were ----

let lastView = null; // the editor view touched last: it places the cells its gestures record

// a notebook cell's source as its editor shows it
function cellText(cell) {
  const lines = cell.querySelectorAll(".jp-InputArea-editor .cm-line");
  return Array.from(lines, (l) => l.textContent).join("\n").trim();
}

// every scrolled ancestor of el and how far it is scrolled
function scrollState(el) {
  const out = [];
  for (let n = el.parentElement; n; n = n.parentElement) if (n.scrollTop || n.scrollLeft) out.push([n, n.scrollTop, n.scrollLeft]);
  const doc = document.scrollingElement;
  if (doc) out.push([doc, doc.scrollTop, doc.scrollLeft]);
  return out;
}

function placeCells(bus, root) {
  let saved = null;
  const mine = () => !lastView || lastView === root || !document.body.contains(lastView);
  // "anchor": make the last recorded cell the notebook's active one (a focusin is how the notebook learns it),
  // so that the kernel's "insert below" lands after it
  bus.on("anchor", (msg) => {
    if (!mine()) return;
    const own = root.closest(".jp-Cell");
    if (!own) return;
    const recorded = new Set((msg.recorded || []).map((c) => c.trim()));
    let anchor = own;
    for (let next = own.nextElementSibling; next; next = next.nextElementSibling) {
      if (!next.classList.contains("jp-Cell")) continue;
      if (!recorded.has(cellText(next))) break;
      anchor = next;
    }
    saved = scrollState(root);
    anchor.dispatchEvent(new FocusEvent("focusin", { bubbles: true }));
  });
  // "inserted": once the new cell shows its code, the keyboard back to the editor and the scroll back as it was
  bus.on("inserted", (msg) => {
    if (!mine() || !saved) return;
    const keep = saved;
    saved = null;
    const code = (msg.code || "").trim();
    const own = root.closest(".jp-Cell");
    const t0 = performance.now();
    const restore = () => { for (const [n, top, left] of keep) { n.scrollTop = top; n.scrollLeft = left; } };
    let settled = 0;
    const step = () => {
      restore();
      const there = own && Array.from(own.parentElement.children).some((c) => c.classList.contains("jp-Cell") && cellText(c) === code);
      if (there || performance.now() - t0 > 3000) {
        bus.focus();
        settled += 1;
      }
      if (settled < 6) requestAnimationFrame(step); // a few frames more: the notebook scrolls to its new cell late
      else root.dataset.cellsPlaced = String(Number(root.dataset.cellsPlaced || 0) + 1);
    };
    requestAnimationFrame(step);
  });
}

function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "nbe-editor";
  root.tabIndex = 0;
  // JupyterLab's own shortcuts (space, S, Z, arrows...) must not fire while the editor has the keyboard
  root.setAttribute("data-lm-suppress-shortcuts", "true");
  el.appendChild(root);
  const bus = makeBus(model, root);
  const parts = model.get("parts");
  const cleanups = [];
  // the preview with the inspector beside it (below it when the cell is narrow), the timeline under both
  const top = document.createElement("div");
  top.className = "nbe-top";
  root.appendChild(top);
  if (parts === "all" || parts === "preview") cleanups.push(mountPreview(top, bus));
  if (parts === "all") cleanups.push(mountInspector(top, bus));
  if (parts === "all" || parts === "timeline") cleanups.push(mountTimeline(root, bus));
  if (parts === "all" || parts === "timeline") cleanups.push(mountGraph(root, bus));
  if (parts === "all" || parts === "preview") mountProxies(root, bus);
  cleanups.push(mountMessages(root, bus), mountTimecodeEntry(root, bus));
  cleanups.push(mountSource(root, bus, parts)); // the media pool and source monitor, the In-Out render
  root.addEventListener("keydown", (e) => {
    if (keyboard(bus, e)) { e.preventDefault(); e.stopPropagation(); }
  });
  // Ctrl/Cmd+Z inside the editor is the session's undo only: never the notebook's, nor the browser's
  root.addEventListener("keyup", (e) => { if ((e.ctrlKey || e.metaKey) && /^[zy]$/i.test(e.key)) e.stopPropagation(); });
  const touch = () => { lastView = root; };
  root.addEventListener("pointerdown", touch, true);
  root.addEventListener("focusin", touch);
  placeCells(bus, root);
  bus.askDoc(); // the whole timeline document, once
  model.send({ type: "frame" }); // the frame at the playhead, now that there is somewhere to show it
  return () => { bus.stop(); for (const fn of cleanups) if (fn) fn(); };
}

export default { render };
