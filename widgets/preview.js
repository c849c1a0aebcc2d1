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
  stage.append(img, mask, crop);
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

  let url = null;
  let maskUrl = null;
  let cropClip = null;
  bus.on("frame", (msg, buffers) => {
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
  });

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
  bus.on("playing", (on) => { play.textContent = on ? "||" : "▶"; });
  const showStatus = () => { status.textContent = bus.model.get("status"); };
  bus.model.on("change:status", showStatus);
  showStatus();
  return () => { if (url) URL.revokeObjectURL(url); if (maskUrl) URL.revokeObjectURL(maskUrl); };
}
