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
span) and a "play_end". The playhead trait does not move while a view plays; the view sets it when it stops.
A view's playhead move also sends ``{"type": "seek", "n", "id"}`` (``Editor.seek``): the frame at n comes at once,
tagged ``"seek": id`` (or ``{"type": "seeked"}`` when the trait's sync brought it first). ``{"type": "proxies",
"state", "text"}`` says where the scrub proxies of the timeline's media stand ("proxy 40%", "proxy ready"). While
``scrub_audio`` is on (a view with a running AudioContext turns it on), every playhead change outside playback
also brings ``{"type": "scrub_audio", "n", "sample", "count", "rate"}`` with two frames of the mix at it.

The inspector gets ``{"type": "inspector", "clip", "props"}`` (``Editor.inspector``) after each selection and each
change; a field changed there comes as ``{"type": "inspect_edit", "clip", "field", "value"}``, runs the Session
operation that sets it (one recorded cell) and is answered by ``{"type": "inspected", ..., "error"}``, the reason in
an editor's words when the value was refused. A refused gesture's reason goes in ``status``, in
an editor's words (``Editor.editor_words``); the view clears it on the next action.

The media pool and the source monitor (``SOURCE_MESSAGES``): a view asks ``{"type": "pool"}`` and gets
``{"type": "pool", "items": [...]}`` (again whenever the pool changes), ``{"type": "pool_thumb", "media"}`` gets
one JPEG; the traits ``source`` and ``source_playhead`` bring ``{"type": "source_frame", "media", "n", "timecode",
"picture"}`` with the media's own frame. Insert and Overwrite are gestures (``{"type": "edit", "op": "insert"}``)
that make one s.insert / s.overwrite; an offline item's Relink… is ``{"type": "edit", "op": "relink", "media",
"path"}`` (a file, or the folder it moved to, holding a file of its name: the other offline media whose files
are there come back too): one s.relink each. ``{"type": "render_io",
"path"}`` renders the In-Out range, answering with "render_progress" messages and "render_done". A tool gesture
(the Detect and Upscale menus) is framed by ``{"type": "busy", "text": "upscaling c1 2×…"}`` and ``{"type":
"busy", "text": ""}``, however it ends.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import threading
import time
import weakref
from collections import deque
from collections.abc import Collection, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import opentimelineio as otio
import traitlets

from . import model
from .cache import FrameCache
from .errors import EditError, NbeditError, RenderError, TimeRangeError
from .index import TrackIndex
from .model import available_frames as frames_available
from .model import blend_of, item_id, media_at_path, media_of, nb, pool, source_at, source_in, time_scalar, track_flags
from .model import data as read_data
from .model import media_entry as model_media_entry
from .ops.markers import item_markers, timeline_markers
from .preview import JpegEncoder, Preview, ProxySources
from .proxy import summary as proxy_summary
from .render import Compositor, Sources, resize, to_png
from .timeline import Cut, Placed, layout
from .tools import effects as fx
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
    parts = (
        "preview.js",
        "timeline.js",
        "tools.js",
        "graph.js",
        "proxies.js",
        "inspector.js",
        "source.js",
        "editor.js",
    )
    return "\n".join((STATIC / name).read_text() for name in parts)


def timecode(n: int, fps: float) -> str:
    """HH:MM:SS:FF of edit-rate frame n (non-drop)."""
    base = max(1, round(fps))
    f = n % base
    s = n // base
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}:{f:02d}"


THUMBS_KEPT = 512  # thumbnail strips kept by a widget (a few KB each), least recently used first out
PEAKS_KEPT = 2048  # waveform spans kept by a widget

# the gestures of the timeline's tools (widgets/tools.js), each run by the Editor's method named after it
TOOL_GESTURES = ("roll", "slip", "slide", "blade", "paste", "delete_selection")
DETECTING = {"speech": "finding speech", "remove_silence": "finding silences", "shots": "finding shot cuts"}
DETECTING["split_shots"] = DETECTING["shots"]

SOURCE_WIDTH = 480  # the source monitor's pictures are at most this wide
SOURCE_CACHE = 64 * 2**20  # bytes of decoded source-monitor frames kept
# the pool panel's and source monitor's messages, and the Editor method answering each
SOURCE_MESSAGES = {
    "pool": "send_pool",
    "pool_thumb": "send_pool_thumb",
    "source_frame": "send_source_frame",
    "render_name": "send_render_name",
    "render_io": "render_io",
}


def _seconds_at(n: int, rate: Fraction, *, exact: bool = False) -> float | int:
    """Frame ``n`` at ``rate`` as the seconds a recorded call shows: whole seconds as an int, else a float that
    rounds back to the frame (operations round to the nearest frame), or with ``exact`` the float nearest to the
    frame's time (render's range counts the frames that start inside it, so 6 decimals could gain or lose one)."""
    t = Fraction(n) / rate
    return int(t) if t.denominator == 1 else float(t) if exact else round(float(t), 6)


def _shown_path(path: Path) -> str:
    """A path as a cell would write it: relative to the working folder when it is inside it."""
    try:
        return str(path.absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


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
    mark_in = traitlets.Int(-1).tag(sync=True)  # the timeline's In mark, an edit-rate frame (-1: none)
    mark_out = traitlets.Int(-1).tag(sync=True)  # its Out mark: the last frame inside the range, as NLEs count
    source = traitlets.Unicode("").tag(sync=True)  # the media-pool item in the source monitor ("": none)
    source_playhead = traitlets.Int(0).tag(sync=True)  # a frame of that media, at the source rate
    source_in = traitlets.Int(-1).tag(sync=True)  # the source's In and Out marks (-1: none), Out inclusive
    source_out = traitlets.Int(-1).tag(sync=True)
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
        self._kept: dict[str, TrackDoc] = {}  # each track's document child by child, to patch after a change
        self._order: list[str] = []
        self._header: dict = {}
        self._online: dict[str, bool] | None = None
        self._seq = 0  # "tracks" messages sent
        self._version: int | None = None  # the session's version the documents show
        self._overlay_comp: Compositor | None = None
        self._videos: set[str] = set()  # sha256 of the timeline's video media (what the proxy badge sums up)
        self._change_lock = threading.RLock()
        self._seek_n: int | None = None  # a view's last seek, whose frame went out before the playhead moved there
        self._greeted = False  # a view said hello (before that, proxy news has no one to go to)
        self._proxy_said = ("", "")  # what the views were told last (nothing yet: no proxy to speak of)
        self.observe(self._on_playhead, names=["playhead", "show_crop", "show_mask"])
        self.observe(lambda _: self.send_graph(), names=["selection"])
        self.observe(lambda _: self.send_inspector(), names=["selection"])
        self.observe(lambda _: self.send_source_frame(), names=["source", "source_playhead"])
        self._pool = self.pool_items()  # the media pool as the views know it (they ask for it first)
        self.on_msg(self._on_message)
        listener = _weak_listener(self)
        session.listeners.append(listener)
        self._listener = listener
        self._proxy_listener = _weak_proxy_listener(self)
        self.preview.proxies.listeners.append(self._proxy_listener)
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
        with self._change_lock:  # the messages of one change go out together (the proxy thread waits)
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
                self.send_inspector()
            self.send_pool(changed_only=True)
        self.preview.refresh_proxies()

    def _rebuild(self, changed: Collection[str] | None) -> dict:
        """Rebuild the per-track documents named in ``changed`` (None: all) and the header; return what changed
        as the body of a "tracks" message."""
        s = self.session
        tl = s.timeline
        media = pool(tl)
        online = {mid: os.path.exists(media[mid]["path"]) for mid in media.keys()}
        tracks = {t.name: t for t in tl.tracks}
        same_files = online == self._online  # else a file (dis)appeared: its clips on every track change
        if changed is None or not same_files:
            rebuild = list(tracks)
        else:
            rebuild = [n for n in tracks if n in changed or n not in self._tracks]
        self._online = online
        self._videos = {e["sha256"] for e in media.values() if e.get("kind") == "video"}
        fps = float(s.fps) if s.format else 24.0
        whole: dict[str, dict] = {}
        patches: dict[str, dict] = {}
        for name in rebuild:
            ti = s.index.track(name)
            kept = self._kept.get(name)
            old = self._tracks.get(name)
            if kept is not None and old is not None and same_files and kept.follows(tracks[name], ti, fps):
                patch = kept.update(fps, online)  # only the children the change touched are read again
                self._tracks[name], self._ends[name] = kept.doc, kept.end
                self._placed[name] = kept.placements()
                if patch is TrackDoc.WHOLE:
                    whole[name] = kept.doc
                elif patch is not None:
                    patches[name] = patch
                continue
            if ti is not None and ti.track is tracks[name]:
                kept = self._kept[name] = TrackDoc(ti, fps, online)
                new, placed, self._ends[name] = kept.doc, kept.placements(), kept.end
            else:
                self._kept.pop(name, None)
                new, placed, self._ends[name] = track_doc(tracks[name], fps, online, ti)
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
            self._kept.pop(n, None)
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
            "markers": self._markers(tl) if fmt else [],
        }
        self._version = s.version
        return {"header": self._header, "order": self._order, "tracks": whole, "patches": patches, "removed": removed}

    def _markers(self, tl: Any) -> list[dict]:
        """``s.markers()``, from the markers kept track by track (the timeline's walk costs ~300 ms at 5,000 clips)."""
        if any(name not in self._kept for name in self._order):
            return self.session.markers()
        return timeline_markers(tl) + [m for name in self._order for m in self._kept[name].markers]

    def send_doc(self) -> None:
        """The whole timeline document, for a view that has none (first render, reconnect, a missed message)."""
        self._push({"type": "doc", "seq": self._seq, "doc": self.doc})

    def send_proxies(self, again: bool = False) -> None:
        """``{"type": "proxies", "state", "text"}``: where the scrub proxies of the timeline's media stand, summed
        up ("building" with the share done, "ready", "failed" with the reason), when that changed (``again``: even
        if not). Also called from the thread that builds them."""
        if not self._greeted:
            return  # no view yet: the first one hears it after its doc
        with self._change_lock:
            status = self.preview.proxies.status()
            ours = [(sha, status[sha]) for sha in self._videos if sha in status]
            said = proxy_summary([st for _, st in ours])
            if said[0] == "failed":  # which file, in a pool of many
                names = {e["sha256"]: str(e.get("name", mid)) for mid, e in pool(self.session.timeline).items()}
                sha, st = next((sha, st) for sha, st in ours if st.state == "failed")
                said = ("failed", f"proxy failed: {names.get(sha, 'a media file')}: {st.reason}")
            if said == self._proxy_said and not again:
                return
            self._proxy_said = said
            self._push({"type": "proxies", "state": said[0], "text": said[1]})

    def send_frame(self, n: int | None = None, seek: Any = None) -> None:
        """The frame at the playhead (or at ``n``) as JPEG bytes; ``seek`` names the view's "seek" it answers."""
        if not self._header.get("frames"):
            return
        n = self.playhead if n is None else min(max(int(n), 0), self._header["frames"] - 1)
        msg = {"type": "frame", "n": n, "timecode": timecode(n, self._header["fps"])}
        if seek is not None:
            msg["seek"] = seek
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
        seen, self._seek_n = self._seek_n, None
        if change.get("name") != "playhead" or change.get("new") != seen:
            self.send_frame()  # (a view's seek to it has brought the frame already)
        if change.get("name") == "playhead" and self.scrub_audio and self._header.get("frames"):
            self.preview.snippet(self.playhead, self._push)

    def seek(self, msg: dict) -> None:
        """A view's ``{"type": "seek", "n", "id"}``: the frame at n, at once. A view sends it beside the playhead's
        own sync, which ipywidgets holds back while an update is unanswered: a drag along the ruler then shows
        frames at the kernel's pace, not at one per round trip. The playhead trait follows; its change sends no
        frame again."""
        if self.preview.playback is not None and self.preview.playback.send == self._push:
            return
        n = int(msg["n"])
        if self.playhead == n:  # the playhead's sync came first and brought the frame: say so, in a few bytes
            self._push({"type": "seeked", "n": n, "seek": msg.get("id")})
            return
        self._seek_n = n
        self.send_frame(n, seek=msg.get("id"))

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
                self._on_thumbs(content)
            elif kind == "peaks":
                self.send_peaks([(str(c[0]), str(c[1]), *c[2:]) for c in content.get("clips", ())])
            elif kind == "frame":
                self.send_frame()
            elif kind == "seek":
                self.seek(content)
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
            elif kind in SOURCE_MESSAGES:  # the media pool, the source monitor, the In-Out render
                getattr(self, SOURCE_MESSAGES[kind])(content)
            elif kind == "hello":  # a view that holds no doc yet: the whole doc, and the selected clip's graph
                self.send_doc()
                self.send_graph()
                self.send_inspector()
                self._greeted = True
                self.send_proxies(again=True)
            elif kind == "inspect_edit":
                self.inspect_edit(content)
        except NbeditError as e:
            self.status = self.editor_words(str(e))
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
                moved = {"track": track} if track and track != s.clip(msg["clip"]).track else {}  # said when it changes
                s.move(msg["clip"], to=self._seconds(round(float(msg["to"]) * fps)), **moved)
            elif op == "split":
                clip = msg.get("clip") or self._clip_under_playhead()
                s.split(clip, at=self.playhead / fps)
            elif op == "delete":
                for cid in list(msg.get("clips") or self.selection):
                    s.delete(cid, ripple=bool(msg.get("ripple", False)))
                self.selection = []
            elif op in TOOL_GESTURES:  # the timeline's edit modes, multi-select and clipboard
                getattr(self, f"_{op}")(msg)
            elif op in ("mute", "solo", "lock"):  # a track header's switch
                getattr(s, op)(str(msg["track"]), bool(msg["on"]))
            elif op == "add_marker":  # M: at the playhead, on the timeline (or on a clip)
                kw = {k: str(msg[k]) for k in ("name", "color", "clip") if msg.get(k)}
                s.add_marker(self._seconds(msg.get("at", self.playhead)), **kw)
            elif op in ("insert", "overwrite"):  # , and . : the source's marked range, three-point editing
                self.three_point(op, msg.get("track"))
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
            elif op == "detect":  # the timeline's Detect menu, on the selected clip
                self._detect(msg)
            elif op == "upscale":  # the timeline's Upscale menu, on the selected clip
                self._upscale(msg)
            elif op == "crop_key":  # the crop rectangle dragged: its new centre, as fractions of the picture
                clip = s.clip(msg["clip"])
                entry = pool(s.timeline)[clip.media]
                centre = (
                    round(float(msg["x"]) * int(entry["width"]), 1),
                    round(float(msg["y"]) * int(entry["height"]), 1),
                )
                s.keyframe(clip, "reframe", at=self.playhead / fps, value=centre)
            elif op == "property":  # a field of the inspector
                self._set_property(msg)
            elif op == "relink":  # an offline pool item's Relink…: a file, or a folder holding its name
                self._relink(msg)
            else:
                raise NbeditError(f"unknown gesture {op!r}")

    # ---- the timeline's edit modes, multi-select and clipboard (frames in, seconds in the recorded cell) ----

    def _roll(self, msg: dict) -> None:
        self.session.roll(str(msg["a"]), str(msg["b"]), by=self._seconds(msg["by"]))

    def _slip(self, msg: dict) -> None:
        self.session.slip(str(msg["clip"]), by=self._seconds(msg["by"]))

    def _slide(self, msg: dict) -> None:
        self.session.slide(str(msg["clip"]), by=self._seconds(msg["by"]))

    def _blade(self, msg: dict) -> None:
        self.session.split(str(msg["clip"]), at=self._seconds(msg["at"]))

    def _paste(self, msg: dict) -> None:
        self.selection = [c.id for c in self.session.paste([str(c) for c in msg["clips"]], at=self._seconds(msg["at"]))]

    def _delete_selection(self, msg: dict) -> None:
        clips = list(self.selection)
        if not clips:
            raise NbeditError("select the clips to delete first")
        ripple = {"ripple": True} if msg.get("ripple") else {}  # the cell reads as one typed by hand
        self.session.delete(clips if len(clips) > 1 else clips[0], **ripple)
        self.selection = []

    def _relink(self, msg: dict) -> None:
        s, mid = self.session, str(msg["media"])
        entry = pool(s.timeline).get(mid)
        if entry is None:
            raise NbeditError(f"no media {mid!r} in the pool")
        entry = dict(entry)  # a copy: the pool's own is a view of the timeline's metadata that the relink replaces
        typed = str(msg.get("path") or "").strip()
        if not typed:
            raise NbeditError(f"type where the file of “{entry.get('name', mid)}” is now (a file, or its folder)")
        path = Path(typed).expanduser()
        if not path.is_dir():
            if not path.is_file():
                raise NbeditError(f"no file at {path}")
            s.relink(mid, str(path))
            return
        # the folder it moved to: the file of its name in it; and, as NLEs do, the other offline media that were in
        # the same folder and whose files are here too (a file name alone says little across folders: camera cards
        # all hold a C0001.MP4). Each is its own s.relink cell; one that does not fit is named in the status.
        found = _named_in(path, entry)
        if found is None:
            names = _names(entry)
            raise NbeditError(f"no file named {names[0]!r} in {path}" if names else f"no file of it in {path}")
        s.relink(mid, str(found))
        was = Path(entry["path"]).parent if entry.get("path") else None
        others = [
            (other, more)
            for other, e in pool(s.timeline).items()
            if other != mid and was is not None and e.get("path") and Path(e["path"]).parent == was
            if not os.path.exists(e["path"]) and (more := _named_in(path, e)) is not None
        ]
        refused = []
        with self._busy(f"relinking {len(others)} more from {path.name}…") if others else contextlib.nullcontext():
            for other, more in others:
                if media_at_path(pool(s.timeline), more) is not None:
                    continue  # another media of the project reads that file already
                try:
                    s.relink(other, str(more))
                except Exception as why:  # one that does not fit is named; the rest still go
                    refused.append(f"{more.name}: {why}")
        if refused:
            self.status = self.editor_words(f"relinked what fits from {path}; not " + "; not ".join(refused))

    def _detect(self, msg: dict) -> None:
        s = self.session
        clip = msg.get("clip") or (self.selection[0] if self.selection else None)
        if not clip:
            raise NbeditError("select a clip first: the detectors run on the selected clip")
        what = msg.get("detector")
        if what not in ("speech", "remove_silence", "shots", "split_shots"):
            raise NbeditError(f"unknown detector {what!r}: speech, remove_silence, shots or split_shots")
        with self._busy(f"{DETECTING[what]} in {clip}…"):
            if what == "speech":
                s.speech(str(clip))
            elif what == "remove_silence":
                s.remove_silence(str(clip))
            else:
                s.detect_shots(str(clip), **({"split": True} if what == "split_shots" else {}))

    def _upscale(self, msg: dict) -> None:
        """The Upscale menu: ``s.upscale('c1', factor=2)`` on the selected clip, new media in the pool."""
        clip = msg.get("clip") or (self.selection[0] if self.selection else None)
        if not clip:
            raise NbeditError("select a clip first: upscale makes a larger copy of the selected clip")
        factor = msg.get("factor")
        if isinstance(factor, bool) or factor not in (2, 4):
            raise NbeditError(f"upscale by 2 or 4, not {factor!r}")
        with self._busy(f"upscaling {clip} {int(factor)}×…"):
            self.session.upscale(str(clip), factor=int(factor))

    @contextlib.contextmanager
    def _busy(self, text: str) -> Iterator[None]:
        """Tell the views a tool is running (they show it and hold the tool menus) until it ends, however it ends.

        A gesture runs in the kernel's message handler, so the views hear nothing else from it until it is done:
        this is the only sign they get that a long tool is at work."""
        self._push({"type": "busy", "text": text})
        try:
            yield
        finally:
            self._push({"type": "busy", "text": ""})

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

    def _on_thumbs(self, msg: dict) -> None:
        spacing = msg.get("spacing")
        self.send_thumbs(
            str(msg["clip"]),
            int(msg.get("count", 6)),
            int(msg.get("height", 36)),
            msg.get("key"),
            spacing=None if spacing is None else int(spacing),
            first=int(msg.get("first", 0)),
        )

    def send_thumbs(
        self,
        clip_id: str,
        count: int,
        height: int,
        key: str | None = None,
        *,
        spacing: int | None = None,
        first: int = 0,
    ) -> None:
        """Thumbnails of a clip side by side, as one JPEG: ``count`` spread across the whole clip, or (with
        ``spacing``) the tiles ``first`` to ``first + count`` of the clip's tiles every ``spacing`` timeline frames,
        which is how a view covers the part of a clip it shows at its zoom. ``key`` (the view's name for the
        tiles) comes back with them; a clip that is gone by now gets no answer. Strips are kept per clip content,
        spacing and place (the ``THUMBS_KEPT`` used last), so scrolling back costs no decoding."""
        s = self.session
        p = self._find(clip_id)
        if p is None or not 0 < count <= 64 or not 8 <= height <= 256 or (spacing is not None and spacing < 1):
            return
        item = p.item
        entry = pool(s.timeline)[media_of(item)]
        dur = p.duration
        if spacing is None:
            offsets = [(dur - 1) * k // max(count - 1, 1) for k in range(count)]
        else:
            offsets = [o for o in range(first * spacing, (first + count) * spacing, spacing) if 0 <= o < dur]
        if not offsets:
            return
        key_ = (entry["sha256"], float(source_in(item)), float(time_scalar(item)), dur, height, tuple(offsets))
        strip = self._thumbs.pop(key_, None)
        aspect = int(entry.get("width") or 16) / int(entry.get("height") or 9)
        w = max(2, round(height * aspect / 2) * 2)
        if strip is None:
            tiles = []
            for offset in offsets:
                i = self.thumb_sources.index(entry, float(source_at(item, offset) / s.fps))
                img = None if i is None else self.thumb_sources.frame(entry, i)
                tiles.append(np.zeros((height, w, 3), np.uint8) if img is None else resize(img, w, height))
            strip = self._encode(np.concatenate(tiles, axis=1))
        self._thumbs[key_] = strip  # most recently used last
        while len(self._thumbs) > THUMBS_KEPT:
            del self._thumbs[next(iter(self._thumbs))]
        msg = {"type": "thumbs", "clip": clip_id, "count": len(offsets), "aspect": w / height}
        if key is not None:
            msg["key"] = key
        self._push(msg, [strip])

    def send_peaks(self, clips: list[tuple]) -> None:
        """Waveform peaks of audio clips, as ``{"type": "peaks", "peaks": {key: [levels]}}`` for the clips asked
        for: ``(clip id, key)`` gets 96 peaks across the whole clip; ``(clip id, key, per_second, first, count)``
        gets peaks ``first`` to ``first + count`` at ``per_second`` peaks a second of the timeline (a view asks for
        the part of a clip it shows, at about one peak per pixel). Clips that are gone or offline are left out."""
        s = self.session
        media = pool(s.timeline)
        out = {}
        for cid, key, *span in clips:
            p = self._find(cid)
            if p is None or media_of(p.item) not in media:
                continue
            mid = media_of(p.item)
            if not self._online.get(mid, False):
                continue
            if span:
                rate, first, count = float(span[0]), int(span[1]), int(span[2])
                if not (0 < rate <= 4000 and 0 <= first and 0 < count <= 4096):
                    continue
                out[key] = _clip_peaks(s, p.item, media[mid], p.duration, self._peaks, span=(rate, first, count))
            else:
                out[key] = _clip_peaks(s, p.item, media[mid], p.duration, self._peaks)
        while len(self._peaks) > PEAKS_KEPT:
            del self._peaks[next(iter(self._peaks))]
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

    # ---- the inspector, the editor's messages, the proxy badge -------------------------------------------

    def inspector(self, clip_id: str) -> dict | None:
        """What the inspector shows of a clip: its name, media and track, where it sits and what it reads (edit-rate
        frames), its speed, and for video its placement, opacity and effects, for audio its gain (None: no such
        clip among those the views draw)."""
        track = next((name for name, placed in self._placed.items() if clip_id in placed), None)
        if track is None:
            return None
        p = self._placed[track][clip_id]
        item = p.item
        data = read_data(item)
        entry = pool(self.session.timeline)[media_of(item)]
        video = self._tracks[track]["kind"] == "video"
        props = {
            "id": clip_id,
            "name": item.name,
            "media": str(entry.get("name", media_of(item))),
            "track": track,
            "kind": "video" if video else "audio",
            "start": p.start,
            "duration": p.duration,
            "src_in": float(source_in(item)),
            "src_out": float(source_at(item, p.duration)),
            "speed": float(time_scalar(item)),
            "enabled": bool(item.enabled),
        }
        if video:
            tf = {**TRANSFORM, **(model.transform_of(item) or {})}
            props["transform"] = {
                "x": float(tf["x"]),
                "y": float(tf["y"]),
                "scale": float(tf["scale"]),
                "crop": [int(c) for c in tf["crop"]],
            }
            props["opacity"] = float(data.get("opacity", 1.0))
            props["effects"] = [_effect_fields(n) for n in model.effects_of(item)]
            props["kinds"] = [k for k in fx.KINDS if k != "mask"]  # a mask node needs a mask: made in a cell
        else:
            props["gain"] = float(data.get("gain_db", 0.0))
        return props

    def send_inspector(self) -> None:
        """The selected clip's properties (or none), for the inspector."""
        cid = next((c for c in self.selection if c), None)
        self._push({"type": "inspector", "clip": cid, "props": self.inspector(cid) if cid else None})

    def inspect_edit(self, msg: dict) -> None:
        """A field of the inspector changed: its Session operation, recorded as one cell. The answer,
        ``{"type": "inspected", "clip", "field", "error"}``, carries a refused value's reason in an editor's words
        (the session stays as it was, and the inspector shows the clip's values again)."""
        answer = {"type": "inspected", "clip": msg.get("clip"), "field": msg.get("field"), "error": ""}
        try:
            self.edit({**msg, "op": "property"})
        except NbeditError as e:
            self._push({**answer, "error": self.editor_words(str(e))})
            self.send_inspector()
            return
        self._push(answer)

    def _set_property(self, msg: dict) -> None:
        s, cid, field, value = self.session, str(msg["clip"]), str(msg["field"]), msg.get("value")
        if field in TRANSFORM:  # one field of the placement: the others stay as they are
            tf = {**TRANSFORM, **(model.transform_of(s.clip(cid).otio) or {}), field: value}
            if isinstance(tf["crop"], list | tuple):
                tf["crop"] = tuple(tf["crop"])
            s.transform(cid, **{k: v for k, v in tf.items() if k == field or v != TRANSFORM[k]})
        elif field in ("src_in", "src_out"):  # a source point, in edit-rate frames: the clip's other edge stays
            if isinstance(value, bool) or not isinstance(value, int):
                raise NbeditError(f"a source point is a whole number of frames, not {value!r}")
            s.trim(cid, **{field: self._seconds(value)}, ripple=False)
        elif field == "opacity":
            s.opacity(cid, value)
        elif field == "gain":
            s.gain(cid, value)
        elif field == "speed":
            s.speed(cid, value)
        elif field == "enabled":
            s.enable(cid, value)
        elif field == "effect":  # one parameter of a node of the clip's stack
            param = str(msg.get("param"))
            if param not in fx.PARAMS:
                raise NbeditError(f"effects have no setting {param!r}")
            s.effect(cid, str(msg["effect"]), **{param: value})
        elif field == "add_effect":
            s.effect(cid, str(value))
        elif field == "remove_effect":
            s.remove_effect(cid, str(value))
        else:
            raise NbeditError(f"the inspector has no field {field!r}")

    def editor_words(self, text: str) -> str:
        """An error's text as an editor reads it: a clip by its name and where it starts rather than its id, and no
        parameter names or calls of the Python API."""
        fps = float(self._header.get("fps") or 24)

        def named(m: re.Match) -> str:
            p = self._find(m.group(1))
            return m.group(0) if p is None else f"“{p.item.name}” (at {timecode(p.start, fps)})"

        text = re.sub(r"'(c\d+)'", named, text)
        for pattern, words in EDITOR_WORDS:
            text = pattern.sub(words, text)
        if re.match(r"[a-z]+[\s,:;]", text):  # a sentence's first word, not a file name such as "a.mp4"
            text = text[:1].upper() + text[1:]
        return text

    # ---- the media pool, the source monitor, three-point editing, the In-Out render ----------------------------

    def pool_items(self) -> list[dict]:
        """The media pool as the pool panel lists it: id, name, kind, length in frames at the source rate (None:
        a still), that rate, size, whether it has sound and whether its file is there."""
        items = []
        for mid, entry in pool(self.session.timeline).items():
            rate = self._source_rate(entry)
            items.append(
                {
                    "id": mid,
                    "name": entry.get("name", mid),
                    "kind": entry["kind"],
                    "frames": frames_available(entry, rate),
                    "fps": float(rate),
                    "width": entry.get("width"),
                    "height": entry.get("height"),
                    "sound": entry.get("audio_rate") is not None,
                    "offline": not os.path.exists(entry["path"]),
                }
            )
        return items

    def send_pool(self, content: dict | None = None, *, changed_only: bool = False) -> None:
        """``{"type": "pool", "items": [...]}`` (see ``pool_items``); after a change only when the pool changed."""
        items = self.pool_items()
        if changed_only and items == self._pool:
            return
        self._pool = items
        self._push({"type": "pool", "items": items})

    def send_pool_thumb(self, content: dict) -> None:
        """A pool item's thumbnail, the frame at a third of its length, as one JPEG (none for sound-only media)."""
        mid = str(content["media"])
        entry = pool(self.session.timeline).get(mid)
        if entry is None or entry["kind"] == "audio":
            return
        height = int(content.get("height", 40))
        frames = frames_available(entry, self._source_rate(entry))
        img = self._source_picture(entry, (frames or 0) // 3)
        if img is not None:
            w = max(2, round(height * img.shape[1] / img.shape[0] / 2) * 2)
            self._push({"type": "pool_thumb", "media": mid}, [self._encode(resize(img, w, height))])

    def send_source_frame(self, content: dict | None = None) -> None:
        """The source monitor's picture: frame ``source_playhead`` of media ``source``, with its timecode."""
        mid = self.source
        entry = pool(self.session.timeline).get(mid) if mid else None
        if entry is None:
            return
        rate = self._source_rate(entry)
        n = max(0, self.source_playhead)
        msg = {"type": "source_frame", "media": mid, "n": n, "timecode": timecode(n, float(rate))}
        img = None if entry["kind"] == "audio" else self._source_picture(entry, n)
        if img is None:  # sound only, or past its end: the monitor says so instead of a picture
            self._push({**msg, "picture": False})
            return
        width = min(img.shape[1], SOURCE_WIDTH)
        img = resize(img, width, max(2, round(img.shape[0] * width / img.shape[1] / 2) * 2))
        self._push({**msg, "picture": True}, [self._encode(img)])

    def _source_picture(self, entry: dict, n: int) -> np.ndarray | None:
        """Frame ``n`` of a pool item, from its scrub proxy once there is one (long-GOP footage seeks slowly)."""
        sources = self.__dict__.get("_source_sources")
        if sources is None:
            sources = self._source_sources = ProxySources(self.preview.proxies, FrameCache(SOURCE_CACHE))
        i = sources.index(entry, float(n / self._source_rate(entry)))
        return None if i is None else sources.frame(entry, i)

    def _source_rate(self, entry: dict) -> Fraction:
        """The rate source frames are counted at: the edit rate, or before there is one the media's own."""
        if self.session.format:
            return self.session.fps
        return Fraction(entry["fps"]) if entry.get("fps") else Fraction(24)

    def three_point(self, op: str, track: str | None = None) -> None:
        """Insert (``op="insert"``) or overwrite the source monitor's marked range at the timeline's In mark (else
        at the playhead) on ``track`` (else the selected clip's track, else V1), with its linked sound on A1 when
        the media has sound: three-point editing, recorded as the one call it makes, e.g.
        ``s.insert('street', track='V1', at=2.5, src_in=1, src_out=3, audio='A1')``.

        No source Out mark: the timeline's In and Out marks give the duration, else the media runs to its end.
        Afterwards the timeline's marks are cleared and the playhead waits at the end of the new clip."""
        s = self.session
        if not self.source:
            raise EditError("open a clip in the source monitor first: double-click it in the media pool")
        entry = model_media_entry(s.timeline, self.source)
        rate = self._source_rate(entry)
        a, b = self.source_in, self.source_out
        if a >= 0 and b >= 0 and b < a:
            raise TimeRangeError("the source's Out mark is before its In mark: mark them again (I, O)")
        video = entry["kind"] != "audio"
        target = track or self._target_track(video)
        kw: dict[str, Any] = {}
        if a >= 0:
            kw["src_in"] = _seconds_at(a, rate)
        if b >= 0:
            kw["src_out"] = _seconds_at(b + 1, rate)
        elif 0 <= self.mark_in <= self.mark_out:
            kw["duration"] = _seconds_at(self.mark_out + 1 - self.mark_in, rate)
        if video and entry.get("audio_rate") is not None and target.upper().startswith("V"):
            kw["audio"] = "A1"
        at = self.mark_in if self.mark_in >= 0 else self.playhead
        clip = getattr(s, op)(self.source, track=target, at=_seconds_at(at, rate), **kw)
        # as in an NLE, ready for the next edit: the timeline's marks used up, the playhead after the new clip
        self.mark_in = self.mark_out = -1
        self.playhead = s.locate(clip)[1].end

    def _target_track(self, video: bool) -> str:
        """The track a three-point edit goes to: the selected clip's, when it is of the right kind; else V1 (A1)."""
        for name, placed in self._placed.items():
            if any(c in placed for c in self.selection if c):
                if (self._tracks[name]["kind"] == "video") == video:
                    return name
        return "V1" if video else "A1"

    def io_range(self) -> tuple[float | int, float | int]:
        """The timeline's In and Out marks as render's ``start`` and ``end`` seconds (a missing mark: the start or
        the end of the timeline)."""
        end = int(self._header.get("frames") or 0)
        if not end:
            raise EditError("nothing to render: the timeline is empty")
        if self.mark_in < 0 and self.mark_out < 0:
            raise TimeRangeError("mark an In or an Out point on the timeline first (I, O)")
        first = max(self.mark_in, 0)
        last = min(self.mark_out if self.mark_out >= 0 else end - 1, end - 1)
        if last < first:
            raise TimeRangeError("the Out mark is before the In mark: mark them again (I, O)")
        rate = self.session.fps
        return _seconds_at(first, rate, exact=True), _seconds_at(last + 1, rate, exact=True)

    def render_default(self) -> Path:
        """Where an In-Out render goes unless told: ``renders/<name>-in-out.mp4`` beside the project folder (not in
        it: ``fresh=True`` empties the project folder, and a render is the user's), numbered so as never to name a
        file that exists."""
        folder = self.session.path.parent / "renders"
        stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in self.session.name) or "render"
        path, k = folder / f"{stem}-in-out.mp4", 1
        while path.exists():
            k += 1
            path = folder / f"{stem}-in-out-{k}.mp4"
        return path

    def send_render_name(self, content: dict | None = None) -> None:
        self._push({"type": "render_name", "path": _shown_path(self.render_default())})

    def render_io(self, content: dict) -> Path:
        """Render the timeline's In-Out range to ``content["path"]`` (empty: ``render_default``), with progress
        messages, then ``{"type": "render_done"}``. Recorded as the cell it is, e.g.
        ``s.render('editor-demo/renders/demo-in-out.mp4', start=1, end=2.5)``. Never over an existing file."""
        s = self.session
        start, end = self.io_range()
        text = str(content.get("path") or "").strip()
        path = Path(text).expanduser() if text else self.render_default()
        if not path.suffix:
            path = path.with_suffix(".mp4")
        if path.exists():
            raise RenderError(f"{path.name} exists: choose another name (a render never writes over a file)")
        if path.absolute().parent == (s.path.parent / "renders").absolute():
            path.parent.mkdir(exist_ok=True)
        shown = _shown_path(path)
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if done == total or now - last[0] > 0.2:
                last[0] = now
                self._push({"type": "render_progress", "done": done, "total": total, "path": shown})

        out = s.render(path, start=start, end=end, progress=progress)
        _editing.append(self)  # its view places the recorded cell
        try:
            s.cells.emit(f"s.render({shown!r}, start={start!r}, end={end!r})", s)
        finally:
            _editing.remove(self)
        self._push({"type": "render_done", "path": shown, "seconds": round(float(end) - float(start), 3)})
        return out

    def close(self) -> None:
        self.stop()
        if self._proxy_listener in self.preview.proxies.listeners:
            self.preview.proxies.listeners.remove(self._proxy_listener)
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


def _weak_proxy_listener(widget: Editor):
    ref = weakref.ref(widget)

    def listener() -> None:
        w = ref()
        if w is not None:
            w.send_proxies()

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
        doc = clip_doc(p.item, p.start, p.duration, fps, online, video)
        if doc is not None:
            items.append(doc)
            by_id[doc["id"]] = p
    doc = {**track_fields(track), "items": items, "xfades": [xfade_doc(c) for c in cuts]}
    return doc, by_id, placed[-1].end if placed else 0


def track_fields(track: Any) -> dict:
    """A track document's fields besides its lists: name, kind, switches, and a video track's blend."""
    fields = {"name": track.name, "kind": track.kind.lower(), **track_flags(track)}
    if track.kind == otio.schema.TrackKind.Video:
        fields["blend"] = _blend_text(blend_of(track))
    return fields


def clip_doc(item: Any, start: int, duration: int, fps: float, online: dict[str, bool], video: bool) -> dict | None:
    """One clip as the timeline draws it (None for gaps and for clips that are not nbedit's)."""
    if not isinstance(item, otio.schema.Clip):
        return None
    data = read_data(item)
    if not data:
        return None
    keys = ("id", "media") if len(data) == 2 else tuple(data.keys())
    cid, mid = data["id"], data["media"]
    v = item.source_range.start_time.value  # source_in(item), without a Fraction for whole frames
    doc = {
        "id": cid,
        "name": item.name,
        "media": mid,
        "start": start,
        "dur": duration,
        "src_in": (v if v == int(v) else float(source_in(item))) / fps,
        "speed": float(time_scalar(item)) if len(item.effects) else 1.0,
        "opacity": float(data["opacity"]) if "opacity" in keys else 1.0,
        "generated": "generation" in keys,
        "offline": not online.get(mid, False),
    }
    if video:
        doc["reframed"] = "reframe" in keys
    return doc


def xfade_doc(c: Cut) -> dict:
    return {
        "name": c.transition.name,
        "start": c.start,
        "end": c.end,
        "at": c.at,
        "a": item_id(c.before.item),
        "b": item_id(c.after.item),
    }


class TrackDoc:
    """One track's document kept child by child beside the session's index, so that a change costs what it touched.

    Items on the timeline are values (an edit swaps in changed copies, see ``nbedit.index``), so the children a change
    left alone are the very objects this document was made from: comparing the index's children with the ones kept,
    by identity, from both ends, finds the stretch that changed. Only that stretch is read again (OTIO metadata reads
    are what cost: 90-200 ms for a whole track of 1,250 clips); the children after it keep their documents, moved by
    the change in the track's length. ``update`` gives the patch of a "tracks" message (or ``WHOLE``, or None).
    """

    WHOLE = "whole"

    def __init__(self, ti: TrackIndex, fps: float, online: dict[str, bool]):
        self.ti = ti
        self.track = ti.track
        self.fps = fps
        self.video = self.track.kind == otio.schema.TrackKind.Video
        self.items = list(ti.items)  # the children, as the document shows them
        starts = ti.starts
        self.clips = [self._clip(i, starts, fps, online) for i in range(len(self.items))]
        self.xfades = [self._xfade(i) for i in range(len(self.items))]
        self.marks = [self._marks(i, starts) for i in range(len(self.items))]
        self.end = ti.end
        self.fields = track_fields(self.track)
        self.doc = self._assemble()

    def follows(self, track: Any, ti: TrackIndex | None, fps: float) -> bool:
        """Is this the document of that track, as the index keeps it, at that rate (else build afresh)?"""
        return ti is self.ti and ti.track is track is self.track and fps == self.fps

    def _clip(self, i: int, starts: list[int], fps: float, online: dict[str, bool]) -> dict | None:
        return clip_doc(self.ti.items[i], starts[i], self.ti.dur[i], fps, online, self.video)

    def _marks(self, i: int, starts: list[int]) -> list[dict] | None:
        item = self.ti.items[i]
        return None if isinstance(item, otio.schema.Transition) else item_markers(item, starts[i]) or None

    def _xfade(self, i: int) -> dict | None:
        return xfade_doc(self.ti.cut(i)) if isinstance(self.ti.items[i], otio.schema.Transition) else None

    def _assemble(self) -> dict:
        self.markers = [m for ms in self.marks if ms for m in ms]
        return {
            **self.fields,
            "items": [d for d in self.clips if d is not None],
            "xfades": [x for x in self.xfades if x is not None],
        }

    def placements(self) -> dict[str, Placed]:
        starts, dur, items = self.ti.starts, self.ti.dur, self.ti.items
        return {d["id"]: Placed(items[i], i, starts[i], dur[i]) for i, d in enumerate(self.clips) if d is not None}

    def update(self, fps: float, online: dict[str, bool]) -> dict | str | None:
        """Bring the document up to the index; returns the patch (None: nothing changed; ``WHOLE``: too much)."""
        old, new = self.items, self.ti.items
        n_old, n_new = len(old), len(new)
        lo, most = 0, min(n_old, n_new)
        while lo < most and old[lo] is new[lo]:
            lo += 1
        tail = 0
        while tail < most - lo and old[n_old - 1 - tail] is new[n_new - 1 - tail]:
            tail += 1
        # a crossfade's document names the clips on either side: widen the stretch over the transitions at its
        # edges, so that every transition outside it has both neighbours outside it too
        transition = otio.schema.Transition
        while lo > 0 and isinstance(new[lo - 1], transition):
            lo -= 1
        while tail > 0 and isinstance(new[n_new - tail], transition):
            tail -= 1
        hi_old, hi_new = n_old - tail, n_new - tail
        shift = self.ti.end - self.end
        starts = self.ti.starts
        clips = [self._clip(i, starts, fps, online) for i in range(lo, hi_new)]
        xfades = [self._xfade(i) for i in range(lo, hi_new)]
        marks = [self._marks(i, starts) for i in range(lo, hi_new)]
        rest = self.marks[hi_old:]
        moved_marks = shift != 0 and any(rest)
        if moved_marks:
            rest = [ms and [{**m, "at": m["at"] + shift} for m in ms] for ms in rest]
        marks_changed = moved_marks or self.marks[lo:hi_old] != marks
        self.marks[lo:] = marks + rest

        def moved(docs: list, keys: tuple[str, ...]) -> list:
            return [d if d is None else {**d, **{k: d[k] + shift for k in keys}} for d in docs]

        splice = {}
        for name, kept, made in (("items", self.clips, clips), ("xfades", self.xfades, xfades)):
            keys = POSITIONS[name]
            before = [d for d in kept[lo:hi_old] if d is not None]
            after = [d for d in made if d is not None]
            rest = kept[hi_old:]
            moves = shift != 0 and any(d is not None for d in rest)
            if before != after or moves:
                at = sum(d is not None for d in kept[:lo])
                splice[name] = [at, len(before), after, shift if moves else 0]
            kept[lo:] = made + (moved(rest, keys) if moves else rest)
        self.items = list(new)
        self.end = self.ti.end
        fields = track_fields(self.track)
        changed_fields = {k: v for k, v in fields.items() if self.fields.get(k) != v}
        self.fields = fields
        if not splice and not changed_fields:
            if marks_changed:
                self.markers = [m for ms in self.marks if ms for m in ms]
            return None
        self.doc = self._assemble()
        if "items" in splice and len(splice["items"][2]) > max(8, len(self.doc["items"]) // 2):
            return self.WHOLE
        return {**changed_fields, "splice": splice}


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
    nodes.append({"kind": "track", "label": f"{track.name} {_blend_text(blend_of(track))}"})
    return nodes


# the placement a clip has when s.transform has not moved it
TRANSFORM = {"x": 0.0, "y": 0.0, "scale": 1.0, "crop": (0, 0, 0, 0)}


def _names(entry: dict) -> list[str]:
    """The file names a pool entry may be found by: its file's, then its own name."""
    return list(dict.fromkeys(Path(n).name for n in (entry.get("path"), entry.get("name")) if n))


def _named_in(folder: Path, entry: dict) -> Path | None:
    """The file in ``folder`` that bears one of the entry's names, or None."""
    return next((folder / n for n in _names(entry) if (folder / n).is_file()), None)


# what an error's text says in the API's words, and how an editor would say it
EDITOR_WORDS = [
    (re.compile(r"\s*\(s\.\w+\([^()]*\)\)"), ""),  # "(s.lock('V1', False))": the cell's way, not the editor's
    (re.compile(r"\bwith ripple=True\b"), "with ripple (hold Shift)"),
    (re.compile(r"\bsrc_in\b"), "in point"),
    (re.compile(r"\bsrc_out\b"), "out point"),
    (re.compile(r"\bgain_db\b"), "gain"),
    (re.compile(r"\b(Video|Audio)(?= track| clips)"), lambda m: m.group(1).lower()),  # OTIO's kind names
]


def _effect_fields(node: dict) -> dict:
    """An effect node as the inspector lists it: each setting of its kind with its value (the default where the
    node has none); keyed settings as text, to change in a cell."""
    params = node.get("params", {})
    fields = []
    for name, spec in fx.KINDS.get(node["kind"], {}).items():
        v = params.get(name, spec.default)
        keyed = is_keyed(v)
        number = isinstance(v, int | float) and not keyed
        fields.append({"name": name, "value": float(v) if number else _param_text(v), "keyed": keyed})
    return {"id": node["id"], "kind": node["kind"], "mask": node.get("mask"), "params": fields}


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


def _clip_peaks(
    session: Any, item: Any, entry: dict, duration: int, cache: dict, points: int = 96, span: tuple | None = None
) -> list[float]:
    """Peak levels across an audio clip, for its waveform: ``points`` across the whole clip, or with ``span =
    (per_second, first, count)`` peaks ``first`` to ``first + count`` at ``per_second`` a second of the timeline."""
    key = (entry["sha256"], float(source_in(item)), float(time_scalar(item)), duration, points, span)
    if key in cache:
        cache[key] = cache.pop(key)  # most recently used last
        return cache[key]
    rate = 48000
    fps = float(session.fps)
    if span is None:
        t0, t1 = 0.0, duration / fps  # seconds of the timeline from the clip's start
    else:
        per_second, first, count = span
        last = min(first + count, math.ceil(duration / fps * per_second))  # the clip ends inside the span
        if last <= first:
            return []
        t0, t1, points = first / per_second, last / per_second, last - first
    start, speed = float(source_in(item)) / fps, float(time_scalar(item))
    a = int((start + t0 * speed) * rate)
    b = int((start + t1 * speed) * rate)
    pcm = session.sources.audio_span(entry, max(a, 0), max(b, a + 1))  # the span drawn, never the whole file
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
