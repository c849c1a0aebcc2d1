// Source view, I/O marks and three-point editing: the media pool, a source monitor showing a pool item's own frames
// (scrubbable, with its own In and Out marks), the timeline's In and Out marks drawn on the ruler, Insert (,) and
// Overwrite (.) of the source's marked range, and the render of the timeline's In-Out range.
// Marks count as NLEs do: the Out mark is the last frame inside the range, so I and O on one frame mark that frame.
// The keys act on the monitor clicked last (the source monitor or the timeline), as in Premiere and Resolve.
// Plain script (no import/export): nbedit joins the parts into one ES module (see _bundle in nbedit/widgets.py).

// HH:MM:SS:FF of frame n at rate fps (non-drop), for the source's own rate
function tcAt(n, fps) {
  const base = Math.max(1, Math.round(fps || 24));
  const s = Math.floor(n / base);
  const p = (v) => String(v).padStart(2, "0");
  return `${p(Math.floor(s / 3600))}:${p(Math.floor(s / 60) % 60)}:${p(s % 60)}:${p(n % base)}`;
}

// set the In or Out mark of the timeline ("mark") or of the source ("source") at its playhead; a mark set past the
// other one clears that other one (the range is never inside out)
function setMark(bus, where, edge) {
  const { model } = bus;
  const [a, b, here] = where === "source"
    ? ["source_in", "source_out", model.get("source_playhead")]
    : ["mark_in", "mark_out", model.get("playhead")];
  if (edge === "in") {
    model.set(a, here);
    if (model.get(b) >= 0 && model.get(b) < here) model.set(b, -1);
  } else {
    model.set(b, here);
    if (model.get(a) > here) model.set(a, -1);
  }
  model.save_changes();
}

function clearMarks(bus, where) {
  const { model } = bus;
  for (const k of where === "source" ? ["source_in", "source_out"] : ["mark_in", "mark_out"]) model.set(k, -1);
  model.save_changes();
}

// the keys of this part, called first by editor.js's keyboard(): true when the key was one of them
function sourceKeys(bus, e) {
  if (e.ctrlKey || e.metaKey) return false;
  const { model } = bus;
  const where = bus.sourceActive && model.get("source") ? "source" : "timeline";
  if (e.altKey) {
    if (e.code !== "KeyX" && e.key !== "x" && e.key !== "X") return false;
    clearMarks(bus, where);
    return true;
  }
  switch (e.key) {
    case "i": case "I": setMark(bus, where, "in"); return true;
    case "o": case "O": setMark(bus, where, "out"); return true;
    case ",": bus.edit({ op: "insert" }); return true;
    case ".": bus.edit({ op: "overwrite" }); return true;
    default: break;
  }
  if (where !== "source" || !bus.sourceSeek) return false;
  const here = model.get("source_playhead");
  switch (e.key) {
    case "ArrowLeft": bus.sourceSeek(here - (e.shiftKey ? 10 : 1)); return true;
    case "ArrowRight": bus.sourceSeek(here + (e.shiftKey ? 10 : 1)); return true;
    case "Home": bus.sourceSeek(0); return true;
    case "End": bus.sourceSeek(Infinity); return true;
    default: return false;
  }
}

// the timeline's In-Out range on the ruler (called by timeline.js's drawRuler, which empties the ruler first)
function drawIoMarks(ruler, bus, xOf) {
  const { model } = bus;
  let st = ruler.nbeIo;
  if (!st) {
    st = ruler.nbeIo = { els: [] };
    const again = () => drawIoMarks(ruler, bus, st.xOf);
    model.on("change:mark_in", again);
    model.on("change:mark_out", again);
  }
  st.xOf = xOf;
  for (const el of st.els) el.remove();
  st.els = [];
  const a = model.get("mark_in");
  const b = model.get("mark_out");
  if (a < 0 && b < 0) return;
  const first = Math.max(a, 0);
  const last = b >= 0 ? b : Math.max(first, bus.frames() - 1);
  const range = h("div", "nbe-io-range", "", ioTitle(bus, a, b));
  range.style.left = `${xOf(first)}px`;
  range.style.width = `${Math.max(1, xOf(last + 1) - xOf(first))}px`;
  st.els.push(range);
  if (a >= 0) {
    const el = h("div", "nbe-io-mark nbe-io-in", "", `In ${bus.timecode(a)}`);
    el.style.left = `${xOf(a)}px`;
    st.els.push(el);
  }
  if (b >= 0) {
    const el = h("div", "nbe-io-mark nbe-io-out", "", `Out ${bus.timecode(b)}`);
    el.style.left = `${xOf(b + 1)}px`;
    st.els.push(el);
  }
  for (const el of st.els) ruler.appendChild(el);
}

function ioTitle(bus, a, b) {
  const parts = [];
  if (a >= 0) parts.push(`In ${bus.timecode(a)}`);
  if (b >= 0) parts.push(`Out ${bus.timecode(b)}`);
  if (a >= 0 && b >= a) parts.push(`Duration ${bus.timecode(b + 1 - a)}`);
  return parts.join("  ");
}

function mountSource(root, bus, parts) {
  const { model } = bus;
  const cleanups = [];
  const head = root.querySelector(".nbe-tl-head");
  if (head) cleanups.push(mountRenderIo(head, bus));
  if (parts !== "all") return () => { for (const fn of cleanups) fn(); };

  const panel = h("div", "nbe-source-panel");
  panel.style.display = "none"; // opened from the timeline's head: the editor stays as tall as it was
  const poolBox = h("div", "nbe-pool");
  poolBox.appendChild(h("div", "nbe-pool-head", "Media pool", "Double-click an item to open it in the source monitor"));
  const list = h("div", "nbe-pool-list");
  poolBox.appendChild(list);

  const monitor = h("div", "nbe-source");
  const screen = h("div", "nbe-source-screen");
  const img = h("img", "nbe-source-frame");
  img.alt = "source frame";
  const empty = h("div", "nbe-source-empty", "Double-click a media-pool item to open it here");
  screen.append(img, empty);
  const scrub = h("div", "nbe-source-scrub", "", "Drag to scrub the source");
  const range = h("div", "nbe-source-range");
  const head2 = h("div", "nbe-source-head");
  scrub.append(range, head2);
  const bar = h("div", "nbe-source-bar");
  const name = h("span", "nbe-source-name");
  const tc = h("span", "nbe-source-tc", "");
  const marks = h("span", "nbe-source-marks", "");
  const button = (label, title, cls, action) => {
    const b = h("button", `nbe-source-btn ${cls}`, label, title);
    b.addEventListener("click", (e) => { e.preventDefault(); bus.sourceActive = cls !== "nbe-timeline-only"; action(); bus.focus(); });
    bar.appendChild(b);
    return b;
  };
  bar.append(name, tc);
  button("I", "Mark the source's In (I)", "nbe-src-in", () => setMark(bus, "source", "in"));
  button("O", "Mark the source's Out (O)", "nbe-src-out", () => setMark(bus, "source", "out"));
  button("✕", "Clear the source's marks (Alt+X)", "nbe-src-clear", () => clearMarks(bus, "source"));
  button("Insert", "Insert the marked source at the playhead or the timeline's In (,)", "nbe-insert", () => bus.edit({ op: "insert" }));
  button("Overwrite", "Overwrite with the marked source at the playhead or the timeline's In (.)", "nbe-overwrite", () => bus.edit({ op: "overwrite" }));
  bar.appendChild(marks);
  monitor.append(screen, scrub, bar);
  panel.append(poolBox, monitor);
  const timeline = root.querySelector(".nbe-timeline");
  if (timeline) root.insertBefore(panel, timeline); else root.appendChild(panel);
  const toggle = h("button", "nbe-pool-toggle", "Media pool", "Show or hide the media pool and the source monitor");
  toggle.setAttribute("aria-pressed", "false");
  let asked = false;
  toggle.addEventListener("click", (e) => {
    e.preventDefault();
    const open = panel.style.display === "none";
    panel.style.display = open ? "" : "none";
    toggle.classList.toggle("nbe-on", open);
    toggle.setAttribute("aria-pressed", String(open));
    if (open && !asked) { asked = true; model.send({ type: "pool" }); }
    bus.sourceActive = open && !!model.get("source");
    show();
    bus.focus();
  });
  if (head) head.insertBefore(toggle, head.querySelector(".nbe-io")); else panel.style.display = "";

  let items = new Map(); // media id -> pool item
  const thumbs = new Map(); // media id -> object URL
  const kept = new Map(); // media id -> { ph, a, b }: each item keeps its marks and position, as in an NLE
  let url = null;
  const current = () => items.get(model.get("source"));
  const frames = () => { const it = current(); return it ? (it.frames || Math.round(5 * it.fps)) : 0; };

  // the keys step the source's playhead frame by frame
  bus.sourceSeek = (n) => {
    const last = Math.max(0, frames() - 1);
    n = Math.max(0, Math.min(last, Math.round(n)));
    if (n === model.get("source_playhead")) return false;
    model.set("source_playhead", n);
    model.save_changes();
    return true;
  };
  // a drag asks for one frame at a time: faster than the kernel decodes, it asks next for where the pointer is
  // then, not for every frame it passed (which would arrive ever later)
  let waiting = null; // the timer of the frame asked for, while it has not come
  let wanted = null;
  function scrubTo(n) {
    if (waiting !== null) { wanted = n; return; }
    if (bus.sourceSeek(n)) waiting = setTimeout(arrived, 1000); // no answer (an unreadable file): stop waiting
  }
  function arrived() {
    clearTimeout(waiting);
    waiting = null;
    if (wanted !== null) { const n = wanted; wanted = null; scrubTo(n); }
  }

  function open(mid) {
    const was = model.get("source");
    if (was) kept.set(was, { ph: model.get("source_playhead"), a: model.get("source_in"), b: model.get("source_out") });
    const k = kept.get(mid) || { ph: 0, a: -1, b: -1 };
    model.set("source_in", k.a);
    model.set("source_out", k.b);
    model.set("source_playhead", k.ph);
    model.set("source", mid);
    model.save_changes();
    bus.sourceActive = true;
    show();
  }

  // an offline item's Relink…: where its file is now, typed as the kernel's machine sees it (a file, or the
  // folder it moved to); Enter makes one s.relink, refused with the reason in the status. The field stays open
  // until the item comes online (a refused path can be mended), and a redraw of the pool keeps it as it was.
  function relinker(it, was = null) {
    const box = h("span", "nbe-relink");
    const go = h("button", "nbe-relink-go", "Relink…", `Point ${it.name} at its file where it is now`);
    const input = h("input", "nbe-relink-path");
    input.type = "text";
    input.spellcheck = false;
    input.placeholder = "file or folder";
    input.setAttribute("aria-label", `where the file of ${it.name} is now`);
    input.style.display = "none";
    box.append(go, input);
    const close = () => { input.style.display = "none"; go.style.display = ""; box.classList.remove("nbe-open"); bus.focus(); };
    const opened = () => { go.style.display = "none"; input.style.display = ""; box.classList.add("nbe-open"); };
    go.addEventListener("click", (e) => { e.preventDefault(); e.stopPropagation(); opened(); input.focus(); });
    if (was) {
      opened();
      input.value = was.value;
      if (was.focused) setTimeout(() => { input.focus(); input.setSelectionRange(was.caret, was.caret); });
    }
    box.addEventListener("dblclick", (e) => e.stopPropagation()); // not the row's: that opens the item
    input.addEventListener("keydown", (e) => {
      e.stopPropagation(); // typing a path is not editing the timeline
      if (e.key === "Enter") { e.preventDefault(); bus.edit({ op: "relink", media: it.id, path: input.value }); }
      if (e.key === "Escape") { e.preventDefault(); close(); }
    });
    input.addEventListener("keyup", (e) => e.stopPropagation());
    return box;
  }

  function drawPool(msg) {
    items = new Map(msg.items.map((it) => [it.id, it]));
    const typing = new Map(); // the Relink… fields open now, as they are
    for (const field of list.querySelectorAll(".nbe-relink.nbe-open .nbe-relink-path")) {
      const row = field.closest(".nbe-pool-item");
      const focused = document.activeElement === field;
      typing.set(row.dataset.media, { value: field.value, focused, caret: field.selectionStart || field.value.length });
    }
    list.innerHTML = "";
    for (const it of msg.items) {
      const row = h("div", `nbe-pool-item${it.offline ? " nbe-offline" : ""}`, "", `${it.name} (${it.id}): double-click to open it in the source monitor`);
      row.dataset.media = it.id;
      const pic = h("div", `nbe-pool-thumb nbe-pool-${it.kind}`);
      if (thumbs.has(it.id)) pic.style.backgroundImage = `url(${thumbs.get(it.id)})`;
      else if (it.kind !== "audio" && !it.offline) model.send({ type: "pool_thumb", media: it.id, height: 40 });
      const text = h("div", "nbe-pool-text");
      text.append(h("div", "nbe-pool-name", it.name), h("div", "nbe-pool-dur", it.frames ? tcAt(it.frames, it.fps) : "still"));
      row.append(pic, text);
      if (it.offline) row.appendChild(relinker(it, typing.get(it.id)));
      row.addEventListener("dblclick", () => { open(it.id); bus.focus(); });
      list.appendChild(row);
    }
    show();
  }

  // the monitor's marks, playhead and labels as the traits have them
  function show() {
    const it = current();
    panel.classList.toggle("nbe-source-active", !!bus.sourceActive && !!it);
    for (const row of list.children) row.classList.toggle("nbe-selected", !!it && row.dataset.media === it.id);
    empty.style.display = it && (it.kind !== "audio" || it.offline) ? "none" : "flex";
    empty.textContent = it ? "Sound only: no picture" : "Double-click a media-pool item to open it here";
    img.style.display = it ? "block" : "none";
    if (!it) { name.textContent = ""; tc.textContent = ""; marks.textContent = ""; range.style.display = "none"; return; }
    name.textContent = it.name;
    const n = frames();
    const ph = model.get("source_playhead");
    const a = model.get("source_in");
    const b = model.get("source_out");
    tc.textContent = tcAt(ph, it.fps);
    const pct = (f) => `${(100 * f) / Math.max(1, n)}%`;
    head2.style.left = pct(ph);
    range.style.display = a >= 0 || b >= 0 ? "block" : "none";
    const first = Math.max(0, a);
    const last = b >= 0 ? b : n - 1;
    range.style.left = pct(first);
    range.style.width = pct(Math.max(0, last + 1 - first));
    const words = [];
    if (a >= 0) words.push(`In ${tcAt(a, it.fps)}`);
    if (b >= 0) words.push(`Out ${tcAt(b, it.fps)}`);
    if (a >= 0 || b >= 0) words.push(`Duration ${tcAt(last + 1 - first, it.fps)}`);
    marks.textContent = words.join("  ");
    monitor.dataset.in = String(a);
    monitor.dataset.out = String(b);
  }

  bus.on("pool", drawPool);
  bus.on("pool_thumb", (msg, buffers) => {
    const u = URL.createObjectURL(new Blob([buffers[0]], { type: "image/jpeg" }));
    if (thumbs.has(msg.media)) URL.revokeObjectURL(thumbs.get(msg.media));
    thumbs.set(msg.media, u);
    const row = list.querySelector(`.nbe-pool-item[data-media="${CSS.escape(msg.media)}"] .nbe-pool-thumb`);
    if (row) row.style.backgroundImage = `url(${u})`;
  });
  bus.on("source_frame", (msg, buffers) => {
    if (msg.media !== model.get("source")) return;
    if (msg.n === model.get("source_playhead")) arrived();
    img.dataset.media = msg.media;
    img.dataset.frame = String(msg.n);
    if (msg.picture && buffers[0]) {
      const next = URL.createObjectURL(new Blob([buffers[0]], { type: "image/jpeg" }));
      img.src = next;
      if (url) URL.revokeObjectURL(url);
      url = next;
      img.classList.remove("nbe-source-sound");
      empty.style.display = "none";
    } else {
      img.classList.add("nbe-source-sound");
      empty.textContent = "Sound only: no picture";
      empty.style.display = "flex";
    }
  });
  for (const k of ["source", "source_playhead", "source_in", "source_out"]) model.on(`change:${k}`, show);

  // the monitor clicked last gets the keys: the source monitor, or (clicked anywhere else) the timeline
  const activate = (e) => {
    const inside = panel.contains(e.target);
    if (inside === !!bus.sourceActive) return;
    bus.sourceActive = inside;
    show();
  };
  root.addEventListener("pointerdown", activate, true);
  screen.addEventListener("pointerdown", () => bus.focus());
  scrub.addEventListener("pointerdown", (e) => {
    e.preventDefault();
    bus.focus();
    const at = (ev) => {
      const box = scrub.getBoundingClientRect();
      scrubTo(((ev.clientX - box.left) / Math.max(1, box.width)) * frames());
    };
    at(e);
    const up = () => { window.removeEventListener("pointermove", at); window.removeEventListener("pointerup", up); };
    window.addEventListener("pointermove", at);
    window.addEventListener("pointerup", up);
  });

  if (!head) { asked = true; model.send({ type: "pool" }); }
  if (model.get("source")) model.send({ type: "source_frame" });
  show();
  cleanups.push(() => {
    if (url) URL.revokeObjectURL(url);
    for (const u of thumbs.values()) URL.revokeObjectURL(u);
    root.removeEventListener("pointerdown", activate, true);
  });
  return () => { for (const fn of cleanups) fn(); };
}

// the timeline's marks as timecodes and "Render In-Out" in the timeline's head: a file name is all it asks
function mountRenderIo(head, bus) {
  const { model } = bus;
  const box = h("span", "nbe-io");
  const text = h("span", "nbe-io-tc", "", "The timeline's In and Out marks (I, O; Alt+X clears them)");
  const go = h("button", "nbe-render-io", "Render In-Out", "Render the timeline between its In and Out marks");
  const form = h("span", "nbe-render-form");
  const input = h("input", "nbe-render-name");
  input.type = "text";
  input.spellcheck = false;
  input.setAttribute("aria-label", "file name of the render");
  const ok = h("button", "nbe-render-go", "Render", "Render to this file (Enter)");
  const cancel = h("button", "nbe-render-cancel", "Cancel", "Cancel (Escape)");
  form.append(input, ok, cancel);
  form.style.display = "none";
  const progress = h("progress", "nbe-render-progress");
  progress.style.display = "none";
  const note = h("span", "nbe-render-msg");
  box.append(text, go, form, progress, note);
  head.appendChild(box);

  const showMarks = () => {
    const a = model.get("mark_in");
    const b = model.get("mark_out");
    text.textContent = ioTitle(bus, a, b);
    go.disabled = a < 0 && b < 0;
  };
  const close = () => { form.style.display = "none"; go.style.display = ""; bus.focus(); };
  const send = () => {
    model.send({ type: "render_io", path: input.value });
    close();
    note.textContent = "";
    progress.removeAttribute("value");
    progress.style.display = "";
    box.dataset.rendering = "1";
  };
  go.addEventListener("click", (e) => { e.preventDefault(); note.textContent = ""; model.send({ type: "render_name" }); });
  ok.addEventListener("click", (e) => { e.preventDefault(); send(); });
  cancel.addEventListener("click", (e) => { e.preventDefault(); close(); });
  // typing a name is not editing the timeline: its keys stay in the field
  input.addEventListener("keydown", (e) => {
    e.stopPropagation();
    if (e.key === "Enter") { e.preventDefault(); send(); }
    if (e.key === "Escape") { e.preventDefault(); close(); }
  });
  input.addEventListener("keyup", (e) => e.stopPropagation());
  bus.on("render_name", (msg) => {
    input.value = msg.path;
    go.style.display = "none";
    form.style.display = "";
    input.focus();
    const slash = msg.path.lastIndexOf("/") + 1;
    const dot = msg.path.lastIndexOf(".");
    input.setSelectionRange(slash, dot > slash ? dot : msg.path.length); // the name, ready to be typed over
  });
  bus.on("render_progress", (msg) => {
    progress.max = msg.total;
    progress.value = msg.done;
    note.textContent = `rendering ${msg.path}: ${Math.round((100 * msg.done) / Math.max(1, msg.total))}%`;
  });
  bus.on("render_done", (msg) => {
    progress.style.display = "none";
    delete box.dataset.rendering;
    note.textContent = `rendered ${msg.path} (${msg.seconds} s)`;
    box.dataset.rendered = msg.path;
  });
  // a refused render says why in the status; the progress goes
  const refused = () => {
    if (model.get("status") && box.dataset.rendering) {
      progress.style.display = "none";
      delete box.dataset.rendering;
      note.textContent = "";
    }
  };
  model.on("change:status", refused);
  model.on("change:mark_in", showMarks);
  model.on("change:mark_out", showMarks);
  bus.on("doc", showMarks);
  showMarks();
  return () => box.remove();
}
