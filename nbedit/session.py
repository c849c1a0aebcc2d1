"""Session: the one object a notebook holds. It owns the project folder, the timeline and the media pool.

Every edit goes through one mechanism, :func:`operation`: the method runs on a copy of the timeline, the result
is checked, and only then does the copy become the session's state, with the call recorded in the history and
the journal. A failing call therefore leaves the timeline, the history and the media pool exactly as they were.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import opentimelineio as otio

from . import media as media_mod
from .cache import FrameCache
from .errors import EditError, MediaError, NbeditError, ProjectError, TimeRangeError
from .interchange import InterchangeOps
from .ops import edit
from .ops.generate import GenerateOps
from .ops.graph import GraphOps
from .ops.tools import ToolOps
from .ops.ui import WidgetOps
from .record import CellEmitter, History, Journal, Record, operation
from .render import Compositor, RenderSettings, Sources
from .render import render as render_file
from .timeline import (
    Time,
    as_seconds,
    frame_at,
    item_id,
    locate,
    nb,
    seconds,
    timeline_end,
    to_frames,
    track_kind,
)

JOURNAL = "journal.jsonl"
PROJECT = "project.json"
TIMELINE = "timeline.otio"


class Clip:
    """A handle on a clip of the session's timeline, by id; it follows the clip through edits and undo."""

    def __init__(self, session: Session, clip_id: str):
        self.session = session
        self.id = clip_id

    def _nbedit_literal(self) -> str:
        return self.id

    def _placed(self):
        return locate(self.session.timeline, self.id)

    @property
    def otio(self) -> otio.schema.Clip:
        return self._placed()[1].item

    @property
    def track(self) -> str:
        return self._placed()[0].name

    @property
    def media(self) -> str:
        return self.otio.metadata["nbedit"]["media"]

    @property
    def name(self) -> str:
        return self.otio.name

    @property
    def start(self) -> float:
        """Timeline position in seconds."""
        return seconds(self._placed()[1].start, self.session.fps)

    @property
    def duration(self) -> float:
        return seconds(self._placed()[1].duration, self.session.fps)

    @property
    def end(self) -> float:
        return self.start + self.duration

    @property
    def src_in(self) -> float:
        return float(edit.source_in(self.otio) / self.session.fps)

    @property
    def src_out(self) -> float:
        _, p = self._placed()
        return float(edit.source_at(p.item, p.duration) / self.session.fps)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Clip) and other.session is self.session and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        try:
            return (
                f"<Clip {self.id} {self.name!r} on {self.track} at {self.start:.3f}s for {self.duration:.3f}s, "
                f"source {self.src_in:.3f}-{self.src_out:.3f}s>"
            )
        except NbeditError:
            return f"<Clip {self.id} (not on the timeline)>"


class Media:
    """A handle on an item of the media pool."""

    def __init__(self, session: Session, media_id: str):
        self.session = session
        self.id = media_id

    def _nbedit_literal(self) -> str:
        return self.id

    @property
    def info(self) -> media_mod.MediaInfo:
        return edit.media_info(edit.media_entry(self.session.timeline, self.id))

    @property
    def path(self) -> str:
        return self.info.path

    @property
    def online(self) -> bool:
        return os.path.exists(self.path)

    def __repr__(self) -> str:
        i = self.info
        what = f"{i.width}x{i.height} {float(i.fps or 0):.3f} fps" if i.has_video else "audio"
        dur = "still" if i.duration is None else f"{i.duration:.3f}s"
        return f"<Media {self.id} {i.kind} {what} {dur} {Path(i.path).name}{'' if self.online else ' OFFLINE'}>"


class Session(InterchangeOps, GenerateOps, GraphOps, ToolOps, WidgetOps):
    """A project: a folder holding the journal of every edit, and the OTIO timeline those edits made.

    ``Session("my-edit")`` creates the folder, or reopens it (replaying its journal) if it exists. ``name`` is the
    timeline's name (the folder's name by default); ``fresh=True`` starts over in an existing project folder.
    """

    def __init__(self, path: str | os.PathLike, *, name: str | None = None, fresh: bool = False):
        self.path = Path(path).expanduser().absolute()
        self._depth = 0
        self._extra: dict[str, dict] = {}
        self._undo: list[tuple[otio.schema.Timeline, Record]] = []
        self._redo: list[tuple[otio.schema.Timeline, Record]] = []
        self.history: History = History()
        self.cache = FrameCache()
        self.cells = CellEmitter()
        self.listeners: list[Callable[[Session, Record | None], None]] = []
        self._origin: str | None = None
        self._sources = Sources(self.cache)
        self._compositor: Compositor | None = None
        if fresh:
            _clear_project(self.path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.journal = Journal(self.path / JOURNAL)
        self.journal.repair()
        meta_file = self.path / PROJECT
        if meta_file.exists():
            meta = json.loads(meta_file.read_text())
            self.name = meta["name"]
        else:
            if any(self.path.iterdir()):
                raise ProjectError(f"{self.path} is not empty and holds no nbedit project: choose another folder")
            self.name = name or self.path.name
            _atomic_write(meta_file, json.dumps({"nbedit": 1, "name": self.name}, indent=1))
        self._tl = otio.schema.Timeline(name=self.name)
        self._tl.metadata["nbedit"] = {"format": None, "media": {}, "next_id": 1}
        self._replay(self.journal.read())

    # ---- state ----------------------------------------------------------------------------------------

    @property
    def timeline(self) -> otio.schema.Timeline:
        """The OTIO timeline. Read it freely; change it only through the session's operations."""
        return self._tl

    @property
    def fps(self) -> Fraction:
        return edit.edit_rate(self._tl)

    @property
    def format(self) -> dict | None:
        fmt = nb(self._tl).get("format")
        return None if not fmt else {k: fmt[k] for k in fmt}

    @property
    def duration(self) -> float:
        return seconds(timeline_end(self._tl), self.fps) if self.format else 0.0

    @property
    def media(self) -> dict[str, Media]:
        return {mid: Media(self, mid) for mid in nb(self._tl).get("media", {})}

    @property
    def clips(self) -> list[Clip]:
        return [Clip(self, item_id(c)) for c in self._tl.find_clips()]

    @property
    def tracks(self) -> list[str]:
        return [t.name for t in self._tl.tracks]

    def clip(self, clip: Clip | str) -> Clip:
        cid = clip.id if isinstance(clip, Clip) else clip
        locate(self._tl, cid)
        return Clip(self, cid)

    def state(self) -> str:
        """The whole project as OTIO JSON: equal strings mean equal projects."""
        return self._tl.to_json_string()

    def __repr__(self) -> str:
        fmt = self.format
        size = f"{fmt['width']}x{fmt['height']} @ {float(Fraction(fmt['fps'])):.3f} fps" if fmt else "no format yet"
        return (
            f"<nbedit.Session {self.name!r} at {self.path}: {size}, {len(self.clips)} clips on "
            f"{len(self.tracks)} tracks, {self.duration:.2f}s, {len(self.history)} operations>"
        )

    # ---- the record ---------------------------------------------------------------------------------------

    def _commit(self, before: otio.schema.Timeline, rec: Record) -> None:
        self._journal(rec.to_json())  # first: an edit that did not reach the disk did not happen
        self._undo.append((before, rec))
        self._redo.clear()
        self.history.append(rec)
        self._after_record(rec.code)

    _replaying = False

    def _journal(self, entry: dict) -> None:
        if not self._replaying:
            self.journal.append(entry)

    def _after_record(self, code: str) -> None:
        if self._replaying:
            return
        try:
            self._saved()
        except ProjectError as e:  # the journal holds the edit; the .otio copy catches up at the next one
            warnings.warn(str(e), stacklevel=3)
        if self._origin is not None:
            self.cells.emit(code, self)

    # ---- what views read after a change (STAND-IN: the new editing core provides these, precisely and cheaply) ----
    version = 0  # grows with every change
    changed_tracks: set[str] | None = None  # tracks whose contents changed in the last change; None: maybe all
    can_undo = property(lambda self: bool(self._undo))
    can_redo = property(lambda self: bool(self._redo))

    def _stand_in_changed_tracks(self) -> None:
        """Names of the tracks whose OTIO JSON differs from the last change's (None the first time); kept only
        while someone listens."""
        now = {t.name: t.to_json_string() for t in self._tl.tracks} if self.listeners else None
        last, self._track_json = getattr(self, "_track_json", None), now
        if now is None or last is None:
            self.changed_tracks = None
        else:
            self.changed_tracks = {n for n in now.keys() | last.keys() if now.get(n) != last.get(n)}

    def _changed(self, rec: Record | None) -> None:
        self.version += 1
        self._stand_in_changed_tracks()
        self._compositor = None
        for listener in list(self.listeners):
            try:
                listener(self, rec)
            except Exception as e:  # a broken view must not break editing
                warnings.warn(f"nbedit listener {listener!r} failed: {e!r}", stacklevel=2)

    def _saved(self) -> None:
        _atomic_write(self.path / TIMELINE, self._tl.to_json_string())

    @contextmanager
    def external(self, origin: str = "widget") -> Iterator[None]:
        """Operations inside this block came from outside a cell: each is emitted as code for a new cell."""
        old, self._origin = self._origin, origin
        try:
            yield
        finally:
            self._origin = old

    def undo(self) -> Record:
        """Take back the last operation; returns its record. Recorded in the journal, so a reopen agrees."""
        if not self._undo:
            raise EditError("nothing to undo")
        self._journal({"op": "undo"})
        before, rec = self._undo.pop()
        self._redo.append((self._tl, rec))
        self._tl = before
        self.history.pop()
        self._after_jump("undo")
        return rec

    def redo(self) -> Record:
        """Make the last undone operation again."""
        if not self._redo:
            raise EditError("nothing to redo")
        self._journal({"op": "redo"})
        after, rec = self._redo.pop()
        self._undo.append((self._tl, rec))
        self._tl = after
        self.history.append(rec)
        self._after_jump("redo")
        return rec

    def _after_jump(self, op: str) -> None:
        self._after_record(f"s.{op}()")
        self._changed(None)

    def _replay(self, entries: list[dict]) -> None:
        self._replaying = True
        try:
            for n, entry in enumerate(entries, 1):
                if entry["op"] in ("undo", "redo"):
                    getattr(self, entry["op"])()
                    continue
                rec = Record.from_json(entry)
                self._extra[rec.op] = dict(rec.extra)  # what the op saved for replays (a probe, a timeline)
                try:
                    getattr(self, rec.op)(*rec.args, **rec.kwargs)
                except NbeditError as e:
                    raise ProjectError(f"{self.journal.path}, entry {n} ({rec.code}) cannot be replayed: {e}") from e
        finally:
            self._replaying = False
            self._extra.clear()

    def recipe(self) -> str:
        """Python source that rebuilds this edit from scratch (media checked by sha256)."""
        from .record import recipe

        return recipe(self.name, self.history)

    def to_notebook(self, path: str | os.PathLike, *, render_to: str | None = None) -> Path:
        """Write the recipe as a notebook: a header, one cell per operation, and a render cell."""
        import nbformat

        from .record import notebook

        path = Path(path)
        nbk = notebook(self.name, self.history, render_to=render_to)
        _atomic_write(path, nbformat.writes(nbk))
        return path

    def save(self, path: str | os.PathLike | None = None) -> Path:
        """Write the timeline as a plain ``.otio`` file (the project folder's copy by default)."""
        target = Path(path) if path is not None else self.path / TIMELINE
        _atomic_write(target, self._tl.to_json_string())
        return target

    @operation
    def open_timeline(self, path: str | os.PathLike, *, sha256: str | None = None) -> None:
        """Make an ``.otio`` file written by nbedit the session's timeline. ``s.open_timeline("cut.otio")``

        The journal keeps the whole timeline, so the project reopens even if the file changes or goes away.
        """
        path = os.path.abspath(os.fspath(path))
        saved = self._extra.pop("open_timeline", {}).get("timeline") if self._replaying else None
        if saved is not None:
            self._tl = otio.adapters.read_from_string(saved, "otio_json")
            return
        try:
            digest = media_mod.sha256_file(path)
            tl = otio.adapters.read_from_file(path)
        except Exception as e:  # OTIO raises many kinds for one cause: not a timeline it can read
            raise ProjectError(f"cannot read {path} as an OTIO timeline: {e}") from e
        if sha256 is not None and digest != sha256:
            raise ProjectError(f"{path} is not the recorded file: its sha256 is {digest}, expected {sha256}")
        if not isinstance(tl, otio.schema.Timeline) or not nb(tl).get("format"):
            raise ProjectError(f"{path} is not an nbedit timeline (no metadata['nbedit']['format'])")
        self._tl = tl
        self._extra["open_timeline"] = {"timeline": tl.to_json_string(), "pin": {"path": path, "sha256": digest}}

    @classmethod
    def from_otio(cls, path: str | os.PathLike, folder: str | os.PathLike | None = None) -> Session:
        """A new session (in ``folder``, or a scratch folder) whose timeline is read from an nbedit ``.otio``."""
        import tempfile

        session = cls(folder or tempfile.mkdtemp(prefix="nbedit-"), name=Path(path).stem)
        session.open_timeline(path)
        return session

    # ---- media ----------------------------------------------------------------------------------------

    @operation
    def import_media(self, path: str | os.PathLike, *, name: str | None = None, sha256: str | None = None) -> Media:
        """Add a file to the media pool: probed with PyAV, identified by its sha256.

        ``s.import_media("/footage/interview.mp4", sha256="9f2c...")`` is the cell it records; with ``sha256``
        given, a different file at that path is refused.
        """
        path = os.path.abspath(os.fspath(path))
        replay = self._extra.pop("import_media", {}).get("info")
        if replay is not None and self._replaying:
            info = media_mod.MediaInfo.from_dict(replay)  # reopen: no re-hash, and a lost file becomes offline
        else:
            info = media_mod.probe(path)
        if sha256 is not None and info.sha256 != sha256:
            raise MediaError(f"{path} is not the recorded file: its sha256 is {info.sha256}, expected {sha256}")
        pool = nb(self._tl)["media"]
        for mid, entry in pool.items():
            if entry["path"] == path and entry["sha256"] == info.sha256:
                self._extra["import_media"] = {"info": info.to_dict(), "pin": {"path": path, "sha256": info.sha256}}
                return Media(self, mid)
        base = name or _slug(Path(path).stem)
        mid, k = base, 2
        while mid in pool:
            mid, k = f"{base}-{k}", k + 1
        pool[mid] = {**info.to_dict(), "name": name or Path(path).name}
        self._extra["import_media"] = {"info": info.to_dict(), "pin": {"path": path, "sha256": info.sha256}}
        return Media(self, mid)

    def _import_made(self, path: Path, name: str, info: dict | None) -> Media:
        """Import a file an operation made (nested: part of that operation), reusing a recorded probe if given."""
        self._extra.pop("import_media", None)
        if info is not None:
            self._extra["import_media"] = {"info": info}
        try:
            return self.import_media(str(path), name=name)
        finally:
            self._extra.pop("import_media", None)  # what the nested call left for a journal it does not write

    def _media_id(self, media: Media | str) -> str:
        mid = media.id if isinstance(media, Media) else media
        edit.media_entry(self._tl, mid)
        return mid

    def _clip_id(self, clip: Clip | str) -> str:
        return clip.id if isinstance(clip, Clip) else clip

    def _f(self, t: Time, what: str) -> int:
        return to_frames(t, self.fps, what=what)

    def _opt(self, t: Time | None, what: str) -> int | None:
        return None if t is None else self._f(t, what)

    def _ensure_format(self, mid: str) -> None:
        if nb(self._tl).get("format"):
            return
        entry = edit.media_entry(self._tl, mid)
        if entry["kind"] == "audio":
            raise EditError("set the timeline format first: s.set_format(width=..., height=..., fps=...)")
        fps = Fraction(entry["fps"]) if entry.get("fps") else Fraction(24)
        # yuv420p output needs even sizes
        self.set_format(width=int(entry["width"]) // 2 * 2, height=int(entry["height"]) // 2 * 2, fps=fps)

    @operation
    def set_format(self, width: int, height: int, fps: int | float | str | Fraction = 24) -> None:
        """Set the timeline's picture size and edit rate; the first video clip sets them if you don't.

        ``s.set_format(width=1920, height=1080, fps="30000/1001")``. The rate can change only while no clip is
        placed (every time on the timeline is counted in its frames).
        """
        rate = _rate(fps)
        if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 and v % 2 == 0 for v in (width, height)):
            raise EditError(f"width and height must be positive even whole numbers, not {width!r}x{height!r}")
        old = nb(self._tl).get("format")
        if old and Fraction(old["fps"]) != rate and self._tl.find_clips():
            raise EditError("the edit rate cannot change once clips are placed")
        nb(self._tl)["format"] = {"width": int(width), "height": int(height), "fps": str(rate)}

    # ---- placing clips --------------------------------------------------------------------------------

    def _new_clip(
        self, media: Media | str, track: str, src_in: Time | None, src_out: Time | None, duration: Time | None
    ) -> otio.schema.Clip:
        mid = self._media_id(media)
        if track_kind(track) == otio.schema.TrackKind.Video:
            self._ensure_format(mid)
        rate = self.fps
        avail = edit.available_frames(edit.media_entry(self._tl, mid), rate)
        first = self._opt(src_in, "src_in") or 0
        if src_out is not None and duration is not None:
            raise EditError("give src_out or duration, not both")
        if src_out is not None:
            last = self._f(src_out, "src_out")
        elif duration is not None:
            last = first + self._f(duration, "duration")
        elif avail is None:
            last = first + round(5 * rate)  # a still lasts five seconds unless told otherwise
        else:
            last = avail
        return edit.make_clip(self._tl, mid, track, first, last - first)

    @operation
    def append(
        self,
        media: Media | str,
        track: str = "V1",
        *,
        src_in: Time | None = None,
        src_out: Time | None = None,
        duration: Time | None = None,
    ) -> Clip:
        """Put a clip of ``media`` at the end of ``track``.

        ``s.append("interview", track="V1", src_in=2.0, src_out=9.5)``; without src_out the clip runs to the end
        of the media (stills last five seconds, or ``duration``).
        """
        clip = self._new_clip(media, track, src_in, src_out, duration)
        from .timeline import ensure_track, track_end

        edit.place(self._tl, clip, track, track_end(ensure_track(self._tl, track)), ripple=True)
        return Clip(self, item_id(clip))

    @operation
    def insert(
        self,
        media: Media | str,
        track: str = "V1",
        *,
        at: Time,
        src_in: Time | None = None,
        src_out: Time | None = None,
        duration: Time | None = None,
    ) -> Clip:
        """Insert a clip at ``at`` seconds; what was there and after moves right (a clip under ``at`` is cut).

        ``s.insert("broll", track="V1", at=3.0, src_in=0.0, src_out=2.0)``
        """
        clip = self._new_clip(media, track, src_in, src_out, duration)
        edit.place(self._tl, clip, track, self._f(at, "at"), ripple=True)
        return Clip(self, item_id(clip))

    @operation
    def overwrite(
        self,
        media: Media | str,
        track: str = "V1",
        *,
        at: Time,
        src_in: Time | None = None,
        src_out: Time | None = None,
        duration: Time | None = None,
    ) -> Clip:
        """Place a clip at ``at`` seconds over whatever is there; nothing else moves.

        ``s.overwrite("broll", track="V1", at=3.0, duration=1.5)``
        """
        clip = self._new_clip(media, track, src_in, src_out, duration)
        edit.place(self._tl, clip, track, self._f(at, "at"), ripple=False)
        return Clip(self, item_id(clip))

    # ---- changing clips -------------------------------------------------------------------------------

    @operation
    def trim(
        self, clip: Clip | str, *, src_in: Time | None = None, src_out: Time | None = None, ripple: bool = True
    ) -> Clip:
        """Set a clip's source in and/or out point, in seconds of its media.

        ``s.trim("c3", src_in=5.0)``. With ``ripple=True`` (the default) later clips on the track move to follow
        the clip's new length; with ``ripple=False`` the clip's other edge stays put and a gap opens (or a gap
        beside it shrinks).
        """
        cid = self._clip_id(clip)
        if src_in is None and src_out is None:
            raise EditError("trim needs src_in, src_out or both")
        edit.trim(self._tl, cid, self._opt(src_in, "src_in"), self._opt(src_out, "src_out"), ripple=ripple)
        return Clip(self, cid)

    @operation
    def split(self, clip: Clip | str, *, at: Time) -> tuple[Clip, Clip]:
        """Cut a clip in two at timeline time ``at``; returns (left, right). ``s.split("c1", at=4.0)``"""
        cid = self._clip_id(clip)
        right = edit.split(self._tl, cid, self._f(at, "at"))
        return Clip(self, cid), Clip(self, right)

    @operation
    def delete(self, clip: Clip | str, *, ripple: bool = False) -> None:
        """Remove a clip: leave a gap (lift, the default) or close it (``ripple=True``).

        ``s.delete("c1", ripple=True)``. Crossfades touching the clip go with it.
        """
        edit.delete(self._tl, self._clip_id(clip), ripple=ripple)

    @operation
    def move(self, clip: Clip | str, *, to: Time, track: str | None = None) -> Clip:
        """Move a clip to timeline time ``to`` (and to another track of its kind), over what is there.

        ``s.move("c2", to=10.0, track="V2")``. The old place becomes a gap; crossfades touching it go.
        """
        cid = self._clip_id(clip)
        edit.move(self._tl, cid, self._f(to, "to"), track)
        return Clip(self, cid)

    @operation
    def slip(self, clip: Clip | str, *, by: Time) -> Clip:
        """Show a later (or earlier, negative) part of the media in the same place. ``s.slip("c1", by=0.5)``"""
        cid = self._clip_id(clip)
        edit.slip(self._tl, cid, self._f(by, "by"))
        return Clip(self, cid)

    @operation
    def speed(self, clip: Clip | str, factor: float) -> Clip:
        """Play a clip ``factor`` times as fast (0.5: slow motion); it keeps its content and later clips ripple.

        ``s.speed("c2", 2.0)`` records an OTIO LinearTimeWarp on the clip.
        """
        ratio = Fraction(_number(factor, "speed factor")).limit_denominator(10**4)
        if not 0 < ratio <= 100:
            raise EditError(f"speed factor must be above 0 and at most 100, not {factor!r}")
        cid = self._clip_id(clip)
        edit.speed(self._tl, cid, ratio)
        return Clip(self, cid)

    @operation
    def crossfade(self, a: Clip | str, b: Clip | str, *, duration: Time = 0.5) -> None:
        """Dissolve from clip ``a`` into the next clip ``b``, centred on their cut.

        ``s.crossfade("c1", "c2", duration=0.5)``. Both clips need that much more media beyond the cut (handles).
        """
        edit.crossfade(self._tl, self._clip_id(a), self._clip_id(b), self._f(duration, "duration"))

    @operation
    def opacity(self, clip: Clip | str, value: float) -> Clip:
        """Set a video clip's opacity, 0 (invisible) to 1. ``s.opacity("c4", 0.5)``"""
        if not 0 <= _number(value, "opacity") <= 1:
            raise EditError(f"opacity must be between 0 and 1, not {value}")
        return self._set_clip_data(clip, "opacity", float(value), video=True)

    @operation
    def transform(
        self,
        clip: Clip | str,
        *,
        x: float = 0.0,
        y: float = 0.0,
        scale: float = 1.0,
        crop: tuple[int, int, int, int] = (0, 0, 0, 0),
    ) -> Clip:
        """Place a video clip's picture: crop (left, top, right, bottom source pixels), scale, move.

        ``s.transform("c4", x=200, y=-100, scale=0.3)``. At scale 1 the picture fits the frame; x and y move its
        centre in output pixels.
        """
        cid, item = self._clip_of_kind(clip, video=True, what="transform")
        entry = edit.media_entry(self._tl, item.metadata["nbedit"]["media"])
        if (
            not isinstance(crop, tuple | list)
            or len(crop) != 4
            or not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in crop)
        ):
            raise EditError(f"crop is four non-negative pixel counts (left, top, right, bottom), not {crop!r}")
        w, h = int(entry.get("width") or 0), int(entry.get("height") or 0)
        if crop[0] + crop[2] >= w or crop[1] + crop[3] >= h:
            raise EditError(f"crop {tuple(crop)} leaves nothing of a {w}x{h} picture")
        if not _number(scale, "scale") > 0:
            raise EditError(f"scale must be positive, not {scale}")
        value = {"x": _number(x, "x"), "y": _number(y, "y"), "scale": float(scale), "crop": list(crop)}
        return self._set_clip_data(cid, "transform", value, video=True)

    @operation
    def gain(self, clip: Clip | str, db: float) -> Clip:
        """Set an audio clip's gain in decibels. ``s.gain("c5", -6.0)``"""
        if not -100 <= _number(db, "gain") <= 40:
            raise EditError(f"gain must be between -100 and +40 dB, not {db}")
        return self._set_clip_data(clip, "gain_db", float(db), video=False)

    def _clip_of_kind(self, clip: Clip | str, *, video: bool, what: str) -> tuple[str, otio.schema.Clip]:
        cid = self._clip_id(clip)
        track, p = locate(self._tl, cid)
        kind = otio.schema.TrackKind.Video if video else otio.schema.TrackKind.Audio
        if track.kind != kind:
            raise EditError(f"clip {cid!r} is on {track.kind} track {track.name}: {what} applies to {kind} clips")
        return cid, p.item

    def _set_clip_data(self, clip: Clip | str, key: str, value: Any, *, video: bool) -> Clip:
        cid, item = self._clip_of_kind(clip, video=video, what=key)
        item.metadata["nbedit"][key] = value
        return Clip(self, cid)

    # ---- tracks ---------------------------------------------------------------------------------------

    @operation
    def add_track(self, name: str) -> None:
        """Add an empty track (V1, V2, ... or A1, A2, ...). ``s.add_track("V3")``"""
        from .timeline import ensure_track, find_track

        if find_track(self._tl, name) is not None:
            raise EditError(f"track {name} exists already")
        ensure_track(self._tl, name)

    @operation
    def remove_track(self, name: str, *, force: bool = False) -> None:
        """Remove a track; one holding clips only with ``force=True``. ``s.remove_track("V3")``"""
        edit.remove_track(self._tl, name, force=force)

    # ---- pictures and sound ---------------------------------------------------------------------------

    def frame(self, t: Time) -> np.ndarray:
        """The composited picture at timeline time ``t``: a (height, width, 3) uint8 RGB array."""
        if not self.format:
            raise TimeRangeError("the timeline is empty: there is no frame to show")
        n = frame_at(t, self.fps)
        end = timeline_end(self._tl)
        if not 0 <= n < max(end, 1):
            raise TimeRangeError(f"t={t} is outside the timeline (0 to {seconds(end, self.fps):.3f} s)")
        if self._compositor is None or self._compositor.timeline is not self._tl:
            self._compositor = Compositor(self._tl, self._sources)
        return self._compositor.frame(n)

    def show(self, t: Time) -> Any:
        """The frame at ``t`` as a picture in the notebook. ``s.show(2.0)``"""
        from IPython.display import Image

        from .render import to_png

        return Image(data=to_png(self.frame(t)), format="png")

    def render(
        self,
        path: str | os.PathLike,
        *,
        size: tuple[int, int] | None = None,
        fps: float | str | Fraction | None = None,
        crf: int = 18,
        preset: str = "medium",
        start: Time | None = None,
        end: Time | None = None,
        audio: bool = True,
        progress: bool = True,
    ) -> Path:
        """Render the timeline (or ``start``..``end`` seconds of it) to an H.264 + AAC file, atomically.

        ``s.render("out.mp4", size=(1280, 720), crf=20)``: the file appears only when it is complete.
        """
        if not self.format or not timeline_end(self._tl):
            raise EditError("nothing to render: the timeline is empty")
        fmt = self.format
        width, height = size or (fmt["width"], fmt["height"])
        if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 and v % 2 == 0 for v in (width, height)):
            raise EditError(f"render size must be two positive even whole numbers, not {size!r}")
        out_fps = self.fps if fps is None else _rate(fps)
        if isinstance(crf, bool) or not isinstance(crf, int) or not 0 <= crf <= 51:
            raise EditError(f"crf must be a whole number from 0 to 51, not {crf!r}")
        if preset not in X264_PRESETS:
            raise EditError(f"preset must be one of {', '.join(X264_PRESETS)}, not {preset!r}")
        # the frames on screen from start until end, as frame(t) counts them
        first = 0 if start is None else frame_at(start, self.fps, what="start")
        last = timeline_end(self._tl) if end is None else math.ceil(as_seconds(end, what="end") * self.fps - 1e-6)
        if not 0 <= first < last <= timeline_end(self._tl):
            raise TimeRangeError(f"render range {start}..{end} is empty or outside the timeline")
        settings = RenderSettings(
            int(width), int(height), out_fps, first, last, crf=int(crf), preset=preset, audio=audio
        )
        return render_file(self._tl, path, settings, cache=self.cache, progress=progress)


# ---- helpers ----------------------------------------------------------------------------------------------


X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")


def _rate(fps: Any) -> Fraction:
    """A frame rate given as a number or a "30000/1001" string."""
    try:
        rate = Fraction(fps) if isinstance(fps, str | Fraction) else Fraction(_number(fps, "fps"))
    except (ValueError, ZeroDivisionError, EditError):
        raise EditError(f"fps must be a number or a fraction like '30000/1001', not {fps!r}") from None
    rate = rate.limit_denominator(1001)
    if not 0 < rate <= 1000:
        raise EditError(f"fps must be above 0 and at most 1000, not {fps!r}")
    return rate


def _number(value: Any, what: str) -> float:
    """A finite number given by the user, or a clear error."""
    if isinstance(value, bool) or not isinstance(value, int | float | Fraction) or not math.isfinite(value):
        raise EditError(f"{what} must be a number, not {value!r}")
    return float(value)


def _slug(text: str) -> str:
    out = "".join(c if c.isalnum() or c in "-_" else "-" for c in text).strip("-")
    return out or "media"


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as e:
        raise ProjectError(f"cannot write {path}: {e}") from e


def _clear_project(path: Path) -> None:
    """Empty a project folder for ``fresh=True``, refusing folders that are not nbedit projects."""
    if not path.exists():
        return
    if not (path / PROJECT).exists() and any(path.iterdir()):
        raise ProjectError(f"{path} holds files but no nbedit project: refusing to clear it")
    shutil.rmtree(path)
