"""anywidget widgets bound to a Session: a timeline, a scrubbing preview, and both together (``s.ui()``).

The widgets hold no editing logic. A gesture becomes a message; the message calls the same Session operation a
cell would, inside ``session.external("widget")`` so the operation is recorded and also appears as a new code
cell. Every change to the session, from a cell or a widget, updates every open widget through the session's
listeners. Frames travel as JPEG bytes in binary message buffers, never as base64 in JSON.

The timeline travels in pieces, as custom messages (no synced trait holds it). The kernel keeps one document per
track; after a change it rebuilds the tracks the session names in ``changed_tracks`` (all of them when that is
None) and sends only what differs from what it sent before:

- ``{"type": "doc", "seq": n, "doc": {...}}``: the whole timeline, only when a view asks (``{"type": "hello"}``
  on its first render, after a reconnect, or when it finds it missed a message);
- ``{"type": "tracks", "seq": n, "header": {...}, "order": [names], "tracks": {name: trackdoc},
  "patches": {name: {"splice": {"items": [at, remove, new, shift], "xfades": [...]}, "blend": ...}},
  "removed": [names]}``: after a change. ``seq`` counts these messages; a view applies one only on top of
  ``seq - 1`` and otherwise asks for the whole doc again. A splice replaces ``remove`` elements from index ``at``
  of a track's list (its clips, its crossfades) by ``new`` and moves the timeline positions of every element after
  them by ``shift`` frames (so a ripple costs a few bytes, not the rest of the track); a patch also carries the
  track's other fields that changed. A track that changed too much to patch comes whole in ``tracks``.

Waveform peaks, thumbnail strips and the selected clip's node graph are asked for (or pushed) separately, for the
clips a view draws or selects; none of them is in the timeline document.

Playback streams (``nbedit.preview.Playback`` describes the batches): the view sends ``{"type": "play", "token",
"from": n, "step": s}`` (s = ±1, ±2, ±4), then ``{"type": "play_ack", "token", "k": k}`` as its clock shows play
index k, and ``{"type": "stop", "token"}``; the kernel answers with "batch" messages (JPEGs and the sound of their
span) and a "play_end". The playhead trait does not move while a view plays; the view sets it when it stops. While
``scrub_audio`` is on (a view with a running AudioContext turns it on), every playhead change outside playback
also brings ``{"type": "scrub_audio", "n", "sample", "count", "rate"}`` with two frames of the mix at it.
"""

from __future__ import annotations

import json
import os
import weakref
from collections import deque
from collections.abc import Collection
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import opentimelineio as otio
import traitlets

from .errors import NbeditError
from .index import TrackIndex
from .model import blend_of, item_id, media_of, nb, pool, source_at, source_in, time_scalar, track_flags
from .model import data as read_data
from .preview import JpegEncoder, Preview
from .render import Compositor, Sources, resize, to_png
from .timeline import Placed, layout
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
    ``doc`` is the whole timeline document as the front end holds it (read only); ``traffic`` lists the size of
    every message sent, newest last.
    """

    _esm = _bundle()
    _css = STATIC / "editor.css"

    parts = traitlets.Unicode("all").tag(sync=True)
    playhead = traitlets.Int(0).tag(sync=True)  # edit-rate frame
    selection = traitlets.List(traitlets.Unicode()).tag(sync=True)
    zoom = traitlets.Float(80.0).tag(sync=True)  # pixels per second
    mark_in = traitlets.Int(-1).tag(sync=True)
    mark_out = traitlets.Int(-1).tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)  # the last error or notice, shown in the widget
    show_crop = traitlets.Bool(False).tag(sync=True)  # a reframed clip's whole source, its crop as a rectangle
    show_mask = traitlets.Bool(False).tag(sync=True)  # the masks made from the clips on screen, tinted over them
    scrub_audio = traitlets.Bool(False).tag(sync=True)  # send a snippet of sound with each playhead change

    def __init__(self, session: Any, parts: str = "all", **kwargs: Any):
        super().__init__(parts=parts, **kwargs)
        self.session = session
        self.preview = preview_of(session)
        self.thumb_sources = Sources()
        self._encode = JpegEncoder(quality=6)
        self._thumbs: dict[tuple, bytes] = {}
        self._peaks: dict[tuple, list[float]] = {}
        self.sent: list[dict] = []  # what went to the front end, newest last (a short log for tests and debugging)
        self.traffic: deque[tuple[str, int]] = deque(maxlen=2000)  # (type, bytes) of each message sent
        self._tracks: dict[str, dict] = {}  # the per-track documents the front end holds
        self._placed: dict[str, dict[str, Placed]] = {}  # clip id -> placement, per track, as those documents say
        self._ends: dict[str, int] = {}
        self._order: list[str] = []
        self._header: dict = {}
        self._online: dict[str, bool] | None = None
        self._seq = 0  # "tracks" messages sent
        self._version: int | None = None  # the session's version the documents show
        self._overlay_comp: Compositor | None = None
        self.observe(self._on_playhead, names=["playhead", "show_crop", "show_mask"])
        self.observe(lambda _: self.send_graph(), names=["selection"])
        self.on_msg(self._on_message)
        listener = _weak_listener(self)
        session.listeners.append(listener)
        self._listener = listener
        connect_front_end(session)
        self._rebuild(None)  # nothing to send yet: a view asks for the whole doc when it first renders
        self.preview.refresh_proxies()

    # ---- kernel -> front end ------------------------------------------------------------------------

    @property
    def doc(self) -> dict:
        """The whole timeline document: what a view draws, assembled from the per-track documents (read only)."""
        return {**self._header, "tracks": [self._tracks[n] for n in self._order]}

    def refresh(self, changed: Collection[str] | None = None) -> None:
        """Bring the views up to the session's state (called after every change to it): rebuild the documents of
        the tracks in ``changed`` (None: of every track) and send what differs from what the views hold."""
        msg = self._rebuild(changed)
        self._seq += 1
        self._push({"type": "tracks", "seq": self._seq, **msg})
        end = self._header["frames"]
        if end and self.playhead >= end:
            self.playhead = end - 1  # sends the frame through the observer
        else:
            self.send_frame()
        if self.selection:
            self.send_graph()
        self.preview.refresh_proxies()

    def _rebuild(self, changed: Collection[str] | None) -> dict:
        """Rebuild the per-track documents named in ``changed`` (None: all) and the header; return what changed
        as the body of a "tracks" message."""
        s = self.session
        tl = s.timeline
        media = pool(tl)
        online = {mid: os.path.exists(media[mid]["path"]) for mid in media.keys()}
        tracks = {t.name: t for t in tl.tracks}
        if changed is None or online != self._online:  # a file (dis)appeared: its clips on every track change
            rebuild = list(tracks)
        else:
            rebuild = [n for n in tracks if n in changed or n not in self._tracks]
        self._online = online
        fps = float(s.fps) if s.format else 24.0
        whole: dict[str, dict] = {}
        patches: dict[str, dict] = {}
        for name in rebuild:
            new, placed, self._ends[name] = track_doc(tracks[name], fps, online, s.index.track(name))
            old = self._tracks.get(name)
            self._tracks[name], self._placed[name] = new, placed
            if old is None or old["kind"] != new["kind"]:
                whole[name] = new
            elif old != new:
                patch = track_patch(old, new)
                if patch is None:
                    whole[name] = new
                else:
                    patches[name] = patch
        removed = [n for n in self._tracks if n not in tracks]
        for n in removed:
            del self._tracks[n], self._placed[n], self._ends[n]
        self._order = list(tracks)
        fmt = s.format
        self._header = {
            "name": s.name,
            "fps": fps,
            "frames": max(self._ends.values(), default=0) if fmt else 0,
            "width": fmt["width"] if fmt else 0,
            "height": fmt["height"] if fmt else 0,
            "history": len(s.history),
            "can_undo": bool(s.can_undo),
            "can_redo": bool(s.can_redo),
            "markers": s.markers() if fmt else [],
        }
        self._version = s.version
        return {"header": self._header, "order": self._order, "tracks": whole, "patches": patches, "removed": removed}

    def send_doc(self) -> None:
        """The whole timeline document, for a view that has none (first render, reconnect, a missed message)."""
        self._push({"type": "doc", "seq": self._seq, "doc": self.doc})

    def send_frame(self) -> None:
        if not self._header.get("frames"):
            return
        n = self.playhead
        msg = {"type": "frame", "n": n, "timecode": timecode(n, self._header["fps"])}
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
            item["id"]
            for name in reversed(self._order)
            if self._tracks[name]["kind"] == "video"
            for item in self._tracks[name]["items"]
            if item["start"] <= n < item["start"] + item["dur"]
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
        size = len(json.dumps(content, separators=(",", ":"))) + sum(len(b) for b in buffers or ())
        self.traffic.append((content.get("type", ""), size))
        self.send(content, buffers or [])

    def _on_playhead(self, change: dict) -> None:
        if self.preview.playback is not None and self.preview.playback.send == self._push:
            return  # a view is playing: it shows the frames of the stream
        self.send_frame()
        if change.get("name") == "playhead" and self.scrub_audio and self._header.get("frames"):
            self.preview.snippet(self.playhead, self._push)

    def play(self, start: int, step: int = 1, token: str = "", **kw: Any):
        """Stream frames from ``start`` every ``step`` frames (negative: backwards), with their sound."""
        return self.preview.play(start, step, self._push, token, **kw)

    def stop(self) -> None:
        p = self.preview.playback
        if p is not None and p.send == self._push:
            self.preview.stop()

    # ---- front end -> kernel ------------------------------------------------------------------------

    def _on_message(self, _: Any, content: dict, buffers: list) -> None:
        kind = content.get("type")
        try:
            if kind == "edit":
                self.edit(content)
            elif kind == "thumbs":
                self.send_thumbs(
                    content["clip"], int(content.get("count", 6)), int(content.get("height", 36)), content.get("key")
                )
            elif kind == "peaks":
                self.send_peaks([(str(c), str(k)) for c, k in content.get("clips", ())])
            elif kind == "frame":
                self.send_frame()
            elif kind == "play":
                self.play(int(content.get("from", self.playhead)), int(content.get("step", 1)), str(content["token"]))
            elif kind == "play_ack":
                p = self.preview.playback
                if p is not None and p.token == content.get("token"):
                    p.ack(int(content["k"]))
            elif kind == "stop":
                p = self.preview.playback
                if p is not None and p.token == content.get("token"):
                    self.preview.stop()
            elif kind == "hello":  # a view that holds no doc yet: the whole doc, and the selected clip's graph
                self.send_doc()
                self.send_graph()
        except NbeditError as e:
            self.status = str(e)
        except Exception as e:  # a widget must say what went wrong rather than fail silently
            self.status = f"{type(e).__name__}: {e}"

    def edit(self, msg: dict) -> None:
        """Run one gesture as a Session operation, recorded and emitted as a cell."""
        _editing.append(self)  # its view places the cells this gesture records
        try:
            self._edit(msg)
        finally:
            _editing.remove(self)

    def _edit(self, msg: dict) -> None:
        s, op = self.session, msg["op"]
        fps = float(self._header["fps"])
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
            elif op in ("mute", "solo", "lock"):  # a track header's switch
                getattr(s, op)(str(msg["track"]), bool(msg["on"]))
            elif op == "add_marker":  # M: at the playhead, on the timeline (or on a clip)
                kw = {k: str(msg[k]) for k in ("name", "color", "clip") if msg.get(k)}
                s.add_marker(self._seconds(msg.get("at", self.playhead)), **kw)
            elif op == "move_marker":
                s.move_marker(str(msg["id"]), to=self._seconds(msg["at"]))
            elif op == "remove_marker":
                s.remove_marker(str(msg["id"]))
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

    def _seconds(self, frame: Any) -> float | int:
        """Edit-rate frame ``frame`` as the seconds a recorded call shows: whole seconds as an int, else a float
        that rounds back to the frame."""
        n, fps = int(frame), float(self._header["fps"])
        return n // round(fps) if fps == round(fps) and n % round(fps) == 0 else round(n / fps, 6)

    def _clip_under_playhead(self) -> str:
        for name in reversed(self._order):
            track = self._tracks[name]
            if track["kind"] != "video":
                continue
            for item in track["items"]:
                if item["start"] <= self.playhead < item["start"] + item["dur"]:
                    return item["id"]
        raise NbeditError("no clip under the playhead to split")

    def _find(self, clip_id: str) -> Placed | None:
        """A clip's placement as the documents the views hold say (no search of the timeline)."""
        for placed in self._placed.values():
            if clip_id in placed:
                return placed[clip_id]
        return None

    def send_thumbs(self, clip_id: str, count: int, height: int, key: str | None = None) -> None:
        """A strip of ``count`` thumbnails across the clip, as one JPEG (``key``, the view's name for the clip's
        content, comes back with it). A clip that is gone by now gets no answer."""
        s = self.session
        p = self._find(clip_id)
        if p is None:
            return
        item = p.item
        entry = pool(s.timeline)[media_of(item)]
        dur = p.duration
        key_ = (entry["sha256"], float(source_in(item)), float(time_scalar(item)), dur, count, height)
        strip = self._thumbs.get(key_)
        if strip is None:
            aspect = int(entry.get("width") or 16) / int(entry.get("height") or 9)
            w = max(2, round(height * aspect / 2) * 2)
            tiles = []
            for k in range(count):
                offset = (dur - 1) * k // max(count - 1, 1)
                i = self.thumb_sources.index(entry, float(source_at(item, offset) / s.fps))
                img = None if i is None else self.thumb_sources.frame(entry, i)
                tiles.append(np.zeros((height, w, 3), np.uint8) if img is None else resize(img, w, height))
            strip = self._thumbs[key_] = self._encode(np.concatenate(tiles, axis=1))
        msg = {"type": "thumbs", "clip": clip_id, "count": count}
        if key is not None:
            msg["key"] = key
        self._push(msg, [strip])

    def send_peaks(self, clips: list[tuple[str, str]]) -> None:
        """Waveform peaks of audio clips, as ``{"type": "peaks", "peaks": {key: [levels]}}`` for the (clip id,
        key) pairs asked for; clips that are gone or offline are left out."""
        s = self.session
        media = pool(s.timeline)
        out = {}
        for cid, key in clips:
            p = self._find(cid)
            if p is None or media_of(p.item) not in media:
                continue
            mid = media_of(p.item)
            if not self._online.get(mid, False):
                continue
            out[key] = _clip_peaks(s, p.item, media[mid], p.duration, self._peaks)
        if out:
            self._push({"type": "peaks", "peaks": out})

    def graph(self, clip_id: str) -> list[dict] | None:
        """The node graph of a video clip as the node view draws it (None: not a video clip on the timeline)."""
        for name, placed in self._placed.items():
            p = placed.get(clip_id)
            if p is not None:
                track = next((t for t in self.session.timeline.tracks if t.name == name), None)
                if track is None or track.kind != otio.schema.TrackKind.Video:
                    return None
                data = nb(p.item)
                return clip_graph(data, pool(self.session.timeline)[data["media"]], track)
        return None

    def send_graph(self) -> None:
        """The selected clip's node graph (or none), for the node view."""
        cid = next((c for c in self.selection if c), None)
        self._push({"type": "graph", "clip": cid, "nodes": self.graph(cid) if cid else None})

    def close(self) -> None:
        self.stop()
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
        # changed_tracks describes the last change only: after a change this widget did not see, rebuild it all
        seen = w._version is not None and session.version == w._version + 1
        w.refresh(session.changed_tracks if seen else None)

    return listener


_previews: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def preview_of(session: Any) -> Preview:
    """The session's one Preview (its caches and proxies are shared by all its widgets)."""
    p = _previews.get(session)
    if p is None:
        p = _previews[session] = Preview(session)
    return p


# ---- what the front end draws -----------------------------------------------------------------------------


def timeline_doc(session: Any) -> dict:
    """The whole timeline as plain data for drawing, built afresh: what ``Editor.doc`` holds after any change."""
    tl = session.timeline
    fmt = session.format
    fps = float(session.fps) if fmt else 24.0
    media = pool(tl)
    online = {mid: os.path.exists(media[mid]["path"]) for mid in media.keys()}
    tracks, ends = [], []
    for track in tl.tracks:
        doc, _, end = track_doc(track, fps, online, session.index.track(track.name))
        tracks.append(doc)
        ends.append(end)
    return {
        "name": session.name,
        "fps": fps,
        "frames": max(ends, default=0) if fmt else 0,
        "width": fmt["width"] if fmt else 0,
        "height": fmt["height"] if fmt else 0,
        "history": len(session.history),
        "can_undo": bool(session.can_undo),
        "can_redo": bool(session.can_redo),
        "markers": session.markers() if fmt else [],
        "tracks": tracks,
    }


def track_doc(
    track: Any, fps: float, online: dict[str, bool], ti: TrackIndex | None = None
) -> tuple[dict, dict[str, Placed], int]:
    """One track as plain data for drawing: its clips (in order) and crossfades, in edit-rate frames. Also the
    clips' placements by id, and where the track ends.

    OTIO metadata is slow to search (a missing key costs an exception inside the binding), so a clip's metadata is
    only read by keys it is known to hold: just its id and media when it holds two keys.
    """
    placed, cuts = layout(track) if ti is None or ti.track is not track else ti.layout()
    video = track.kind == otio.schema.TrackKind.Video
    items = []
    by_id = {}
    for p in placed:
        item = p.item
        if not isinstance(item, otio.schema.Clip):
            continue
        data = read_data(item)
        if not data:
            continue
        keys = ("id", "media") if len(data) == 2 else tuple(data.keys())
        cid, mid = data["id"], data["media"]
        v = item.source_range.start_time.value  # source_in(item), without a Fraction for whole frames
        doc = {
            "id": cid,
            "name": item.name,
            "media": mid,
            "start": p.start,
            "dur": p.duration,
            "src_in": (v if v == int(v) else float(source_in(item))) / fps,
            "speed": float(time_scalar(item)) if len(item.effects) else 1.0,
            "opacity": float(data["opacity"]) if "opacity" in keys else 1.0,
            "generated": "generation" in keys,
            "offline": not online.get(mid, False),
        }
        if video:
            doc["reframed"] = "reframe" in keys
        items.append(doc)
        by_id[cid] = p
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
    doc = {"name": track.name, "kind": track.kind.lower(), "items": items, "xfades": xfades, **track_flags(track)}
    if video:
        doc["blend"] = _blend_text(blend_of(track))
    return doc, by_id, placed[-1].end if placed else 0


# the fields of a track's lists that hold timeline positions: a ripple moves them all by the same number of frames
POSITIONS = {"items": ("start",), "xfades": ("start", "end", "at")}


def track_patch(old: dict, new: dict) -> dict | None:
    """``new`` as a change to ``old``: for each of its lists (clips, crossfades) that changed, a splice, and the
    track's other fields that differ. None when most clips changed: send the track whole."""
    splice = {}
    for name, positions in POSITIONS.items():
        if old.get(name) != new.get(name):
            splice[name] = list_splice(old.get(name, []), new.get(name, []), positions)
    if "items" in splice and len(splice["items"][2]) > max(8, len(new["items"]) // 2):
        return None
    fields = {k: v for k, v in new.items() if k not in POSITIONS and old.get(k) != v}
    return {**fields, "splice": splice}


def list_splice(a: list[dict], b: list[dict], positions: tuple[str, ...]) -> list:
    """``[at, remove, items, shift]``: ``b`` is ``a`` with ``remove`` elements from index ``at`` replaced by
    ``items``, and the ``positions`` of every element after them moved by ``shift`` frames (a ripple)."""
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    shift = b[-1][positions[0]] - a[-1][positions[0]] if i < n else 0

    def moved(x: dict) -> dict:
        return {**x, **{k: x[k] + shift for k in positions}} if shift else x

    j = 0
    while j < n - i and moved(a[len(a) - 1 - j]) == b[len(b) - 1 - j]:
        j += 1
    return [i, len(a) - i - j, b[i : len(b) - j], shift if j else 0]


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
        rate = 48000
        a = int(float(source_in(item) / session.fps) * rate)
        b = int(float(source_at(item, duration) / session.fps) * rate)
        pcm = session.sources.audio_span(entry, max(a, 0), max(b, a + 1))  # the clip's span, not the whole file
        seg = np.abs(pcm).max(axis=0) if pcm is not None else np.zeros(1)
        edges = np.linspace(0, len(seg), points + 1).astype(int)
        cache[key] = [round(float(seg[i:j].max()), 3) if j > i else 0.0 for i, j in zip(edges, edges[1:], strict=False)]
    return cache[key]


# ---- inserting emitted code as cells -----------------------------------------------------------------------


_front_end: list = []
_editing: list[Editor] = []  # the editor whose gesture runs now (innermost last)


def cell_inserter(session: Any, execute: Any):
    """``CellEmitter.insert`` for a front end that runs JupyterLab commands (``execute(name, args)``).

    The notebook stays the record, in order: before the commands, the editor that made the gesture gets
    ``{"type": "anchor", "recorded": [codes]}``, and its view makes the last recorded cell active (its own cell,
    then the cells after it that hold code recorded from it), so "insert below" puts the new cell after all of them;
    after them it gets ``{"type": "inserted", "code": code}``, and its view takes the keyboard back and puts the
    notebook's scroll position back where it was."""

    def insert(code: str) -> bool:
        w = _editing[-1] if _editing and _editing[-1].session is session else None
        if w is not None:
            w._push({"type": "anchor", "recorded": session.cells.delivered[-200:]})
        execute("notebook:insert-cell-below", {})
        execute("notebook:replace-selection", {"text": code})
        if w is not None:
            w._push({"type": "inserted", "code": code})
        return True

    return insert


def connect_front_end(session: Any) -> None:
    """In JupyterLab and Notebook 7, insert emitted code as a cell at once (through ipylab's command bridge), after
    the cells already recorded (see ``cell_inserter``).

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
    session.cells.insert = cell_inserter(session, lambda name, args: app.commands.execute(name, args))
