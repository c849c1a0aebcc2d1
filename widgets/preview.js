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
  const img = h("img", "nbe-frame");
  img.alt = "preview frame";
  screen.appendChild(img);

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
  const tc = h("span", "nbe-timecode", "00:00:00:00");
  const status = h("span", "nbe-status");
  bar.append(tc, status);

  box.appendChild(screen);
  box.appendChild(bar);
  root.appendChild(box);

  let url = null;
  bus.on("frame", (msg, buffers) => {
    const blob = new Blob([buffers[0]], { type: "image/jpeg" });
    const next = URL.createObjectURL(blob);
    img.src = next;
    img.dataset.frame = String(msg.n);
    if (url) URL.revokeObjectURL(url);
    url = next;
    tc.textContent = msg.timecode;
  });
  bus.on("playing", (on) => { play.textContent = on ? "||" : "▶"; });
  const showStatus = () => { status.textContent = bus.model.get("status"); };
  bus.model.on("change:status", showStatus);
  showStatus();
  return () => { if (url) URL.revokeObjectURL(url); };
}
