// Preview: the frame at the playhead, its timecode and the transport bar.
// Plain script (no import/export): nbedit joins preview.js, timeline.js and editor.js into one ES module.

function mountPreview(root, bus) {
  const box = document.createElement("div");
  box.className = "nbe-preview";
  const screen = document.createElement("div");
  screen.className = "nbe-screen";
  const img = document.createElement("img");
  img.className = "nbe-frame";
  img.alt = "preview frame";
  screen.appendChild(img);

  const bar = document.createElement("div");
  bar.className = "nbe-transport";
  const button = (label, title, action) => {
    const b = document.createElement("button");
    b.textContent = label;
    b.title = title;
    b.addEventListener("click", (e) => { e.preventDefault(); action(); bus.focus(); });
    bar.appendChild(b);
    return b;
  };
  button("⇤", "Start (Home)", () => bus.seek(0));
  button("◀|", "Previous frame (Left)", () => bus.seek(bus.model.get("playhead") - 1));
  const play = button("▶", "Play / pause (Space)", () => bus.toggle());
  button("|▶", "Next frame (Right)", () => bus.seek(bus.model.get("playhead") + 1));
  button("⇥", "End (End)", () => bus.seek(bus.frames() - 1));
  const tc = document.createElement("span");
  tc.className = "nbe-timecode";
  tc.textContent = "00:00:00:00";
  bar.appendChild(tc);
  const status = document.createElement("span");
  status.className = "nbe-status";
  bar.appendChild(status);

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
