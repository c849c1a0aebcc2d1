// Edit modes over the timeline, with Premiere's keys: the tool decides what dragging a clip's body or edge does
// (timeline.js reads bus.tool()). The tool and the clipboard are view state: never recorded, gone with the view.
// Plain script (no import/export): nbedit joins it with the other parts into one ES module.

const TOOLS = [
  ["select", "V", "Selection: drag a clip to move it (to another track too), drag an edge to trim"],
  ["ripple", "B", "Ripple edit: drag an edge to trim; later clips on the track follow"],
  ["roll", "N", "Rolling edit: drag a cut to move it; the clip before grows as the one after shrinks"],
  ["slip", "Y", "Slip: drag a clip to show another part of its media in the same place"],
  ["slide", "U", "Slide: drag a clip between its neighbours; they give and take its frames"],
  ["blade", "C", "Razor: click a clip to cut it there"],
];
const TOOL_KEYS = Object.fromEntries(TOOLS.map(([name, key]) => [key.toLowerCase(), name]));

// the toolbar, first in the timeline's head; it gives the bus tool() and setTool(name)
function mountTools(head, bus) {
  const bar = h("span", "nbe-tools");
  bar.setAttribute("role", "toolbar");
  bar.setAttribute("aria-label", "Edit mode");
  const buttons = new Map();
  for (const [name, key, tip] of TOOLS) {
    const b = h("button", "nbe-tool", key, `${tip} (${key})`);
    b.dataset.tool = name;
    b.addEventListener("click", () => { bus.setTool(name); bus.focus(); });
    buttons.set(name, b);
    bar.appendChild(b);
  }
  let tool = "select";
  bus.tool = () => tool;
  bus.setTool = (name) => {
    tool = name;
    for (const [n, b] of buttons) {
      b.classList.toggle("nbe-on", n === name);
      b.setAttribute("aria-pressed", String(n === name));
    }
    bar.dataset.tool = name;
    bus.emit("tool", name);
  };
  bus.setTool(tool);
  head.insertBefore(bar, head.firstChild);
}

// the tool menus: each entry runs one operation on the selected clip, recorded as one cell (the kernel's
// "detect" and "upscale" gestures); the Detect menu marks or cuts the clip, the Upscale menu makes new media
const DETECTORS = [
  ["", "Detect…", ""],
  ["speech", "Speech", "Mark where people speak in the selected clip's sound"],
  ["remove_silence", "Remove silence", "Cut the pauses out of the selected clip and its linked sound (one undo)"],
  ["shots", "Shot cuts", "Mark each hard cut inside the selected video clip"],
  ["split_shots", "Split at shot cuts", "Cut the selected video clip into one clip per shot"],
];
const UPSCALES = [
  ["", "Upscale…", ""],
  ["2", "2×", "A copy of the selected clip twice as large, new media in the pool (Real-ESRGAN when installed, else Lanczos)"],
  ["4", "4×", "A copy of the selected clip four times as large, new media in the pool (Real-ESRGAN when installed, else Lanczos)"],
];

function toolMenu(head, bus, className, title, entries, gesture) {
  const menu = h("select", className, "", title);
  for (const [value, text, tip] of entries) {
    const o = h("option", "", text, tip);
    o.value = value;
    menu.appendChild(o);
  }
  menu.addEventListener("keydown", (e) => e.stopPropagation()); // its arrow keys are not the editor's
  menu.addEventListener("change", () => {
    if (!menu.value) return;
    const sel = bus.model.get("selection") || [];
    bus.edit({ ...gesture(menu.value), clip: sel[0] || null });
    menu.value = "";
    bus.focus();
  });
  head.appendChild(menu);
  return menu;
}

function mountDetect(head, bus) {
  const menus = [
    toolMenu(head, bus, "nbe-detect", "Run a detector on the selected clip", DETECTORS,
      (value) => ({ op: "detect", detector: value })),
    toolMenu(head, bus, "nbe-upscale", "Upscale the selected clip into new media", UPSCALES,
      (value) => ({ op: "upscale", factor: Number(value) })),
  ];
  // while a tool runs in the kernel: what it is doing, a moving bar, the menus held (the kernel says when it ends)
  const busy = h("span", "nbe-busy");
  busy.setAttribute("role", "status");
  const bar = h("progress", "nbe-busy-bar");
  const what = h("span", "nbe-busy-text");
  busy.append(bar, what);
  busy.hidden = true;
  head.appendChild(busy);
  bus.on("busy", (msg) => {
    const text = msg.text || "";
    what.textContent = text;
    busy.hidden = !text;
    for (const m of menus) m.disabled = Boolean(text);
  });
}

// the timeline's keys, called first by editor.js's keyboard(): true when the key was the timeline's
function timelineKeys(bus, e) {
  const { model } = bus;
  const key = e.key.toLowerCase();
  const selection = model.get("selection") || [];
  if (e.ctrlKey || e.metaKey) {
    if (e.shiftKey || e.altKey) return false;
    if (key === "c" && selection.length) { bus.clipboard = [...selection]; return true; }
    if (key === "v" && (bus.clipboard || []).length) {
      bus.edit({ op: "paste", clips: bus.clipboard, at: model.get("playhead") });
      return true;
    }
    return false;
  }
  if (e.altKey) return false;
  // one cell for the whole selection (editor.js deletes a single clip)
  if ((e.key === "Delete" || e.key === "Backspace") && selection.length > 1) {
    bus.edit({ op: "delete_selection", ripple: e.shiftKey });
    return true;
  }
  if (!e.shiftKey && TOOL_KEYS[key] && bus.setTool) { bus.setTool(TOOL_KEYS[key]); return true; }
  return false;
}
