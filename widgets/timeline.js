// Timeline: ruler with timecode, tracks, clips with names and thumbnail strips, crossfades, audio waveforms,
// playhead, zoom and scroll, selection and snapping. Gestures are sent to the kernel as edits; the kernel answers
// with the tracks that changed, so what is drawn is always the session's state.
// Lanes are virtualized: only the clips, crossfades and ruler ticks inside the visible stretch of the timeline
// (plus a margin each side) have DOM elements; scrolling and zooming draw the ones that come into view. Thumbnail
// tiles and waveform peaks are asked for only for the part of each clip in view, at the zoom's resolution (a
// thumbnail every thumbnail width or so, about a peak a pixel), in chunks kept by clip content and zoom level.
// Plain script (no import/export): nbedit joins preview.js, timeline.js and editor.js into one ES module.

const LABEL_W = 100; // the track headers: name, mute / solo / lock, height
const SNAP_PX = 8;
const MARGIN_PX = 800; // drawn beyond each side of the visible window
const THUMBS_KEPT = 600; // thumbnail chunks held (object URLs), least recently drawn first out
const PEAKS_KEPT = 2000; // waveform chunks held
const TILE_H = 36; // thumbnail height in px
const TILES = 8; // thumbnails a chunk (one message, one JPEG)
const PEAKS = 256; // waveform peaks a chunk
const VIEW_PX = 200; // media is asked for this far beyond each side of what the scroller shows
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
  mountTools(head, bus);
  mountDetect(head, bus);

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
  box.dataset.tool = bus.tool();
  bus.on("tool", (name) => { box.dataset.tool = name; });

  const thumbs = new Map(); // chunk key (clip content, level, index) -> object URL of its tiles (insertion order: LRU)
  const asked = new Set(); // chunk keys whose tiles were asked for
  const peaks = new Map(); // chunk key -> peak levels (insertion order: LRU)
  const askedPeaks = new Set();
  const aspects = new Map(); // media id -> a thumbnail's width / height, as the kernel made the last ones
  let laneRecs = []; // per track, top to bottom: { name, el, drawn: Map(id -> { el, c, key }), xf: Map(name -> el) }
  let laneOf = new Map(); // track name -> its lane record
  const heights = new Map(); // track name -> lane height in px (view state only: never recorded)
  const held = new Set(); // the clips a gesture shows where it will put them: kept drawn, placed by it alone
  const touched = new Set(); // the tracks whose drawing a gesture changed: drawn again with its answer

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

  // the edges near frame, but those of the clips named in except (an id, or a Set of them)
  function snapPoints(frame, except) {
    const skip = except instanceof Set ? except : new Set([except]);
    const reach = Math.ceil(((SNAP_PX + 1) / zoom()) * fps());
    const pts = [model.get("playhead")];
    for (const t of doc().tracks) {
      const items = t.items;
      for (let i = firstEndingAfter(items, frame - reach - 1); i < items.length; i++) {
        const c = items[i];
        if (c.start > frame + reach) break;
        if (!skip.has(c.id)) pts.push(c.start, c.start + c.dur);
      }
    }
    return pts;
  }

  // the snap point nearest frame within reach: [frame, its distance in px] (Infinity: none in reach)
  function nearest(frame, exceptId) {
    let best = frame;
    let bestPx = Infinity;
    for (const p of snapPoints(frame, exceptId)) {
      const px = Math.abs(xOf(p) - xOf(frame));
      if (px <= SNAP_PX && px < bestPx) { best = p; bestPx = px; }
    }
    return [best, bestPx];
  }

  const snap = (frame, exceptId) => nearest(frame, exceptId)[0];

  // a clip of dur frames put at frame f: its start or its end snaps, whichever is nearer a snap point
  function snapBody(f, dur, exceptId) {
    const [a, pa] = nearest(f, exceptId);
    const [b, pb] = nearest(f + dur, exceptId);
    return pa <= pb ? a : b - dur;
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
  // what to ask for, gathered while drawing: waveform peaks in one message (quick to make), then thumbnails
  let wantPeaks = [];
  let wantThumbs = [];

  // zoom levels a factor 2^(1/3) apart: thumbnails every so many frames, peaks so many a second
  const level = (x) => 2 ** (Math.round(3 * Math.log2(x)) / 3);
  const tileFrames = (media) => Math.max(1, Math.round(level(((TILE_H * (aspects.get(media) || 16 / 9)) / zoom()) * fps())));
  const peakRate = () => Math.round(level(zoom()) * 1000) / 1000;

  // the frames the scroller shows, and VIEW_PX beyond
  function inView() {
    const width = scroller.clientWidth || 1600;
    return [frameOf(scroller.scrollLeft - VIEW_PX), frameOf(scroller.scrollLeft + width + VIEW_PX)];
  }

  function layer(r, cls) {
    let el = r.el.querySelector(`:scope > .${cls}`);
    if (!el) { el = h("div", cls); r.el.insertBefore(el, r.el.firstChild); }
    return el;
  }

  function touch(cache, key) {
    const v = cache.get(key);
    cache.delete(key); // most recently drawn last
    cache.set(key, v);
    return v;
  }

  // a drawn clip's thumbnails or waveform over the part of it in view, once it is wide enough to show any: the
  // chunks that came are shown, the others asked for; chunks far out of view are let go
  function dress(r, kind) {
    const { c } = r;
    if (c.offline || (c.dur / fps()) * zoom() < MEDIA_PX) return;
    const [va, vb] = inView();
    const a = Math.max(0, va - c.start);
    const b = Math.min(c.dur, vb - c.start);
    if (b <= a) return;
    if (kind === "video") dressThumbs(r, a, b);
    else dressWave(r, a, b);
  }

  function dressThumbs(r, a, b) {
    const { c } = r;
    const step = tileFrames(c.media);
    if (r.level !== step) { if (r.chunks) layer(r, "nbe-thumbs").innerHTML = ""; r.chunks = new Map(); r.level = step; }
    const holder = layer(r, "nbe-thumbs");
    const per = TILES * step;
    for (const [k, div] of r.chunks) {
      if ((k + 1) * per < a - per || k * per > b + per) { div.remove(); r.chunks.delete(k); }
    }
    for (let k = Math.floor(a / per); k * per < b; k++) {
      const count = Math.min(TILES, Math.ceil((c.dur - k * per) / step));
      let div = r.chunks.get(k);
      if (!div) {
        div = h("div", "nbe-tile");
        div.dataset.key = `${r.key}|t${step}|${k}`;
        r.chunks.set(k, div);
        holder.appendChild(div);
        const key = div.dataset.key;
        if (thumbs.has(key)) div.style.backgroundImage = `url(${touch(thumbs, key)})`;
        else if (!asked.has(key)) {
          asked.add(key);
          wantThumbs.push({ type: "thumbs", clip: c.id, key, spacing: step, first: k * TILES, count, height: TILE_H });
        }
      }
      div.style.left = `${((k * per) / fps()) * zoom()}px`;
      div.style.width = `${((count * step) / fps()) * zoom()}px`;
    }
  }

  function dressWave(r, a, b) {
    const { c } = r;
    const rate = peakRate();
    if (r.level !== rate) { if (r.chunks) layer(r, "nbe-waves").innerHTML = ""; r.chunks = new Map(); r.level = rate; }
    const holder = layer(r, "nbe-waves");
    const per = PEAKS / rate; // seconds a chunk
    const [sa, sb] = [a / fps(), b / fps()];
    for (const [k, svg] of r.chunks) {
      if ((k + 1) * per < sa - per || k * per > sb + per) { svg.remove(); r.chunks.delete(k); }
    }
    const total = Math.ceil((c.dur / fps()) * rate);
    for (let k = Math.floor(sa / per); k * per < sb; k++) {
      const key = `${r.key}|p${rate}|${k}`;
      let svg = r.chunks.get(k);
      if (!svg) {
        svg = waveform(peaks.has(key) ? touch(peaks, key) : []);
        svg.dataset.key = key;
        r.chunks.set(k, svg);
        holder.appendChild(svg);
        if (!peaks.has(key) && !askedPeaks.has(key)) {
          askedPeaks.add(key);
          wantPeaks.push([c.id, key, rate, k * PEAKS, Math.min(PEAKS, total - k * PEAKS)]);
        }
      }
      svg.style.left = `${k * per * zoom()}px`;
      svg.style.width = `${(Math.min(PEAKS, total - k * PEAKS) / rate) * zoom()}px`;
    }
  }

  function place(el, c) {
    el.style.left = `${xOf(c.start)}px`;
    el.style.width = `${Math.max(2, (c.dur / fps()) * zoom())}px`;
  }

  // a chunk's waveform: one vertical stroke a peak (none yet while its peaks are on their way)
  function waveform(levels) {
    const w = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    w.setAttribute("class", "nbe-wave");
    w.setAttribute("preserveAspectRatio", "none");
    w.appendChild(document.createElementNS("http://www.w3.org/2000/svg", "path"));
    if (levels.length) drawWave(w, levels);
    return w;
  }

  function drawWave(w, levels) {
    w.setAttribute("viewBox", `0 0 ${levels.length} 2`);
    w.dataset.peaks = String(levels.length);
    let d = "";
    levels.forEach((p, i) => { d += `M${i + 0.5} ${1 - p} L${i + 0.5} ${1 + p} `; });
    w.firstChild.setAttribute("d", d);
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
        if (held.has(c.id)) continue; // the gesture's element stays as it is until the gesture ends
        r.el.remove();
        r = null;
      }
      if (!r) {
        r = { el: makeClip(track, c), c, key: keyOf(c), level: null, chunks: null };
        rec.drawn.set(c.id, r);
        rec.el.appendChild(r.el);
      }
      r.el.classList.toggle("nbe-selected", selected.has(c.id));
      if (r.el.parentNode !== rec.el) rec.el.appendChild(r.el); // back from a drag to another lane
      if (!held.has(c.id)) place(r.el, c);
      dress(r, track.kind);
    }
    for (const [id, r] of rec.drawn) {
      if (!want.has(id) && !held.has(id)) { r.el.remove(); rec.drawn.delete(id); }
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
      if (m.duration) {
        el.style.width = `${(m.duration / fps()) * zoom()}px`;
        el.classList.add("nbe-marker-range"); // a marker with a duration (a speech region) shows as a band
      }
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
    playhead.dataset.frame = String(model.get("playhead")); // (the view's playhead, ahead of the kernel's in a drag)
    const ph = xOf(model.get("playhead"));
    if (ph < scroller.scrollLeft + LABEL_W || ph > scroller.scrollLeft + scroller.clientWidth - 20) {
      if (bus.playing()) scroller.scrollLeft = ph - LABEL_W - 20;
    }
  }

  function markSelection(shown = null) {
    const selected = shown instanceof Set ? shown : new Set(model.get("selection") || []);
    for (const rec of laneRecs) {
      for (const [id, r] of rec.drawn) r.el.classList.toggle("nbe-selected", selected.has(id));
    }
  }

  // the tiles of a chunk, or the peaks of chunks, as they come: shown on the drawn clips that wait for them
  const waiting = (key) => {
    const out = [];
    for (const rec of laneRecs) {
      for (const r of rec.drawn.values()) {
        if (!r.chunks || !key.startsWith(`${r.key}|`)) continue;
        for (const el of r.chunks.values()) if (el.dataset.key === key) out.push(el);
      }
    }
    return out;
  };

  bus.on("thumbs", (msg, buffers) => {
    const key = msg.key || msg.clip;
    const url = URL.createObjectURL(new Blob([buffers[0]], { type: "image/jpeg" }));
    if (thumbs.has(key)) URL.revokeObjectURL(thumbs.get(key));
    thumbs.delete(key);
    thumbs.set(key, url);
    const clip = findDrawn(msg.clip);
    if (clip && msg.aspect) aspects.set(clip.media, msg.aspect);
    while (thumbs.size > THUMBS_KEPT) {
      const [old, oldUrl] = thumbs.entries().next().value;
      URL.revokeObjectURL(oldUrl);
      thumbs.delete(old);
      asked.delete(old);
    }
    for (const div of waiting(key)) div.style.backgroundImage = `url(${url})`;
  });

  bus.on("peaks", (msg) => {
    for (const [key, levels] of Object.entries(msg.peaks || {})) {
      peaks.set(key, levels);
      for (const svg of waiting(key)) drawWave(svg, levels);
    }
    while (peaks.size > PEAKS_KEPT) {
      const old = peaks.keys().next().value;
      peaks.delete(old);
      askedPeaks.delete(old);
    }
  });

  function findDrawn(id) {
    for (const rec of laneRecs) if (rec.drawn.has(id)) return rec.drawn.get(id).c;
    return null;
  }

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

  // A drag shows its outcome from its first pixel: the clips it changes are placed where the edit will put them
  // (the clips themselves, held out of the redraws), and the kernel's answer redraws their tracks from the
  // session. A gesture sends one edit, so it records one cell; one that changes nothing sends none.
  const frameAt = (clientX) => frameOf(clientX + scroller.scrollLeft - scroller.getBoundingClientRect().left);
  const trackOf = (id) => doc().tracks.find((t) => t.items.some((c) => c.id === id));
  const elOf = (id) => { for (const rec of laneRecs) if (rec.drawn.has(id)) return rec.drawn.get(id).el; return null; };
  const laneAt = (x, y) => document.elementsFromPoint(x, y).find((n) => n.classList && n.classList.contains("nbe-lane"));

  function select(ids) {
    model.set("selection", ids);
    model.save_changes();
    markSelection();
  }

  // the clip touching clip c on its track, after it (side 1) or before it (-1); null across a gap
  function touching(track, c, side) {
    const n = track.items[track.items.indexOf(c) + side];
    if (!n) return null;
    return (side > 0 ? n.start === c.start + c.dur : n.start + n.dur === c.start) ? n : null;
  }

  // a clip's element placed at [start, start + dur) for now, held there until the gesture ends
  function show(track, c, start, dur) {
    const el = elOf(c.id);
    held.add(c.id);
    touched.add(track.name);
    if (!el) return;
    el.style.left = `${xOf(start)}px`;
    el.style.width = `${Math.max(2, (dur / fps()) * zoom())}px`;
  }

  // clips on the track after frame `from`, shown `by` frames later (a ripple); as drawn, back with by = 0
  function shiftAfter(track, from, by) {
    const rec = laneOf.get(track.name);
    for (const r of rec.drawn.values()) if (r.c.start >= from) show(track, r.c, r.c.start + by, r.c.dur);
  }

  // what a drag does, by tool and by where it took the clip: to(d, ev) shows the edit for a pointer d frames
  // from where it went down, and returns the message that makes it (null: nothing to do)
  function gesture(tool, edge, track, c, el) {
    const end = c.start + c.dur;
    const speedFrames = (seconds) => Math.round((seconds * fps()) / (c.speed || 1));
    if (edge && tool === "roll") {
      const a = edge === "out" ? c : touching(track, c, -1);
      const b = edge === "out" ? touching(track, c, 1) : c;
      if (a && b) {
        const cut = b.start;
        return (d) => {
          const k = Math.min(b.start + b.dur - 1, Math.max(a.start + 1, snap(cut + d, new Set([a.id, b.id]))));
          show(track, a, a.start, k - a.start);
          show(track, b, k, b.start + b.dur - k);
          return k === cut ? null : { op: "roll", a: a.id, b: b.id, by: k - cut };
        };
      }
      // no clip on the other side of the cut: the edge trims, as with the selection tool
    }
    const ripple = tool === "ripple";
    if (edge === "in") {
      const first = Math.max(0, c.start - speedFrames(c.src_in));
      return (d, ev) => {
        const f = Math.min(end - 1, Math.max(first, snap(c.start + d, c.id)));
        const rippled = ripple || ev.altKey || ev.shiftKey;
        if (rippled) {
          show(track, c, c.start, end - f);
          shiftAfter(track, end, c.start - f);
        } else show(track, c, f, end - f);
        return f === c.start ? null : { op: "trim", clip: c.id, edge: "in", to: f / fps(), ripple: rippled };
      };
    }
    if (edge === "out") {
      return (d, ev) => {
        const f = Math.max(c.start + 1, snap(end + d, c.id));
        const rippled = ripple || ev.altKey || ev.shiftKey;
        show(track, c, c.start, f - c.start);
        if (rippled) shiftAfter(track, end, f - end);
        return f === end ? null : { op: "trim", clip: c.id, edge: "out", to: f / fps(), ripple: rippled };
      };
    }
    if (tool === "slip") {
      // as in Premiere: the media moves with the pointer under the clip's window, so dragging right shows
      // earlier frames; the thumbnails follow it
      return (d) => {
        const by = Math.max(-Math.round(c.src_in * fps()), -d); // no earlier than the media's first frame
        held.add(c.id);
        for (const t of el.querySelectorAll(".nbe-thumbs, .nbe-waves")) t.style.transform = `translateX(${(-by / fps()) * zoom()}px)`;
        el.dataset.live = by ? `slip ${by > 0 ? "+" : ""}${by} fr` : "";
        return by ? { op: "slip", clip: c.id, by } : null;
      };
    }
    if (tool === "slide") {
      const before = touching(track, c, -1);
      const after = touching(track, c, 1);
      const i = track.items.indexOf(c);
      const prevEnd = i > 0 ? track.items[i - 1].start + track.items[i - 1].dur : 0;
      const next = track.items[i + 1];
      // the neighbours (or the gaps there) keep a frame at least; a clip that ends its track may slide on
      const lo = before ? -(before.dur - 1) : -Math.max(0, c.start - prevEnd - 1);
      const hi = after ? after.dur - 1 : next ? next.start - end - 1 : Infinity;
      const mine = new Set([c.id, ...(before ? [before.id] : []), ...(after ? [after.id] : [])]);
      return (d) => {
        const n = Math.min(hi, Math.max(lo, snapBody(c.start + d, c.dur, mine) - c.start));
        show(track, c, c.start + n, c.dur);
        if (before) show(track, before, before.start, before.dur + n);
        if (after) show(track, after, after.start + n, after.dur - n);
        el.dataset.live = n ? `slide ${n > 0 ? "+" : ""}${n} fr` : "";
        return n ? { op: "slide", clip: c.id, by: n } : null;
      };
    }
    // the body with the selection or ripple tool: a move, along the track and to another track of its kind
    return (d, ev) => {
      const f = Math.max(0, snapBody(c.start + d, c.dur, c.id));
      const lane = laneAt(ev.clientX, ev.clientY);
      const target = lane && lane.dataset.track && laneOf.get(lane.dataset.track);
      const rec = target && target.kind === track.kind ? target : laneOf.get(track.name);
      if (el.parentNode !== rec.el) rec.el.appendChild(el);
      show(track, c, f, c.dur);
      touched.add(rec.name);
      if (f === c.start && rec.name === track.name) return null;
      return { op: "move", clip: c.id, to: f / fps(), track: rec.name };
    };
  }

  // the razor: the clip under the pointer is cut at the (snapped) frame there
  function blade(e, track, c) {
    const f = snap(frameAt(e.clientX), c.id);
    if (f > c.start && f < c.start + c.dur) bus.edit({ op: "blade", clip: c.id, at: f });
  }
  const bladeLine = h("div", "nbe-blade-line");
  lanes.addEventListener("pointermove", (e) => {
    const on = bus.tool && bus.tool() === "blade" && !!e.target.closest(".nbe-clip");
    bladeLine.style.display = on ? "block" : "none";
    if (on) {
      bladeLine.style.left = `${xOf(snap(frameAt(e.clientX), null))}px`;
      if (bladeLine.parentNode !== canvas) canvas.appendChild(bladeLine);
    }
  });
  lanes.addEventListener("pointerleave", () => { bladeLine.style.display = "none"; });

  // a drag from empty lane space: a marquee selecting every clip it touches (added to the selection with
  // Shift or Ctrl/Cmd); a click there clears the selection and moves the playhead
  function marquee(e, add) {
    const base = add ? model.get("selection") || [] : [];
    const x0 = e.clientX;
    const y0 = e.clientY;
    let rect = null;
    let ids = base;
    const move = (ev) => {
      if (!rect && Math.abs(ev.clientX - x0) + Math.abs(ev.clientY - y0) < 4) return;
      if (!rect) { rect = h("div", "nbe-marquee"); canvas.appendChild(rect); }
      const c = canvas.getBoundingClientRect();
      const [l, r] = [Math.min(x0, ev.clientX), Math.max(x0, ev.clientX)];
      const [t, b] = [Math.min(y0, ev.clientY), Math.max(y0, ev.clientY)];
      Object.assign(rect.style, { left: `${l - c.left}px`, top: `${t - c.top}px`, width: `${r - l}px`, height: `${b - t}px` });
      const fa = frameAt(l);
      const fb = frameAt(r);
      const hit = new Set(base);
      for (const rec of laneRecs) {
        const lr = rec.el.getBoundingClientRect();
        if (lr.bottom <= t || lr.top >= b) continue;
        const track = doc().tracks.find((x) => x.name === rec.name);
        for (let i = firstEndingAfter(track.items, fa); i < track.items.length && track.items[i].start <= fb; i++) hit.add(track.items[i].id);
      }
      ids = [...hit];
      markSelection(new Set(ids));
    };
    const up = (ev) => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      if (rect) { rect.remove(); select(ids); return; }
      if (!add) select([]);
      seekTo(ev.clientX);
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  }

  lanes.addEventListener("pointerdown", (e) => {
    if (e.button !== 0 || e.target.closest(".nbe-label")) return;
    bus.focus();
    e.preventDefault();
    const add = e.shiftKey || e.ctrlKey || e.metaKey;
    const el = e.target.closest(".nbe-clip");
    if (!el) { marquee(e, add); return; }
    const id = el.dataset.id;
    const edge = e.target.dataset.edge;
    const selection = model.get("selection") || [];
    if (add && !edge) { select(selection.includes(id) ? selection.filter((x) => x !== id) : [...selection, id]); return; }
    if (!(selection.length === 1 && selection[0] === id)) select([id]);
    const track = trackOf(id);
    const c = track && track.items.find((x) => x.id === id);
    if (!c || el.closest(".nbe-is-lock")) return; // a locked track's clips can be selected, not changed
    const tool = bus.tool ? bus.tool() : "select";
    if (tool === "blade") { blade(e, track, c); return; }
    const to = gesture(tool, edge, track, c, el);
    const x0 = e.clientX;
    const y0 = e.clientY;
    let result = null;
    const move = (ev) => {
      if (ev.clientX === x0 && ev.clientY === y0 && !held.size) return;
      el.classList.add("nbe-dragging");
      result = to(Math.round(((ev.clientX - x0) / zoom()) * fps()), ev);
    };
    const up = () => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      window.removeEventListener("keydown", cancel, true);
      el.classList.remove("nbe-dragging");
      el.dataset.live = "";
      held.clear();
      if (result) bus.edit(result); // what it shows stays until the kernel's answer redraws those tracks
      else { undrag(); draw(); }
    };
    // Escape while dragging: everything back where it was, nothing sent
    const cancel = (ev) => {
      if (ev.key !== "Escape") return;
      ev.preventDefault();
      ev.stopPropagation();
      result = null;
      up();
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
    window.addEventListener("keydown", cancel, true);
  });

  // what a slip showed, undone (the redraw after the answer makes new elements only for changed clips)
  function undrag() {
    for (const rec of laneRecs) {
      for (const r of rec.drawn.values()) {
        for (const t of r.el.querySelectorAll(".nbe-thumbs, .nbe-waves")) t.style.transform = "";
      }
    }
    touched.clear();
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

  bus.on("doc", (changed) => {
    const only = changed && touched.size ? new Set([...changed, ...touched]) : changed;
    undrag();
    draw(only);
  });
  model.on("change:zoom", () => draw());
  model.on("change:status", () => { if (model.get("status")) { undrag(); draw(); } }); // a refused gesture: back to the doc
  model.on("change:selection", markSelection);
  model.on("change:playhead", drawPlayhead);
  draw();
  return () => {
    if (resize) resize.disconnect();
    for (const url of thumbs.values()) URL.revokeObjectURL(url);
  };
}
