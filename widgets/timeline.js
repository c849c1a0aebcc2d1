// Timeline: ruler with timecode, tracks, clips with names and thumbnail strips, crossfades, audio waveforms,
// playhead, zoom and scroll, selection and snapping. Gestures are sent to the kernel as edits; the kernel answers
// with a new `doc`, so what is drawn is always the session's state.
// Plain script (no import/export): nbedit joins preview.js, timeline.js and editor.js into one ES module.

const LABEL_W = 44;
const SNAP_PX = 8;

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

  const thumbs = new Map(); // clip id -> object URL of its thumbnail strip
  const asked = new Set();

  const fps = () => model.get("doc").fps || 24;
  const zoom = () => model.get("zoom");
  const xOf = (frame) => LABEL_W + (frame / fps()) * zoom();
  const frameOf = (x) => Math.round(((x - LABEL_W) / zoom()) * fps());

  function snapPoints(exceptId) {
    const pts = [model.get("playhead")];
    for (const t of model.get("doc").tracks || []) {
      for (const c of t.items) {
        if (c.id === exceptId) continue;
        pts.push(c.start, c.start + c.dur);
      }
    }
    return pts;
  }

  function snap(frame, exceptId) {
    let best = frame;
    let bestPx = SNAP_PX + 1;
    for (const p of snapPoints(exceptId)) {
      const px = Math.abs(xOf(p) - xOf(frame));
      if (px < bestPx) { best = p; bestPx = px; }
    }
    return best;
  }

  function drawRuler(doc) {
    ruler.innerHTML = "";
    const seconds = doc.frames / (doc.fps || 24);
    const step = [0.5, 1, 2, 5, 10, 30, 60, 300].find((s) => s * zoom() >= 70) || 600;
    for (let t = 0; t <= seconds + step; t += step) {
      const tick = h("div", "nbe-tick", bus.timecode(Math.round(t * doc.fps)));
      tick.style.left = `${xOf(t * doc.fps)}px`;
      ruler.appendChild(tick);
    }
  }

  function drawClip(lane, track, c) {
    const el = h("div", `nbe-clip nbe-${track.kind}`);
    if (c.generated) el.classList.add("nbe-generated");
    if (c.offline) el.classList.add("nbe-offline");
    if ((model.get("selection") || []).includes(c.id)) el.classList.add("nbe-selected");
    el.dataset.id = c.id;
    el.style.left = `${xOf(c.start)}px`;
    el.style.width = `${Math.max(2, (c.dur / fps()) * zoom())}px`;
    el.title = `${c.name} (${c.id})${c.speed !== 1 ? `, speed ${c.speed}` : ""}${c.offline ? ", MEDIA OFFLINE" : ""}`;
    if (track.kind === "video") {
      if (thumbs.has(c.id)) el.style.backgroundImage = `url(${thumbs.get(c.id)})`;
      else if (!asked.has(c.id)) { asked.add(c.id); model.send({ type: "thumbs", clip: c.id, count: 6, height: 36 }); }
    } else if (c.peaks) {
      el.appendChild(waveform(c.peaks));
    }
    el.appendChild(h("span", "nbe-clip-name", c.offline ? `${c.name} (offline)` : c.name));
    for (const edge of ["in", "out"]) {
      const handle = h("div", `nbe-handle nbe-${edge}`);
      handle.dataset.edge = edge;
      el.appendChild(handle);
    }
    lane.appendChild(el);
  }

  function waveform(peaks) {
    const w = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    w.setAttribute("class", "nbe-wave");
    w.setAttribute("viewBox", `0 0 ${peaks.length} 2`);
    w.setAttribute("preserveAspectRatio", "none");
    let d = "";
    peaks.forEach((p, i) => { d += `M${i + 0.5} ${1 - p} L${i + 0.5} ${1 + p} `; });
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", d);
    w.appendChild(path);
    return w;
  }

  function draw() {
    const doc = model.get("doc");
    if (!doc || !doc.tracks) return;
    lanes.innerHTML = "";
    const width = xOf(doc.frames) + 200;
    canvas.style.width = `${Math.max(width, scroller.clientWidth)}px`;
    drawRuler(doc);
    for (const track of doc.tracks) {
      const lane = h("div", `nbe-lane nbe-lane-${track.kind}`);
      lane.dataset.track = track.name;
      lane.appendChild(h("div", "nbe-label", track.name));
      for (const c of track.items) drawClip(lane, track, c);
      for (const x of track.xfades) {
        const el = h("div", "nbe-xfade", "", `crossfade ${x.name}`);
        el.style.left = `${xOf(x.start)}px`;
        el.style.width = `${((x.end - x.start) / fps()) * zoom()}px`;
        lane.appendChild(el);
      }
      lanes.appendChild(lane);
    }
    info.textContent = `${doc.name} · ${doc.width}×${doc.height} · ${(+doc.fps).toFixed(3)} fps · ${bus.timecode(doc.frames)}`;
    drawPlayhead();
  }

  function drawPlayhead() {
    playhead.style.left = `${xOf(model.get("playhead"))}px`;
    const ph = xOf(model.get("playhead"));
    if (ph < scroller.scrollLeft + LABEL_W || ph > scroller.scrollLeft + scroller.clientWidth - 20) {
      if (bus.playing()) scroller.scrollLeft = ph - LABEL_W - 20;
    }
  }

  bus.on("thumbs", (msg, buffers) => {
    const url = URL.createObjectURL(new Blob([buffers[0]], { type: "image/jpeg" }));
    if (thumbs.has(msg.clip)) URL.revokeObjectURL(thumbs.get(msg.clip));
    thumbs.set(msg.clip, url);
    for (const el of lanes.querySelectorAll(`.nbe-clip[data-id="${msg.clip}"]`)) el.style.backgroundImage = `url(${url})`;
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
    const clipEl = e.target.closest(".nbe-clip");
    bus.focus();
    if (!clipEl) { model.set("selection", []); model.save_changes(); seekTo(e.clientX); return; }
    const id = clipEl.dataset.id;
    model.set("selection", [id]);
    model.save_changes();
    const clip = findClip(id);
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
      if (result && Math.abs(ev.clientX - startX) > 2) {
        if (ev.altKey || ev.shiftKey) result.ripple = true;
        bus.edit(result);
      }
      else draw();
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
    e.preventDefault();
  });

  function findClip(id) {
    for (const t of model.get("doc").tracks) for (const c of t.items) if (c.id === id) return c;
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

  model.on("change:doc", draw);
  model.on("change:zoom", draw);
  model.on("change:selection", draw);
  model.on("change:playhead", drawPlayhead);
  draw();
  return () => { for (const url of thumbs.values()) URL.revokeObjectURL(url); };
}
