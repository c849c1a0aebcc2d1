// Timeline: ruler with timecode, tracks, clips with names and thumbnail strips, crossfades, audio waveforms,
// playhead, zoom and scroll, selection and snapping. Gestures are sent to the kernel as edits; the kernel answers
// with the tracks that changed, so what is drawn is always the session's state.
// Lanes are virtualized: only the clips, crossfades and ruler ticks inside the visible stretch of the timeline
// (plus a margin each side) have DOM elements; scrolling and zooming draw the ones that come into view. Thumbnail
// strips and waveform peaks are asked for only for the clips drawn, by content (a trimmed clip asks again).
// Plain script (no import/export): nbedit joins preview.js, timeline.js and editor.js into one ES module.

const LABEL_W = 100; // the track headers: name, mute / solo / lock, height
const SNAP_PX = 8;
const MARGIN_PX = 800; // drawn beyond each side of the visible window
const THUMBS_KEPT = 600; // thumbnail strips held (object URLs), least recently drawn first out
const MEDIA_PX = 24; // a clip narrower than this (zoomed far out) shows no thumbnails or waveform, and asks for none

// index of the first item ending after frame f: items sorted by start, not overlapping, so their ends ascend
function firstEndingAfter(items, f, end = (c) => c.start + c.dur) {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (end(items[mid]) > f) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

// two versions of a clip that look the same but for where they start (a ripple moved it): one element serves
function sameLook(a, b) {
  for (const k in a) if (k !== "start" && a[k] !== b[k]) return false;
  for (const k in b) if (!(k in a)) return false;
  return true;
}

function mountTimeline(root, bus) {
  const { model } = bus;
  const box = h("div", "nbe-timeline");
  const head = h("div", "nbe-tl-head");
  const zoomOut = h("button", "", "−", "Zoom out (-)");
  const zoomIn = h("button", "", "+", "Zoom in (+)");
  const info = h("span", "nbe-tl-info");
  head.append(zoomOut, zoomIn, info);

  const scroller = h("div", "nbe-scroller");
  const canvas = h("div", "nbe-canvas");
  const ruler = h("div", "nbe-ruler");
  const lanes = h("div", "nbe-lanes");
  const playhead = h("div", "nbe-playhead");
  canvas.append(ruler, lanes, playhead);
  scroller.appendChild(canvas);
  box.append(head, scroller);
  root.appendChild(box);
  box.dataset.seq = "-1"; // the change drawn last (tests and benchmarks wait on it)

  const thumbs = new Map(); // clip content key -> object URL of its thumbnail strip (insertion order: LRU)
  const asked = new Set(); // content keys whose strip was asked for
  const peaks = new Map(); // audio clip content key -> peak levels
  const askedPeaks = new Set();
  let laneRecs = []; // per track, top to bottom: { name, el, drawn: Map(id -> { el, c, key }), xf: Map(name -> el) }
  let laneOf = new Map(); // track name -> its lane record
  const heights = new Map(); // track name -> lane height in px (view state only: never recorded)
  let dragging = null; // the id of the clip under a gesture: kept drawn, and placed by the gesture alone

  const doc = () => bus.doc() || { tracks: [], frames: 0, fps: 24 };
  const fps = () => bus.fps();
  const zoom = () => model.get("zoom");
  const xOf = (frame) => LABEL_W + (frame / fps()) * zoom();
  const frameOf = (x) => Math.round(((x - LABEL_W) / zoom()) * fps());
  const keyOf = (c) => `${c.id}|${c.media}|${c.src_in}|${c.speed}|${c.dur}`;

  // the frames whose clips get elements: what the scroller shows, and a margin each side
  function span() {
    const width = scroller.clientWidth || 1600;
    const a = ((scroller.scrollLeft - MARGIN_PX - LABEL_W) / zoom()) * fps();
    const b = ((scroller.scrollLeft + width + MARGIN_PX - LABEL_W) / zoom()) * fps();
    return [Math.floor(a), Math.ceil(b)];
  }

  function snapPoints(frame, exceptId) {
    const reach = Math.ceil(((SNAP_PX + 1) / zoom()) * fps());
    const pts = [model.get("playhead")];
    for (const t of doc().tracks) {
      const items = t.items;
      for (let i = firstEndingAfter(items, frame - reach - 1); i < items.length; i++) {
        const c = items[i];
        if (c.start > frame + reach) break;
        if (c.id !== exceptId) pts.push(c.start, c.start + c.dur);
      }
    }
    return pts;
  }

  function snap(frame, exceptId) {
    let best = frame;
    let bestPx = SNAP_PX + 1;
    for (const p of snapPoints(frame, exceptId)) {
      const px = Math.abs(xOf(p) - xOf(frame));
      if (px < bestPx) { best = p; bestPx = px; }
    }
    return best;
  }

  function drawRuler() {
    const d = doc();
    ruler.innerHTML = "";
    const rate = d.fps || 24;
    const seconds = d.frames / rate;
    const step = [0.5, 1, 2, 5, 10, 30, 60, 300].find((s) => s * zoom() >= 70) || 600;
    const [a, b] = span();
    const first = Math.max(0, Math.floor(a / rate / step) * step);
    const last = Math.min(seconds + step, b / rate + step);
    for (let t = first; t <= last; t += step) {
      const tick = h("div", "nbe-tick", bus.timecode(Math.round(t * rate)));
      tick.style.left = `${xOf(t * rate)}px`;
      ruler.appendChild(tick);
    }
    drawIoMarks(ruler, bus, xOf); // the In-Out range (source.js)
  }

  function makeClip(track, c) {
    const el = h("div", `nbe-clip nbe-${track.kind}`);
    if (c.generated) el.classList.add("nbe-generated");
    if (c.offline) el.classList.add("nbe-offline");
    el.dataset.id = c.id;
    el.title = `${c.name} (${c.id})${c.speed !== 1 ? `, speed ${c.speed}` : ""}${c.offline ? ", MEDIA OFFLINE" : ""}`;
    el.appendChild(h("span", "nbe-clip-name", c.offline ? `${c.name} (offline)` : c.name));
    for (const edge of ["in", "out"]) {
      const handle = h("div", `nbe-handle nbe-${edge}`);
      handle.dataset.edge = edge;
      el.appendChild(handle);
    }
    return el;
  }
  // what to ask for, gathered while drawing: waveform peaks in one message (quick to make), then thumbnail strips
  let wantPeaks = [];
  let wantThumbs = [];

  // a drawn clip's thumbnail strip or waveform, once it is wide enough to show one: from what came, or asked for
  function dress(r, kind) {
    if (r.dressed || r.c.offline || (r.c.dur / fps()) * zoom() < MEDIA_PX) return;
    r.dressed = true;
    const { c, key, el } = r;
    if (kind === "video") {
      if (thumbs.has(key)) {
        const url = thumbs.get(key);
        thumbs.delete(key); // most recently drawn last
        thumbs.set(key, url);
        el.style.backgroundImage = `url(${url})`;
      } else if (!asked.has(key)) {
        asked.add(key);
        wantThumbs.push({ type: "thumbs", clip: c.id, key, count: 6, height: 36 });
      }
    } else if (peaks.has(key)) {
      el.insertBefore(waveform(peaks.get(key)), el.firstChild);
    } else if (!askedPeaks.has(key)) {
      askedPeaks.add(key);
      wantPeaks.push([c.id, key]);
    }
  }

  function place(el, c) {
    el.style.left = `${xOf(c.start)}px`;
    el.style.width = `${Math.max(2, (c.dur / fps()) * zoom())}px`;
  }

  function waveform(levels) {
    const w = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    w.setAttribute("class", "nbe-wave");
    w.setAttribute("viewBox", `0 0 ${levels.length} 2`);
    w.setAttribute("preserveAspectRatio", "none");
    let d = "";
    levels.forEach((p, i) => { d += `M${i + 0.5} ${1 - p} L${i + 0.5} ${1 + p} `; });
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", d);
    w.appendChild(path);
    return w;
  }

  // one lane's clips and crossfades inside the span: new ones made, gone ones removed, the rest placed again
  function drawLane(rec, track, a, b) {
    const selected = new Set(model.get("selection") || []);
    const items = track.items;
    const want = new Set();
    for (let i = firstEndingAfter(items, a); i < items.length && items[i].start < b; i++) {
      const c = items[i];
      want.add(c.id);
      let r = rec.drawn.get(c.id);
      if (r && r.c !== c && sameLook(r.c, c)) r.c = c;
      if (r && r.c !== c) {
        if (c.id === dragging) continue; // the gesture's element stays as it is until the gesture ends
        r.el.remove();
        r = null;
      }
      if (!r) {
        r = { el: makeClip(track, c), c, key: keyOf(c), dressed: false };
        rec.drawn.set(c.id, r);
        rec.el.appendChild(r.el);
      }
      r.el.classList.toggle("nbe-selected", selected.has(c.id));
      if (c.id !== dragging) place(r.el, c);
      dress(r, track.kind);
    }
    for (const [id, r] of rec.drawn) {
      if (!want.has(id) && id !== dragging) { r.el.remove(); rec.drawn.delete(id); }
    }
    const xfades = track.xfades || [];
    const keep = new Set();
    for (let i = firstEndingAfter(xfades, a, (x) => x.end); i < xfades.length && xfades[i].start < b; i++) {
      const x = xfades[i];
      const id = `${x.name}|${x.start}|${x.end}`;
      keep.add(id);
      let el = rec.xf.get(id);
      if (!el) {
        el = h("div", "nbe-xfade", "", `crossfade ${x.name}`);
        rec.xf.set(id, el);
        rec.el.appendChild(el);
      }
      el.style.left = `${xOf(x.start)}px`;
      el.style.width = `${((x.end - x.start) / fps()) * zoom()}px`;
    }
    for (const [id, el] of rec.xf) if (!keep.has(id)) { el.remove(); rec.xf.delete(id); }
  }

  // top to bottom as editors draw them: the highest video track on top (V2 above V1), then A1, A2 below
  function shown(tracks) {
    return tracks.filter((x) => x.kind === "video").reverse().concat(tracks.filter((x) => x.kind !== "video"));
  }

  function header(track) {
    const label = h("div", "nbe-label");
    label.appendChild(h("span", "nbe-label-name", track.name));
    const switches = h("span", "nbe-switches");
    const names = track.kind === "audio" ? ["mute", "solo", "lock"] : ["mute", "lock"];
    const tips = { mute: track.kind === "audio" ? "Mute" : "Hide", solo: "Solo (hear only soloed tracks)", lock: "Lock" };
    for (const op of names) {
      const b = h("button", `nbe-switch nbe-${op}`, op[0].toUpperCase(), `${tips[op]} ${track.name} (recorded)`);
      b.dataset.op = op;
      b.addEventListener("pointerdown", (e) => e.stopPropagation());
      b.addEventListener("click", (e) => {
        e.stopPropagation();
        const now = (doc().tracks.find((x) => x.name === track.name) || {})[op];
        bus.edit({ op, track: track.name, on: !now });
        bus.focus();
      });
      switches.appendChild(b);
    }
    label.appendChild(switches);
    const grip = h("div", "nbe-grip", "", "Drag to change the track's height (view only)");
    grip.addEventListener("pointerdown", (e) => {
      e.stopPropagation();
      e.preventDefault();
      const lane = grip.closest(".nbe-lane");
      const y0 = e.clientY;
      const h0 = lane.getBoundingClientRect().height;
      const move = (ev) => {
        const px = Math.max(22, Math.min(200, Math.round(h0 + ev.clientY - y0)));
        heights.set(track.name, px);
        lane.style.height = `${px}px`;
      };
      const up = () => { window.removeEventListener("pointermove", move); window.removeEventListener("pointerup", up); };
      window.addEventListener("pointermove", move);
      window.addEventListener("pointerup", up);
    });
    label.appendChild(grip);
    return label;
  }

  // lanes for the tracks (made again only when the tracks themselves change: then true)
  function ensureLanes(tracks) {
    const order = shown(tracks);
    const same = laneRecs.length === order.length
      && laneRecs.every((r, i) => r.name === order[i].name && r.kind === order[i].kind);
    if (same) return false;
    lanes.innerHTML = "";
    laneRecs = order.map((track) => {
      const el = h("div", `nbe-lane nbe-lane-${track.kind}`);
      el.dataset.track = track.name;
      if (heights.has(track.name)) el.style.height = `${heights.get(track.name)}px`;
      el.appendChild(header(track));
      lanes.appendChild(el);
      return { name: track.name, kind: track.kind, el, drawn: new Map(), xf: new Map() };
    });
    laneOf = new Map(laneRecs.map((r) => [r.name, r]));
    return true;
  }

  // the switches as the track has them
  function drawSwitches(rec, track) {
    for (const op of ["mute", "solo", "lock"]) {
      rec.el.classList.toggle(`nbe-is-${op}`, !!track[op]);
      const b = rec.el.querySelector(`.nbe-switch.nbe-${op}`);
      if (b) { b.classList.toggle("nbe-on", !!track[op]); b.setAttribute("aria-pressed", String(!!track[op])); }
    }
  }

  // markers: the timeline's on the ruler (drag one to move it), a clip's on its lane
  let markerEls = [];
  function drawMarkers() {
    for (const el of markerEls) el.remove();
    markerEls = [];
    const d = doc();
    const trackOf = new Map();
    for (const track of d.tracks) for (const c of track.items) trackOf.set(c.id, track.name);
    for (const m of d.markers || []) {
      const parent = m.clip ? (laneOf.get(trackOf.get(m.clip)) || {}).el : ruler;
      if (!parent) continue;
      const el = h("div", m.clip ? "nbe-marker nbe-clip-marker" : "nbe-marker", "", `${m.name || "marker"} (${m.id}) at ${bus.timecode(m.at)}${m.note ? `: ${m.note}` : ""}`);
      el.dataset.id = m.id;
      el.style.left = `${xOf(m.at)}px`;
      el.style.setProperty("--nbe-marker", m.color.toLowerCase());
      if (m.duration) el.style.width = `${(m.duration / fps()) * zoom()}px`;
      if (!m.clip) el.addEventListener("pointerdown", (e) => dragMarker(e, el, m));
      parent.appendChild(el);
      markerEls.push(el);
    }
  }

  function dragMarker(e, el, m) {
    e.stopPropagation();
    e.preventDefault();
    bus.focus();
    const x0 = e.clientX;
    let to = m.at;
    const move = (ev) => {
      to = Math.max(0, snap(frameOf(xOf(m.at) + ev.clientX - x0), null));
      el.style.left = `${xOf(to)}px`;
    };
    const up = () => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      if (to !== m.at) bus.edit({ op: "move_marker", id: m.id, at: to });
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  }

  // draw the lanes named in `only` (all when null) over the visible span
  function draw(only = null) {
    const d = bus.doc();
    if (!d || !d.tracks) return;
    const t0 = performance.now();
    const width = xOf(d.frames) + 200;
    canvas.style.width = `${Math.max(width, scroller.clientWidth)}px`;
    if (ensureLanes(d.tracks)) only = null;
    const [a, b] = span();
    for (const track of d.tracks) {
      const rec = laneOf.get(track.name);
      if (!only || only.has(track.name)) drawLane(rec, track, a, b);
      drawSwitches(rec, track);
    }
    if (wantPeaks.length) model.send({ type: "peaks", clips: wantPeaks });
    for (const msg of wantThumbs) model.send(msg);
    wantPeaks = [];
    wantThumbs = [];
    drawRuler();
    drawMarkers();
    info.textContent = `${d.name} · ${d.width}×${d.height} · ${(+d.fps).toFixed(3)} fps · ${bus.timecode(d.frames)}`;
    drawPlayhead();
    box.dataset.seq = String(bus.seq());
    box.dataset.drawMs = (performance.now() - t0).toFixed(2);
  }

  function drawPlayhead() {
    playhead.style.left = `${xOf(model.get("playhead"))}px`;
    const ph = xOf(model.get("playhead"));
    if (ph < scroller.scrollLeft + LABEL_W || ph > scroller.scrollLeft + scroller.clientWidth - 20) {
      if (bus.playing()) scroller.scrollLeft = ph - LABEL_W - 20;
    }
  }

  function markSelection() {
    const selected = new Set(model.get("selection") || []);
    for (const rec of laneRecs) {
      for (const [id, r] of rec.drawn) r.el.classList.toggle("nbe-selected", selected.has(id));
    }
  }

  bus.on("thumbs", (msg, buffers) => {
    const key = msg.key || msg.clip;
    const url = URL.createObjectURL(new Blob([buffers[0]], { type: "image/jpeg" }));
    if (thumbs.has(key)) URL.revokeObjectURL(thumbs.get(key));
    thumbs.delete(key);
    thumbs.set(key, url);
    while (thumbs.size > THUMBS_KEPT) {
      const [old, oldUrl] = thumbs.entries().next().value;
      URL.revokeObjectURL(oldUrl);
      thumbs.delete(old);
      asked.delete(old);
    }
    for (const rec of laneRecs) {
      for (const r of rec.drawn.values()) if (r.key === key) r.el.style.backgroundImage = `url(${url})`;
    }
  });

  bus.on("peaks", (msg) => {
    for (const [key, levels] of Object.entries(msg.peaks || {})) {
      peaks.set(key, levels);
      for (const rec of laneRecs) {
        for (const r of rec.drawn.values()) {
          if (r.key !== key || !r.dressed || r.el.querySelector(".nbe-wave")) continue;
          r.el.insertBefore(waveform(levels), r.el.firstChild);
        }
      }
    }
  });

  // ---- gestures ----

  function seekTo(x) { bus.seek(frameOf(x + scroller.scrollLeft - scroller.getBoundingClientRect().left)); }

  ruler.addEventListener("pointerdown", (e) => {
    seekTo(e.clientX);
    const move = (ev) => seekTo(ev.clientX);
    const up = () => { window.removeEventListener("pointermove", move); window.removeEventListener("pointerup", up); };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
    bus.focus();
  });
  playhead.addEventListener("pointerdown", (e) => ruler.dispatchEvent(new PointerEvent("pointerdown", e)));

  lanes.addEventListener("pointerdown", (e) => {
    if (e.target.closest(".nbe-label")) return;
    const clipEl = e.target.closest(".nbe-clip");
    bus.focus();
    if (!clipEl) { model.set("selection", []); model.save_changes(); seekTo(e.clientX); return; }
    const id = clipEl.dataset.id;
    model.set("selection", [id]);
    model.save_changes();
    const clip = findClip(id);
    if (!clip || clipEl.closest(".nbe-is-lock")) return; // a locked track's clips can be selected, not dragged
    dragging = id;
    const edge = e.target.dataset.edge;
    const startX = e.clientX;
    const origLeft = parseFloat(clipEl.style.left);
    const origWidth = parseFloat(clipEl.style.width);
    let result = null;
    const move = (ev) => {
      const dx = ev.clientX - startX;
      if (edge === "in") {
        const f = snap(frameOf(origLeft + dx), id);
        clipEl.style.left = `${xOf(f)}px`;
        clipEl.style.width = `${origWidth - (xOf(f) - origLeft)}px`;
        result = { op: "trim", clip: id, edge: "in", to: f / fps() };
      } else if (edge === "out") {
        const f = snap(frameOf(origLeft + origWidth + dx), id);
        clipEl.style.width = `${Math.max(2, xOf(f) - origLeft)}px`;
        result = { op: "trim", clip: id, edge: "out", to: f / fps() };
      } else {
        let f = frameOf(origLeft + dx);
        const fEnd = snap(f + clip.dur, id);
        const fStart = snap(f, id);
        f = fStart !== f ? fStart : fEnd !== f + clip.dur ? fEnd - clip.dur : f;
        f = Math.max(0, f);
        clipEl.style.left = `${xOf(f)}px`;
        const lane = document.elementsFromPoint(ev.clientX, ev.clientY).find((n) => n.classList && n.classList.contains("nbe-lane"));
        const track = lane ? lane.dataset.track : null;
        result = { op: "move", clip: id, to: f / fps(), track };
      }
      if (Math.abs(dx) > 2) clipEl.classList.add("nbe-dragging");
    };
    const up = (ev) => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      clipEl.classList.remove("nbe-dragging");
      dragging = null;
      if (result && Math.abs(ev.clientX - startX) > 2) {
        if (ev.altKey || ev.shiftKey) result.ripple = true;
        bus.edit(result); // the clip stays where it was dropped until the kernel's answer redraws its track
      } else draw();
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
    e.preventDefault();
  });

  function findClip(id) {
    for (const t of doc().tracks) for (const c of t.items) if (c.id === id) return c;
    return null;
  }

  const setZoom = (z) => { model.set("zoom", Math.min(2000, Math.max(2, z))); model.save_changes(); };
  zoomIn.addEventListener("click", () => setZoom(zoom() * 1.5));
  zoomOut.addEventListener("click", () => setZoom(zoom() / 1.5));
  scroller.addEventListener("wheel", (e) => {
    if (!(e.ctrlKey || e.metaKey)) return;
    e.preventDefault();
    setZoom(zoom() * (e.deltaY < 0 ? 1.2 : 1 / 1.2));
  }, { passive: false });
  bus.zoom = setZoom;

  // scrolling and resizing draw what comes into view, once per animation frame
  let pending = false;
  const drawSoon = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; draw(); });
  };
  scroller.addEventListener("scroll", drawSoon, { passive: true });
  const resize = typeof ResizeObserver === "undefined" ? null : new ResizeObserver(drawSoon);
  if (resize) resize.observe(scroller);

  bus.on("doc", (changed) => draw(changed));
  model.on("change:zoom", () => draw());
  model.on("change:status", () => { if (model.get("status")) draw(); }); // a refused gesture: back to the doc
  model.on("change:selection", markSelection);
  model.on("change:playhead", drawPlayhead);
  draw();
  return () => {
    if (resize) resize.disconnect();
    for (const url of thumbs.values()) URL.revokeObjectURL(url);
  };
}
