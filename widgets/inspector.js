// Inspector, messages and timecode entry: the panels around the preview and the timeline (proxies.js: the badge).
// - The inspector shows the selected clip's properties as the kernel sends them ("inspector" messages, after each
//   selection and each change); a field changed there is sent as {"type": "inspect_edit", clip, field, value} and
//   becomes the Session operation that sets it (one recorded cell); a refused value comes back as "inspected" with
//   the reason, shown in the panel.
// - Messages (the "status" trait: a refused gesture's reason, in an editor's words) go on the next action.
// - Timecode entry: click the timecode (or Ctrl+J), type HH:MM:SS:FF, a frame number or +/- frames, Enter.
// Plain script (no import/export): nbedit joins the widgets/*.js parts into one ES module; h() is preview.js's.

// a number as typed ("12", "-0.5", "1e3"), a list of numbers ("0, 255, 0": a colour), else the text itself (the
// kernel says why it is not a value)
function typedValue(text) {
  const t = text.trim();
  const num = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;
  if (num.test(t)) return Number(t);
  const parts = t.replace(/^[([]|[)\]]$/g, "").split(",").map((p) => p.trim());
  if (parts.length > 1 && parts.every((p) => num.test(p))) return parts.map(Number);
  return t;
}

// a number as a field shows it: no trailing zeros, at most 4 decimals
function shownNumber(v) {
  return typeof v === "number" ? String(Math.round(v * 10000) / 10000) : String(v);
}

function mountInspector(parent, bus) {
  const panel = h("div", "nbe-inspector");
  const body = h("div", "nbe-insp-body");
  const title = h("div", "nbe-insp-title", "Inspector");
  const list = h("div", "nbe-insp-props");
  const error = h("div", "nbe-insp-error");
  error.setAttribute("role", "alert");
  body.append(title, error, list); // the reason for a refused value above the fields: in view however far they scroll
  panel.appendChild(body);
  parent.appendChild(panel);
  let props = null;
  let failed = null; // the field whose value was refused: marked until the next action

  const row = (label, value) => {
    const r = h("div", "nbe-insp-row");
    r.append(h("span", "nbe-insp-label", label), value);
    list.appendChild(r);
    return r;
  };
  const text = (t) => h("span", "nbe-insp-value", t);
  // a text box whose keys are its own (not the editor's shortcuts); Escape puts back what it showed
  const box = (value, key, title) => {
    const input = h("input", "nbe-insp-input", "", title);
    input.type = "text";
    input.value = shownNumber(value);
    input.dataset.field = key;
    input.setAttribute("aria-label", title || key);
    input.addEventListener("keydown", (e) => {
      e.stopPropagation();
      if (e.key === "Escape") { input.value = shownNumber(value); bus.focus(); }
    });
    return input;
  };
  // send when Enter is pressed or the focus leaves with a new value
  const onCommit = (inputs, send) => {
    for (const input of inputs) {
      input.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); send(); } });
      input.addEventListener("change", send);
    }
  };
  const field = (name, value, msg = {}, title = "") => {
    const input = box(value, name + (msg.param ? `.${msg.effect}.${msg.param}` : ""), title || name);
    let sent = input.value;
    onCommit([input], () => {
      if (input.value === sent) return;
      sent = input.value;
      bus.model.send({ type: "inspect_edit", clip: props.id, field: name, value: typedValue(input.value), ...msg });
    });
    return input;
  };
  // a source point typed as a timecode, frames or +/- frames from where it is: sent as edit-rate frames (a trim)
  const point = (name, value, title) => {
    const input = box(bus.timecode(Math.round(value)), name, title);
    input.classList.add("nbe-insp-tc");
    let sent = input.value;
    onCommit([input], () => {
      if (input.value === sent) return;
      sent = input.value;
      const got = parseTimecode(input.value, Math.round(value), bus.fps(), Infinity);
      if (got.error) showError(name, got.error);
      else bus.model.send({ type: "inspect_edit", clip: props.id, field: name, value: got.n });
    });
    return input;
  };
  const seconds = (n) => `${bus.timecode(Math.round(n))}`;

  function draw() {
    list.innerHTML = "";
    panel.dataset.clip = props ? props.id : "";
    if (!props) {
      list.appendChild(h("div", "nbe-insp-empty", "Select a clip to see and change its properties."));
      return;
    }
    const p = props;
    row("Name", text(p.name)).title = `${p.name} (${p.id})`;
    row("Media", text(p.media));
    row("Track", text(p.track));
    row("Start", text(seconds(p.start)));
    row("Duration", text(`${seconds(p.duration)} (${(p.duration / bus.fps()).toFixed(2)} s)`));
    row("Source in", point("src_in", p.src_in, "Source in: the media's first frame the clip shows (HH:MM:SS:FF, frames, +/-)"));
    row("Source out", point("src_out", p.src_out, "Source out: the media's frame after the clip's last (HH:MM:SS:FF, frames, +/-)"));
    row("Speed", field("speed", p.speed, {}, "Speed: 2 plays twice as fast, 0.5 is slow motion"));
    const on = h("input", "nbe-insp-check", "", "Shown and heard (off: kept in place, not shown nor heard)");
    on.type = "checkbox";
    on.checked = p.enabled;
    on.dataset.field = "enabled";
    on.addEventListener("keydown", (e) => e.stopPropagation()); // its space bar is not play
    on.addEventListener("change", () => bus.model.send({ type: "inspect_edit", clip: p.id, field: "enabled", value: on.checked }));
    row("Enabled", on);
    if (p.kind === "video") {
      const t = p.transform;
      row("Position", pair(field("x", t.x, {}, "x: the picture's centre, output pixels right of the frame's"), field("y", t.y, {}, "y: output pixels below the frame's centre")));
      row("Scale", field("scale", t.scale, {}, "Scale: 1 fits the frame"));
      const crops = ["left", "top", "right", "bottom"].map((side, i) => box(t.crop[i], `crop.${side}`, `Crop ${side} (source pixels)`));
      // the four sides travel together: s.transform(clip, crop=(left, top, right, bottom))
      let sentCrop = crops.map((c) => c.value).join();
      onCommit(crops, () => {
        if (crops.map((c) => c.value).join() === sentCrop) return;
        sentCrop = crops.map((c) => c.value).join();
        bus.model.send({ type: "inspect_edit", clip: p.id, field: "crop", value: crops.map((c) => typedValue(c.value)) });
      });
      const sides = h("span", "nbe-insp-crop");
      sides.append(...crops);
      row("Crop", sides);
      row("Opacity", field("opacity", p.opacity, {}, "Opacity: 0 (invisible) to 1"));
      list.appendChild(h("div", "nbe-insp-section", "Effects"));
      for (const fx of p.effects) effect(fx);
      const add = h("select", "nbe-insp-add", "", "Add an effect to the clip (recorded)");
      add.appendChild(Object.assign(h("option", "", "Add effect…"), { value: "" }));
      for (const kind of p.kinds) add.appendChild(Object.assign(h("option", "", kind), { value: kind }));
      add.addEventListener("keydown", (e) => e.stopPropagation());
      add.addEventListener("change", () => {
        if (add.value) bus.model.send({ type: "inspect_edit", clip: p.id, field: "add_effect", value: add.value });
      });
      list.appendChild(add);
    } else {
      row("Gain (dB)", field("gain", p.gain, {}, "Gain in decibels: 0 leaves the sound as it is"));
    }
    if (failed) {
      const bad = list.querySelector(`[data-field="${failed}"]`);
      if (bad) bad.classList.add("nbe-bad");
    }
  }

  function pair(a, b) {
    const s = h("span", "nbe-insp-pair");
    s.append(a, b);
    return s;
  }

  function effect(fx) {
    const head = h("div", "nbe-insp-effect");
    head.dataset.effect = fx.id;
    head.appendChild(h("span", "nbe-insp-kind", fx.kind + (fx.mask ? ` (mask ${fx.mask})` : "")));
    const remove = h("button", "nbe-insp-remove", "×", `Remove the ${fx.kind} effect (recorded)`);
    remove.addEventListener("click", () => bus.model.send({ type: "inspect_edit", clip: props.id, field: "remove_effect", value: fx.id }));
    head.appendChild(remove);
    list.appendChild(head);
    for (const prm of fx.params) {
      const value = prm.keyed
        ? text(prm.value)
        : field("effect", prm.value, { effect: fx.id, param: prm.name }, `${fx.kind} ${prm.name}`);
      row(prm.name, value).classList.add("nbe-insp-param");
    }
  }

  let refused = false; // the answer to a refused value came: the fields show the clip's values again
  bus.on("inspector", (msg) => {
    // a field being typed in keeps the keyboard through the redraw, and its text unless that was refused
    const active = panel.contains(document.activeElement) ? document.activeElement.dataset.field : null;
    const typed = active ? document.activeElement.value : null;
    const same = props && msg.props && props.id === msg.props.id;
    props = msg.props;
    draw();
    if (active && same) {
      const again = list.querySelector(`[data-field="${active}"]`);
      if (again && again.type === "text") {
        if (!refused) again.value = typed;
        again.focus({ preventScroll: true });
        if (refused) again.select();
      }
    }
    refused = false;
  });
  function showError(name, text) {
    error.textContent = text || "";
    failed = text ? name : null;
    panel.classList.toggle("nbe-has-error", !!text);
    const bad = failed && list.querySelector(`[data-field^="${failed}"]`);
    if (bad) bad.classList.add("nbe-bad");
  }
  bus.on("inspected", (msg) => {
    refused = !!msg.error;
    showError(msg.field, msg.error);
  });
  bus.on("clear-messages", () => {
    error.textContent = "";
    failed = null;
    panel.classList.remove("nbe-has-error");
    for (const el of list.querySelectorAll(".nbe-bad")) el.classList.remove("nbe-bad");
  });
  draw();
  return null;
}

// ---- messages: a refused gesture's reason shows until the next action ----

function mountMessages(root, bus) {
  const { model } = bus;
  const clear = () => {
    if (model.get("status")) { model.set("status", ""); model.save_changes(); }
    bus.emit("clear-messages");
  };
  bus.say = (text) => { model.set("status", text); model.save_changes(); };
  // capture: cleared before the action itself runs, so a message the action brings stays
  root.addEventListener("pointerdown", clear, true);
  root.addEventListener("keydown", (e) => { if (!["Shift", "Control", "Alt", "Meta"].includes(e.key)) clear(); }, true);
  const status = root.querySelector(".nbe-status");
  if (status) {
    status.setAttribute("role", "status");
    const show = () => { status.title = model.get("status"); };
    model.on("change:status", show);
  }
  return null;
}

// ---- timecode entry: jump the playhead to a typed time ----

// "HH:MM:SS:FF" (or its last fields: "SS:FF", "MM:SS:FF"), a frame number, or +/- frames or a timecode from
// the playhead: the frame, or why the text is not one
function parseTimecode(text, here, fps, frames) {
  const t = text.trim().replace(/\s+/g, "");
  const base = Math.max(1, Math.round(fps));
  const bad = { error: `“${text.trim()}” is not a timecode: type HH:MM:SS:FF, a frame number, or +/− frames` };
  const m = /^([+-]?)([\d:;.]+)$/.exec(t);
  if (!m) return bad;
  const fields = m[2].split(/[:;.]/);
  if (fields.length > 4 || fields.some((f) => !/^\d+$/.test(f))) return bad;
  let n;
  if (fields.length === 1) n = Number(fields[0]);
  else {
    const [ff, ss = 0, mm = 0, hh = 0] = fields.map(Number).reverse();
    if (ff >= base) return { error: `${ff} frames: a second at ${+fps.toFixed(3)} fps has frames 0 to ${base - 1}` };
    if ((fields.length > 2 && ss >= 60) || (fields.length > 3 && mm >= 60)) return { error: `${text.trim()}: minutes and seconds go up to 59` };
    n = ((hh * 60 + mm) * 60 + ss) * base + ff;
  }
  if (m[1]) n = here + (m[1] === "-" ? -n : n);
  if (n < 0) return { error: `${text.trim()} is before the start of the timeline` };
  if (n > frames - 1) return { error: `${text.trim()} is past the end of the timeline (its last frame is at ${tcOf(frames - 1, base)})` };
  return { n };
}

function tcOf(n, base) {
  const s = Math.floor(n / base);
  const p = (v) => String(v).padStart(2, "0");
  return `${p(Math.floor(s / 3600))}:${p(Math.floor(s / 60) % 60)}:${p(s % 60)}:${p(n % base)}`;
}

function mountTimecodeEntry(root, bus) {
  const tc = root.querySelector(".nbe-timecode");
  if (!tc) return null;
  tc.classList.add("nbe-tc-jump");
  tc.title = "Jump: click (or Ctrl+J) and type HH:MM:SS:FF, a frame number, or +/- frames, then Enter";
  const input = h("input", "nbe-tc-entry", "", "HH:MM:SS:FF, a frame number, or +/- frames; Enter jumps, Esc cancels");
  input.type = "text";
  input.setAttribute("aria-label", "Jump to timecode");
  input.style.display = "none";
  tc.after(input);
  const close = () => {
    input.style.display = "none";
    tc.style.display = "";
    input.classList.remove("nbe-bad");
  };
  const open = () => {
    if (bus.playing()) bus.stop();
    input.value = tc.textContent.split(" ")[0];
    tc.style.display = "none";
    input.style.display = "";
    input.focus({ preventScroll: true });
    input.select();
  };
  tc.addEventListener("click", (e) => { e.preventDefault(); open(); });
  input.addEventListener("keydown", (e) => {
    e.stopPropagation(); // the digits and colons typed here are not the editor's keys
    if (e.key === "Escape") { e.preventDefault(); close(); bus.focus(); return; }
    if (e.key !== "Enter") return;
    e.preventDefault();
    const got = parseTimecode(input.value, bus.model.get("playhead"), bus.fps(), bus.frames());
    if (got.error) {
      input.classList.add("nbe-bad");
      if (bus.say) bus.say(got.error);
      return;
    }
    close();
    bus.seek(got.n);
    bus.focus();
  });
  input.addEventListener("blur", () => { if (input.style.display !== "none") close(); });
  bus.timecodeEntry = open;
  return null;
}

// the keys of these panels (editor.js's keyboard asks first): Ctrl/Cmd+J opens the timecode entry
function panelKeys(bus, e) {
  if ((e.ctrlKey || e.metaKey) && (e.key === "j" || e.key === "J") && bus.timecodeEntry) {
    bus.timecodeEntry();
    return true;
  }
  return false;
}
