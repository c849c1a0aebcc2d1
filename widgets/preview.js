// Preview: the frame at the playhead, its timecode and the transport bar.
// Plain script (no import/export): nbedit joins preview.js, timeline.js and editor.js into one ES module.

// An element with a class and, optionally, text and a tooltip (used by every part).
function h(tag, className, text = "", title = "") {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text) el.textContent = text;
  if (title) el.title = title;
  return el;
}

function mountPreview(root, bus) {
  const box = h("div", "nbe-preview");
  const screen = h("div", "nbe-screen");
  const stage = h("div", "nbe-stage"); // the frame and what is drawn over it, in the frame's own coordinates
  const img = h("img", "nbe-frame");
  img.alt = "preview frame";
  const mask = h("img", "nbe-mask-overlay");
  mask.alt = "";
  const crop = h("div", "nbe-crop", "", "The reframed crop at this frame: drag it to set a key here");
  const playing = h("canvas", "nbe-play"); // frames of a play, drawn on the clock (the img shows stills)
  playing.style.cssText = "position:absolute;left:0;top:0;width:100%;height:100%;display:none";
  stage.append(img, playing, mask, crop);
  screen.appendChild(stage);

  const bar = h("div", "nbe-transport");
  const button = (label, title, action) => {
    const b = h("button", "", label, title);
    b.addEventListener("click", (e) => { e.preventDefault(); action(); bus.focus(); });
    bar.appendChild(b);
    return b;
  };
  button("⇤", "Start (Home)", () => bus.seek(0));
  button("◀|", "Previous frame (Left)", () => bus.seek(bus.model.get("playhead") - 1));
  const play = button("▶", "Play / pause (Space)", () => bus.toggle());
  button("|▶", "Next frame (Right)", () => bus.seek(bus.model.get("playhead") + 1));
  button("⇥", "End (End)", () => bus.seek(bus.frames() - 1));
  // a button that turns a boolean trait of the widget on and off (the kernel then sends the frame again)
  const toggle = (label, title, trait) => {
    const on = () => !!bus.model.get(trait);
    const b = button(label, title, () => { bus.model.set(trait, !on()); bus.model.save_changes(); });
    const show = () => { b.classList.toggle("nbe-on", on()); b.setAttribute("aria-pressed", String(on())); };
    bus.model.on(`change:${trait}`, show);
    show();
    return b;
  };
  toggle("⬚", "Show the reframed clip's whole picture and its crop", "show_crop").classList.add("nbe-crop-toggle");
  toggle("◐", "Overlay the masks of the clips on screen", "show_mask").classList.add("nbe-mask-toggle");
  const aspect = h("select", "nbe-reframe", "", "Reframe the selected clip (or the whole timeline) to an aspect");
  for (const [value, text] of [["", "Reframe…"], ["9:16", "9:16"], ["1:1", "1:1"], ["4:5", "4:5"], ["16:9", "16:9"]]) {
    const o = h("option", "", text);
    o.value = value;
    aspect.appendChild(o);
  }
  aspect.addEventListener("keydown", (e) => e.stopPropagation()); // its arrow keys are not the editor's
  aspect.addEventListener("change", () => {
    if (!aspect.value) return;
    const sel = bus.model.get("selection") || [];
    bus.edit({ op: "reframe", aspect: aspect.value, clip: sel[0] || null });
    aspect.value = "";
    bus.focus();
  });
  const tc = h("span", "nbe-timecode", "00:00:00:00");
  const status = h("span", "nbe-status");
  bar.append(aspect, tc, status);

  box.appendChild(screen);
  box.appendChild(bar);
  root.appendChild(box);
  const unfit = fitPreview(screen, stage, img, bus);

  let url = null;
  let maskUrl = null;
  let cropClip = null;
  bus.on("play_frame", (n, bitmap) => {
    if (playing.width !== bitmap.width || playing.height !== bitmap.height) {
      playing.width = bitmap.width;
      playing.height = bitmap.height;
    }
    playing.getContext("2d").drawImage(bitmap, 0, 0);
    playing.style.display = "block";
    mask.style.display = crop.style.display = "none";
    img.dataset.frame = String(n);
    tc.textContent = bus.timecode(n);
  });
  // a frame that arrives while the one before is still being decoded waits for it (the newest only): replacing
  // the img's source would throw that decode away, and a drag would show fewer pictures than arrive
  let decoding = false;
  let decodeTurn = 0;
  let waiting = null;
  const decoded = () => {
    decoding = false;
    if (waiting) { const [m, b] = waiting; waiting = null; showFrame(m, b); }
  };
  img.addEventListener("load", decoded);
  img.addEventListener("error", decoded);
  bus.on("frame", (msg, buffers) => {
    if (decoding) { waiting = [msg, buffers]; return; }
    showFrame(msg, buffers);
  });
  function showFrame(msg, buffers) {
    if (bus.playing()) return; // a still asked for before the play began
    decoding = true;
    // a decode that never reports (no load or error event) must not hold every later frame back
    const mine = (decodeTurn += 1);
    setTimeout(() => { if (decoding && decodeTurn === mine) decoded(); }, 1500);
    playing.style.display = "none";
    const blob = new Blob([buffers[0]], { type: "image/jpeg" });
    const next = URL.createObjectURL(blob);
    img.src = next;
    img.dataset.frame = String(msg.n);
    img.dataset.view = msg.view || "program";
    if (url) URL.revokeObjectURL(url);
    url = next;
    tc.textContent = msg.timecode + (msg.view === "source" ? ` · source of ${msg.clip}` : "");
    if (maskUrl) { URL.revokeObjectURL(maskUrl); maskUrl = null; }
    if (msg.mask && buffers[1]) {
      maskUrl = URL.createObjectURL(new Blob([buffers[1]], { type: "image/png" }));
      mask.src = maskUrl;
    }
    mask.style.display = maskUrl ? "block" : "none";
    cropClip = msg.crop ? msg.clip : null;
    crop.style.display = msg.crop ? "block" : "none";
    if (msg.crop) placeCrop(msg.crop);
  }

  function placeCrop(box) {
    crop.style.left = `${box.x * 100}%`;
    crop.style.top = `${box.y * 100}%`;
    crop.style.width = `${box.w * 100}%`;
    crop.style.height = `${box.h * 100}%`;
  }

  // dragging the crop rectangle sets a key of the crop's centre at the playhead
  crop.addEventListener("pointerdown", (e) => {
    if (!cropClip) return;
    e.preventDefault();
    const area = stage.getBoundingClientRect();
    const start = { x: e.clientX, y: e.clientY };
    const box = {
      x: parseFloat(crop.style.left) / 100, y: parseFloat(crop.style.top) / 100,
      w: parseFloat(crop.style.width) / 100, h: parseFloat(crop.style.height) / 100,
    };
    let moved = box;
    const move = (ev) => {
      const dx = (ev.clientX - start.x) / area.width;
      const dy = (ev.clientY - start.y) / area.height;
      moved = { ...box, x: Math.min(Math.max(box.x + dx, 0), 1 - box.w), y: Math.min(Math.max(box.y + dy, 0), 1 - box.h) };
      placeCrop(moved);
    };
    const up = () => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      if (moved !== box) bus.edit({ op: "crop_key", clip: cropClip, x: moved.x + moved.w / 2, y: moved.y + moved.h / 2 });
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  });
  const speed = h("span", "nbe-speed");
  bar.insertBefore(speed, tc);
  bus.on("playing", (on, step) => {
    play.textContent = on ? "||" : "▶";
    speed.textContent = on && step !== 1 ? `${step > 0 ? "" : "−"}${Math.abs(step)}×` : "";
  });
  const showStatus = () => { status.textContent = bus.model.get("status"); };
  bus.model.on("change:status", showStatus);
  showStatus();
  return () => { unfit(); if (url) URL.revokeObjectURL(url); if (maskUrl) URL.revokeObjectURL(maskUrl); };
}

// The picture as large as the screen's width allows, and no taller than a share of the window, whatever the
// timeline's aspect: a 9:16 timeline gets a narrow, centred picture and the timeline stays in view below it. The
// aspect is the picture's own once one has come (a reframed clip's whole source, shown with its crop, has its
// source's), else the timeline's.
const PREVIEW_SHARE = 0.42; // of the window's height
const PREVIEW_MIN_H = 120;
const PREVIEW_MAX_H = 540;
function fitPreview(screen, stage, img, bus) {
  const fit = () => {
    const d = bus.doc() || {};
    const w = img.naturalWidth || d.width || 16;
    const hgt = img.naturalHeight || d.height || 9;
    const room = screen.clientWidth || w;
    const tall = Math.max(PREVIEW_MIN_H, Math.min(PREVIEW_MAX_H, window.innerHeight * PREVIEW_SHARE));
    const scale = Math.min(room / w, tall / hgt);
    stage.style.width = `${Math.floor(w * scale)}px`;
    stage.style.height = `${Math.floor(hgt * scale)}px`;
  };
  const watch = typeof ResizeObserver === "undefined" ? null : new ResizeObserver(fit);
  if (watch) watch.observe(screen);
  window.addEventListener("resize", fit);
  bus.on("doc", fit);
  img.addEventListener("load", fit);
  fit();
  return () => { if (watch) watch.disconnect(); window.removeEventListener("resize", fit); };
}

// Playback. The kernel streams the frames (nbedit/preview.py's Playback): on play it sends batches of JPEGs with
// their play indices and the mixed sound of their span, a window ahead of what this clock has shown (play_ack).
// The clock is the AudioContext's (the time being heard now, from getOutputTimestamp), else performance.now when
// there is no sound to play: frame k of a play shows when the clock reaches t0 + k / fps, and the sound of each
// batch is scheduled at t0 + its "at", so picture follows sound. A frame whose time has passed before it is ready
// is dropped (and counted). The counters go on the editor's root element (data-play-*), for tests and debugging.
function makePlayer(model, bus, root) {
  let ctx = null; // the AudioContext, made on the first gesture (or at once where autoplay is allowed)
  let run = null; // the play in progress
  let scrubNode = null;
  const stats = { shown: 0, dropped: 0, fps: 0, rate: 0, avMeanMs: NaN, avMaxMs: NaN, audio: "off", plays: 0 };
  const ackEvery = () => Math.max(2, Math.round(bus.fps() / 12));

  function audio() {
    if (!ctx) {
      const AC = window.AudioContext || window.webkitAudioContext;
      if (!AC) return null;
      try { ctx = new AC({ sampleRate: 48000, latencyHint: "interactive" }); } catch (e) { return null; }
      ctx.onstatechange = () => { if (ctx.state === "running") wantScrub(); };
    }
    if (ctx.state === "suspended") ctx.resume().catch(() => {});
    wantScrub();
    return ctx;
  }
  function wantScrub() {
    if (ctx && ctx.state === "running" && !model.get("scrub_audio")) { model.set("scrub_audio", true); model.save_changes(); }
  }
  // the audio clock's time being heard at performance time `now` (seconds)
  function heard(now) {
    const ts = ctx.getOutputTimestamp ? ctx.getOutputTimestamp() : null;
    if (ts && ts.contextTime > 0 && ts.performanceTime > 0) return ts.contextTime + (now - ts.performanceTime) / 1000;
    return ctx.currentTime - (ctx.outputLatency || ctx.baseLatency || 0);
  }
  function clock(r, now) { return r.audio ? heard(now) : now / 1000; }

  function buffer(msg, data) {
    const a = msg.audio;
    if (data instanceof ArrayBuffer) data = new DataView(data);
    const bytes = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
    const pcm = new Float32Array(bytes);
    const buf = ctx.createBuffer(2, a.count, a.rate);
    buf.copyToChannel(pcm.subarray(0, a.count), 0);
    buf.copyToChannel(pcm.subarray(a.count, 2 * a.count), 1);
    return buf;
  }
  // schedule a batch's sound at t0 + at (late: from where the clock is; wholly late: not at all)
  function schedule(r, b) {
    const node = ctx.createBufferSource();
    node.buffer = b.buf;
    node.playbackRate.value = b.speed;
    node.connect(ctx.destination);
    const when = r.t0 + b.at;
    const late = Math.max(0, ctx.currentTime - when);
    if (late * b.speed >= b.buf.duration) return;
    node.start(when + late, late * b.speed);
    r.scheduled += 1;
    r.nodes.push(node);
    node.onended = () => { const i = r.nodes.indexOf(node); if (i >= 0) r.nodes.splice(i, 1); };
    for (const k of b.ks) r.sound.set(k, when + (k - b.first) / bus.fps()); // when frame k's sound is heard
  }

  function play(from, step) {
    stop(false);
    const token = Math.random().toString(36).slice(2);
    const c = audio();
    run = {
      token, step, from, frames: new Map(), t0: null, began: performance.now(), lastK: -1, lastN: from, k: -1,
      shown: 0, last: null, acked: -1, audio: !!(c && c.state === "running"), pending: [], nodes: [],
      sound: new Map(), offsets: [], stall: null, scheduled: 0,
    };
    stats.plays += 1;
    stats.rate = bus.fps();
    stats.speed = step;
    model.send({ type: "play", token, from, step });
    bus.emit("playing", true, step);
    requestAnimationFrame((t) => tick(run, t));
    return token;
  }

  function stop(sync = true) {
    const r = run;
    if (!r) return;
    run = null;
    for (const node of r.nodes) { try { node.stop(); } catch (e) { /* not started */ } }
    for (const e of r.frames.values()) if (e.bitmap) e.bitmap.close();
    model.send({ type: "stop", token: r.token });
    finishStats(r);
    if (sync) {
      model.set("playhead", r.lastN);
      model.save_changes();
      bus.emit("playing", false, 0);
    }
  }

  function finishStats(r) {
    const k = r.last === null ? r.k : Math.min(r.k, r.last);
    const span = r.t0 === null ? 0 : (k + 1) / bus.fps();
    stats.shown = r.shown;
    stats.dropped = Math.max(0, k + 1 - r.shown);
    stats.fps = span > 0 ? r.shown / span : 0;
    if (r.offsets.length) {
      stats.avMeanMs = r.offsets.reduce((a, b) => a + b, 0) / r.offsets.length;
      stats.avMaxMs = Math.max(...r.offsets.map(Math.abs));
    }
    stats.audio = r.audio ? "on" : (ctx ? ctx.state : "none");
    const d = root.dataset || {};
    d.playShown = String(stats.shown);
    d.playDropped = String(stats.dropped);
    d.playFps = stats.fps.toFixed(2);
    d.playRate = String(stats.rate);
    d.playSpeed = String(r.step);
    d.playAudio = stats.audio;
    d.playSound = String(r.scheduled); // batches of sound scheduled on the audio clock
    d.playAvMs = Number.isFinite(stats.avMeanMs) ? stats.avMeanMs.toFixed(2) : "";
    d.playAvMaxMs = Number.isFinite(stats.avMaxMs) ? stats.avMaxMs.toFixed(2) : "";
    d.playPlays = String(stats.plays);
    d.playState = run === r ? "playing" : "stopped";
  }

  bus.on("batch", (msg, buffers) => {
    const r = run;
    if (!r || msg.token !== r.token) return;
    msg.ks.forEach((k, i) => {
      const entry = { n: msg.ns[i], bitmap: null };
      r.frames.set(k, entry);
      createImageBitmap(new Blob([buffers[i]], { type: "image/jpeg" })).then((bm) => {
        if (run === r && r.frames.get(k) === entry) entry.bitmap = bm; else bm.close();
      }).catch(() => {});
    });
    if (msg.audio && r.audio) {
      const b = { at: msg.audio.at, speed: msg.audio.speed, first: msg.first, ks: msg.ks, buf: buffer(msg, buffers[msg.ks.length]) };
      if (r.t0 === null) r.pending.push(b); else schedule(r, b);
    }
  });
  bus.on("play_end", (msg) => {
    if (run && msg.token === run.token) run.last = msg.last;
    if (msg.error) model.set("status", msg.error);
  });

  function tick(r, now) {
    if (run !== r) return;
    const fps = bus.fps();
    if (r.t0 === null) {
      // pre-roll: start the clock once a quarter second of frames is ready (or the whole play, or after 0.6 s)
      const need = r.last === null ? Math.max(2, Math.ceil(fps / 4)) : Math.min(Math.max(2, Math.ceil(fps / 4)), r.last + 1);
      let ready = 0;
      while (ready < need && (r.frames.get(ready) || {}).bitmap) ready += 1;
      if (ready >= need || (ready > 0 && now - r.began > 600) || r.last === -1) {
        r.t0 = r.audio ? ctx.currentTime + 0.05 + (ctx.outputLatency || ctx.baseLatency || 0) : now / 1000;
        for (const b of r.pending) schedule(r, b);
        r.pending = [];
        r.stall = { at: now, t: r.audio ? ctx.currentTime : 0 };
      }
      if (r.last === -1) { stop(); return; }
      requestAnimationFrame((t) => tick(r, t));
      return;
    }
    if (r.audio) { // an audio clock that does not move (no output device) gives way to performance.now
      if (ctx.currentTime !== r.stall.t) r.stall = { at: now, t: ctx.currentTime };
      else if (now - r.stall.at > 400) { const pos = heard(now) - r.t0; r.audio = false; r.t0 = now / 1000 - pos; }
    }
    const pos = clock(r, now) - r.t0;
    const k = Math.floor(pos * fps + 1e-6);
    if (k >= 0) {
      let best = -1;
      for (const [kk, e] of r.frames) {
        if (kk <= k && e.bitmap && kk > best) best = kk;
      }
      if (best > r.lastK) {
        const e = r.frames.get(best);
        bus.emit("play_frame", e.n, e.bitmap);
        r.shown += 1;
        r.lastK = best;
        r.lastN = e.n;
        model.set("playhead", e.n); // locally: the timeline follows; the kernel hears of it when playback stops
        const heardAt = r.sound.get(best);
        if (r.audio && heardAt !== undefined) r.offsets.push((heard(now) - heardAt) * 1000);
        for (const [kk, old] of r.frames) {
          if (kk < best) { if (old.bitmap) old.bitmap.close(); r.frames.delete(kk); r.sound.delete(kk); }
        }
      }
      r.k = k;
      if (k >= r.acked + ackEvery()) { r.acked = k; model.send({ type: "play_ack", token: r.token, k }); }
      if (r.last !== null && k >= r.last) {
        finishStats(r);
        stop();
        return;
      }
      if (now - (r.reported || 0) > 250) { r.reported = now; finishStats(r); }
    }
    requestAnimationFrame((t) => tick(r, t));
  }

  // seeking: a playhead move asks for its frame at once with a "seek" message, beside the trait's sync (which
  // ipywidgets holds back while an update is unanswered, so a drag would get one frame per round trip). At most
  // three seeks wait for their frame (a round trip costs more than the kernel's work on one); a newer move waits
  // behind them, replacing any older one that waits.
  let seekId = 0;
  let queued = null;
  const inflight = new Map();
  function seek(n) {
    if (run) return;
    const now = performance.now();
    for (const [id, t] of inflight) if (now - t > 1000) inflight.delete(id); // no frame to show (an empty timeline)
    if (inflight.size >= 3) { queued = n; return; }
    seekId += 1;
    inflight.set(seekId, now);
    model.send({ type: "seek", n, id: seekId });
  }
  const answered = (msg) => {
    if (msg.seek === undefined) return;
    inflight.delete(msg.seek); // (an answer later than a second was already let go: the newest move still goes)
    if (queued !== null && inflight.size < 3) { const n = queued; queued = null; seek(n); }
  };
  bus.on("frame", answered);
  bus.on("seeked", answered);

  // scrubbing while paused: a frame or two of sound at the playhead
  bus.on("scrub_audio", (msg, buffers) => {
    if (run || !ctx || ctx.state !== "running") return;
    if (scrubNode) { try { scrubNode.stop(); } catch (e) { /* done */ } }
    const node = ctx.createBufferSource();
    node.buffer = buffer({ audio: msg }, buffers[0]);
    node.connect(ctx.destination);
    node.start();
    scrubNode = node;
    root.dataset.scrubAudio = String(msg.n);
  });
  if (root.addEventListener) { // a page's AudioContext runs after a gesture (or at once where autoplay is allowed)
    root.addEventListener("pointerdown", () => audio(), true);
    root.addEventListener("keydown", () => audio(), true);
    audio();
  }

  return {
    play, stop, audio, stats, seek,
    playing: () => !!run,
    step: () => (run ? run.step : 0),
  };
}
