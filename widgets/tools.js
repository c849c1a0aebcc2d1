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

// the Detect menu: runs a detector on the selected clip as one recorded operation (the kernel's "detect" gesture)
const DETECTORS = [
  ["", "Detect…", ""],
  ["speech", "Speech", "Mark where people speak in the selected clip's sound"],
  ["remove_silence", "Remove silence", "Cut the pauses out of the selected clip and its linked sound (one undo)"],
  ["shots", "Shot cuts", "Mark each hard cut inside the selected video clip"],
  ["split_shots", "Split at shot cuts", "Cut the selected video clip into one clip per shot"],
];

function mountDetect(head, bus) {
  const menu = h("select", "nbe-detect", "", "Run a detector on the selected clip");
  for (const [value, text, tip] of DETECTORS) {
    const o = h("option", "", text, tip);
    o.value = value;
    menu.appendChild(o);
  }
  menu.addEventListener("keydown", (e) => e.stopPropagation()); // its arrow keys are not the editor's
  menu.addEventListener("change", () => {
    if (!menu.value) return;
    const sel = bus.model.get("selection") || [];
    bus.edit({ op: "detect", detector: menu.value, clip: sel[0] || null });
    menu.value = "";
    bus.focus();
  });
  head.appendChild(menu);
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
