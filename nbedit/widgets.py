"""anywidget widgets bound to a Session: a timeline, a scrubbing preview, and both together (``s.ui()``).

The widgets hold no editing logic. A gesture becomes a message; the message calls the same Session operation a
cell would, inside ``session.external("widget")`` so the operation is recorded and also appears as a new code
cell. Every change to the session, from a cell or a widget, redraws every open widget through the session's
listeners. Frames travel as JPEG bytes in binary message buffers, never as base64 in JSON.
"""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import traitlets

from .errors import NbeditError
from .model import blend_of, item_id, nb, pool, source_at, source_in, time_scalar
from .preview import JpegEncoder, Preview
from .render import Compositor, Sources, resize, to_png
from .timeline import layout, timeline_end
from .tools.camera import reframe_crop
from .tools.keyframes import is_keyed


def _static() -> Path:
    """The front-end files: ``nbedit/static`` in an installed wheel, the top-level ``widgets/`` in a checkout."""
    for folder in (Path(__file__).parent / "static", Path(__file__).parent.parent / "widgets"):
        if (folder / "editor.js").exists():
            return folder
    raise FileNotFoundError("nbedit's widget files (editor.js) are missing from the installation")


STATIC = _static()


def _bundle() -> str:
    """One ES module from the front-end files: each part is plain JS; editor.js holds the export."""
    parts = ("preview.js", "timeline.js", "graph.js", "editor.js")
    return "\n".join((STATIC / name).read_text() for name in parts)


def timecode(n: int, fps: float) -> str:
    """HH:MM:SS:FF of edit-rate frame n (non-drop)."""
    base = max(1, round(fps))
    f = n % base
    s = n // base
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}:{f:02d}"


class Editor(anywidget.AnyWidget):
    """Preview on top, timeline below, transport bar: the editor in a cell. ``s.ui()``

    ``parts`` picks what shows: "all", "preview" (``s.preview()``) or "timeline" (``s.timeline_widget()``).
    """

    _esm = _bundle()
    _css = STATIC / "editor.css"

    parts = traitlets.Unicode("all").tag(sync=True)
    doc = traitlets.Dict().tag(sync=True)  # the timeline, as the front end draws it
    playhead = traitlets.Int(0).tag(sync=True)  # edit-rate frame
    selection = traitlets.List(traitlets.Unicode()).tag(sync=True)
    zoom = traitlets.Float(80.0).tag(sync=True)  # pixels per second
    mark_in = traitlets.Int(-1).tag(sync=True)
    mark_out = traitlets.Int(-1).tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)  # the last error or notice, shown in the widget
    show_crop = traitlets.Bool(False).tag(sync=True)  # a reframed clip's whole source, its crop as a rectangle
    show_mask = traitlets.Bool(False).tag(sync=True)  # the masks made from the clips on screen, tinted over them

    def __init__(self, session: Any, parts: str = "all", **kwargs: Any):
        super().__init__(parts=parts, **kwargs)
        self.session = session
        self.preview = preview_of(session)
        self.thumb_sources = Sources()
        self._encode = JpegEncoder(quality=6)
        self._thumbs: dict[tuple, bytes] = {}
        self._peaks: dict[tuple, list[float]] = {}
        self.sent: list[dict] = []  # what went to the front end, newest last (a short log for tests and debugging)
        self._overlay_comp: Compositor | None = None
        self.observe(self._on_playhead, names=["playhead", "show_crop", "show_mask"])
        self.on_msg(self._on_message)
        listener = _weak_listener(self)
        session.listeners.append(listener)
        self._listener = listener
        connect_front_end(session)
        self.refresh()

    # ---- kernel -> front end ------------------------------------------------------------------------

    def refresh(self) -> None:
        """Redraw from the session's current state (called after every change to it)."""
        self.doc = timeline_doc(self.session, self._peaks)
        end = self.doc["frames"]
        if end and self.playhead >= end:
            self.playhead = end - 1  # sends the frame through the observer
        else:
            self.send_frame()
        self.preview.refresh_proxies()

    def send_frame(self) -> None:
        if not self.doc.get("frames"):
            return
        n = self.playhead
        msg = {"type": "frame", "n": n, "timecode": timecode(n, self.doc["fps"])}
        source = self._crop_view(n) if self.show_crop else None
        if source is not None:  # the reframed clip's whole picture, and where its crop lies on it
            jpeg, clip_id, box = source
            msg.update({"view": "source", "clip": clip_id, "crop": box})
        else:
            jpeg = self.preview.jpeg(n)
        buffers = [jpeg]
        overlay = self._mask_png(n) if self.show_mask and source is None else None
        if overlay is not None:
            msg["mask"] = True
            buffers.append(overlay)
        self._push(msg, buffers)

    def _crop_view(self, n: int) -> tuple[bytes, str, dict] | None:
        """The source frame of the reframed clip at frame n (the selected one, else the top one) and its crop box
        as fractions of the picture: what the preview shows while ``show_crop`` is on."""
        s = self.session
        candidates = [c for c in self.selection if c] + [
            item["id"] for track in reversed(self.doc["tracks"]) if track["kind"] == "video" for item in track["items"]
        ]
        for cid in candidates:
            try:
                _, p = s.locate(cid)
            except NbeditError:
                continue
            data = nb(p.item)
            if "reframe" not in data or not p.start <= n < p.end:
                continue
            entry = pool(s.timeline)[data["media"]]
            w, h = int(entry["width"]), int(entry["height"])
            pos = source_at(p.item, n - p.start)
            left, top, right, bottom = reframe_crop(data["reframe"], pos, w, h)
            i = self.thumb_sources.index(entry, float(pos / s.fps))
            img = None if i is None else self.thumb_sources.frame(entry, i)
            if img is None:
                return None
            pw = min(w, self.preview.max_width)
            img = resize(img, pw, max(2, round(h * pw / w / 2) * 2))
            box = {"x": left / w, "y": top / h, "w": (w - left - right) / w, "h": (h - top - bottom) / h}
            return self._encode(img), cid, box
        return None

    def _mask_png(self, n: int) -> bytes | None:
        """The masks on screen at frame n as a tinted, half-transparent PNG the size of the preview."""
        tl = self.session.timeline
        comp = self._overlay_comp
        if comp is None or comp.timeline is not tl or comp.canvas != self.preview.size:
            comp = self._overlay_comp = Compositor(tl, self.thumb_sources, size=self.preview.size)
        alpha = comp.overlay(min(n, max(comp.length - 1, 0)))
        if alpha is None:
            return None
        rgba = np.empty((*alpha.shape, 4), np.uint8)
        rgba[..., :3] = (255, 40, 140)
        rgba[..., 3] = np.rint(alpha * 140).astype(np.uint8)
        return to_png(rgba)

    def _push(self, content: dict, buffers: list[bytes] | None = None) -> None:
        self.sent = [*self.sent[-20:], content]
        self.send(content, buffers or [])

    def _on_playhead(self, change: dict) -> None:
        self.send_frame()

    # ---- front end -> kernel ------------------------------------------------------------------------

    def _on_message(self, _: Any, content: dict, buffers: list) -> None:
        kind = content.get("type")
        try:
            if kind == "edit":
                self.edit(content)
            elif kind == "thumbs":
                self.send_thumbs(content["clip"], int(content.get("count", 6)), int(content.get("height", 36)))
            elif kind == "frame":
                self.send_frame()
        except NbeditError as e:
            self.status = str(e)
        except Exception as e:  # a widget must say what went wrong rather than fail silently
            self.status = f"{type(e).__name__}: {e}"

    def edit(self, msg: dict) -> None:
        """Run one gesture as a Session operation, recorded and emitted as a cell."""
        s, op = self.session, msg["op"]
        fps = float(self.doc["fps"])
        self.status = ""
        with s.external("widget"):
            if op == "undo":
                s.undo()
            elif op == "redo":
                s.redo()
            elif op == "trim":
                clip = s.clip(msg["clip"])
                item = clip.otio
                offset = round(float(msg["to"]) * fps) - round(clip.start * fps)  # the edge's new place, in frames
                src = float(source_at(item, offset) / s.fps)
                if msg["edge"] == "in":
                    s.trim(clip, src_in=src, ripple=bool(msg.get("ripple", False)))
                else:
                    s.trim(clip, src_out=src, ripple=bool(msg.get("ripple", False)))
            elif op == "move":
                track = msg.get("track")
                s.move(msg["clip"], to=round(float(msg["to"]) * fps) / fps, track=track)
            elif op == "split":
                clip = msg.get("clip") or self._clip_under_playhead()
                s.split(clip, at=self.playhead / fps)
            elif op == "delete":
                for cid in list(msg.get("clips") or self.selection):
                    s.delete(cid, ripple=bool(msg.get("ripple", False)))
                self.selection = []
            elif op == "reframe":  # the aspect menu: the selected clip, or the whole timeline
                clip = msg.get("clip")
                if clip:
                    s.reframe(clip, aspect=str(msg["aspect"]))
                else:
                    s.reframe(aspect=str(msg["aspect"]))
            elif op == "crop_key":  # the crop rectangle dragged: its new centre, as fractions of the picture
                clip = s.clip(msg["clip"])
                entry = pool(s.timeline)[clip.media]
                centre = (
                    round(float(msg["x"]) * int(entry["width"]), 1),
                    round(float(msg["y"]) * int(entry["height"]), 1),
                )
                s.keyframe(clip, "reframe", at=self.playhead / fps, value=centre)
            else:
                raise NbeditError(f"unknown gesture {op!r}")

    def _clip_under_playhead(self) -> str:
        for track in reversed(self.doc["tracks"]):
            if track["kind"] != "video":
                continue
            for item in track["items"]:
                if item["start"] <= self.playhead < item["start"] + item["dur"]:
                    return item["id"]
        raise NbeditError("no clip under the playhead to split")

    def send_thumbs(self, clip_id: str, count: int, height: int) -> None:
        """A strip of ``count`` thumbnails across the clip, as one JPEG."""
        s = self.session
        clip = s.clip(clip_id)
        item = clip.otio
        entry = pool(s.timeline)[clip.media]
        dur = round(clip.duration * float(s.fps))
        key = (entry["sha256"], float(source_in(item)), float(time_scalar(item)), dur, count, height)
        strip = self._thumbs.get(key)
        if strip is None:
            aspect = int(entry.get("width") or 16) / int(entry.get("height") or 9)
            w = max(2, round(height * aspect / 2) * 2)
            tiles = []
            for k in range(count):
                offset = (dur - 1) * k // max(count - 1, 1)
                i = self.thumb_sources.index(entry, float(source_at(item, offset) / s.fps))
                img = None if i is None else self.thumb_sources.frame(entry, i)
                tiles.append(np.zeros((height, w, 3), np.uint8) if img is None else resize(img, w, height))
            strip = self._thumbs[key] = self._encode(np.concatenate(tiles, axis=1))
        self._push({"type": "thumbs", "clip": clip_id, "count": count}, [strip])

    def close(self) -> None:
        listener = getattr(self, "_listener", None)
        if listener is not None and listener in self.session.listeners:
            self.session.listeners.remove(listener)
        super().close()


def _weak_listener(widget: Editor):
    ref = weakref.ref(widget)

    def listener(session: Any, record: Any) -> None:
        w = ref()
        if w is None:
            if listener in session.listeners:
                session.listeners.remove(listener)
            return
        w.refresh()

    return listener


_previews: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def preview_of(session: Any) -> Preview:
    """The session's one Preview (its caches and proxies are shared by all its widgets)."""
    p = _previews.get(session)
    if p is None:
        p = _previews[session] = Preview(session)
    return p


# ---- what the front end draws -----------------------------------------------------------------------------


def timeline_doc(session: Any, peaks: dict | None = None) -> dict:
    """The timeline as plain data for drawing: tracks, clips, crossfades, in edit-rate frames."""
    tl = session.timeline
    fmt = session.format
    fps = float(session.fps) if fmt else 24.0
    pool = nb(tl).get("media", {})
    tracks = []
    for track in tl.tracks:
        placed, cuts = layout(track)
        items = []
        for p in placed:
            if not hasattr(p.item, "media_reference") or "nbedit" not in p.item.metadata:
                continue
            data = nb(p.item)
            entry = pool[data["media"]]
            item = {
                "id": data["id"],
                "name": p.item.name,
                "media": data["media"],
                "start": p.start,
                "dur": p.duration,
                "src_in": float(source_in(p.item)) / fps,
                "speed": float(time_scalar(p.item)),
                "opacity": float(data.get("opacity", 1.0)),
                "generated": "generation" in data,
                "offline": not Path(entry["path"]).exists(),
            }
            if track.kind == "Video":
                item["reframed"] = "reframe" in data
                item["graph"] = clip_graph(data, entry, track)
            if track.kind == "Audio" and peaks is not None and not item["offline"]:
                item["peaks"] = _clip_peaks(session, p.item, entry, p.duration, peaks)
            items.append(item)
        xfades = [
            {
                "name": c.transition.name,
                "start": c.start,
                "end": c.end,
                "at": c.at,
                "a": item_id(c.before.item),
                "b": item_id(c.after.item),
            }
            for c in cuts
        ]
        tracks.append({"name": track.name, "kind": track.kind.lower(), "items": items, "xfades": xfades})
        if track.kind == "Video":
            tracks[-1]["blend"] = _blend_text(blend_of(track))
    return {
        "name": session.name,
        "fps": fps,
        "frames": timeline_end(tl) if fmt else 0,
        "width": fmt["width"] if fmt else 0,
        "height": fmt["height"] if fmt else 0,
        "tracks": tracks,
        "history": len(session.history),
        "can_undo": session.can_undo,
        "can_redo": session.can_redo,
    }


def clip_graph(data: Any, entry: dict, track: Any) -> list[dict]:
    """A clip's compositing graph as the node view draws it: source, effects (with their masks), placement, blend,
    track. Each node: kind, a short label, and the mask feeding it when there is one."""
    nodes = [{"kind": "source", "label": entry.get("name", data["media"])}]
    blend = None
    for n in data.get("effects", ()):
        if n["kind"] == "blend":
            blend = n
            continue
        params = ", ".join(f"{k} {_param_text(v)}" for k, v in n.get("params", {}).items())
        node = {"kind": n["kind"], "id": n["id"], "label": f"{n['kind']} {params}".strip()}
        if n.get("mask"):
            node["mask"] = n["mask"] + (" (inverted)" if n.get("invert") else "")
        nodes.append(node)
    if "reframe" in data:
        nodes.append({"kind": "reframe", "label": f"reframe {data['reframe']['aspect']}"})
    tf, opacity = data.get("transform"), float(data.get("opacity", 1.0))
    if tf is not None or opacity != 1:
        scale = "" if tf is None else f"scale {float(tf['scale']):g} at {float(tf['x']):g}, {float(tf['y']):g}"
        nodes.append({"kind": "place", "label": " ".join(p for p in (scale, f"opacity {opacity:g}") if p)})
    if blend is not None:
        params = blend.get("params", {})
        label = f"{params.get('mode', 'normal')} {_param_text(params.get('opacity', 1.0))}"
        nodes.append({"kind": "blend", "id": blend["id"], "label": label})
    nodes.append(
        {"kind": "track", "label": f"{track.name} {_blend_text(blend_of(track))}"}
    )
    return nodes


def _param_text(v: Any) -> str:
    if is_keyed(v):
        return f"keyed ({len(v['keys'])})"
    if isinstance(v, str):
        return v
    if isinstance(v, int | float):
        return f"{float(v):g}"
    return "(" + ", ".join(f"{float(x):g}" for x in v) + ")"


def _blend_text(blend: Any) -> str:
    return f"{blend.get('mode', 'normal')} {_param_text(blend.get('opacity', 1.0))}"


def _clip_peaks(session: Any, item: Any, entry: dict, duration: int, cache: dict, points: int = 96) -> list[float]:
    """Peak levels across an audio clip, for its waveform."""
    key = (entry["sha256"], float(source_in(item)), float(time_scalar(item)), duration, points)
    if key not in cache:
        pcm = session.sources.audio(entry)
        rate = 48000
        a = int(float(source_in(item) / session.fps) * rate)
        b = int(float(source_at(item, duration) / session.fps) * rate)
        seg = np.abs(pcm[:, max(a, 0) : max(b, a + 1)]).max(axis=0) if pcm is not None else np.zeros(1)
        edges = np.linspace(0, len(seg), points + 1).astype(int)
        cache[key] = [round(float(seg[i:j].max()), 3) if j > i else 0.0 for i, j in zip(edges, edges[1:], strict=False)]
    return cache[key]


# ---- inserting emitted code as cells -----------------------------------------------------------------------


_front_end: list = []


def connect_front_end(session: Any) -> None:
    """In JupyterLab and Notebook 7, insert emitted code as a cell at once (through ipylab's command bridge).

    Elsewhere (VS Code, plain IPython) the code waits and arrives with the next executed cell.
    """
    try:
        from ipylab import JupyterFrontEnd
        from IPython import get_ipython
    except ImportError:
        return
    if get_ipython() is None or not hasattr(get_ipython(), "kernel"):
        return
    if not _front_end:
        _front_end.append(JupyterFrontEnd())
    app = _front_end[0]

    def insert(code: str) -> bool:
        app.commands.execute("notebook:insert-cell-below")
        app.commands.execute("notebook:replace-selection", {"text": code})
        return True

    session.cells.insert = insert
