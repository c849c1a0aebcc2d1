"""Session: the one object a notebook holds. It owns the project folder, its state and its history.

Every verb (``s.trim``, ``s.generate``, ...) is a plain operation function from ``nbedit.ops`` run by one
mechanism, ``ops.context.run``: the function changes the live timeline through an edit context that keeps what
it changed, the change is checked, journaled (fsync) before anything else sees it, recorded as one line of
Python, and kept for undo. A failing call leaves the timeline, the history and the folder as they were.

    s.trim("c3", src_in=5.0)
      -> Session._apply          (session.py: the lock, journal first, history, undo, snapshots, listeners)
      -> ops.context.run         (binds and records the arguments, runs the function, checks, folds a Change)
      -> ops.edit.trim(e, ...)   (the operation: reads the index, splices the track through e)
      -> disk.Journal.append   (the truth on disk); disk.write_snapshot now and then
"""

from __future__ import annotations

import atexit
import math
import os
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import opentimelineio as otio

from . import args, interchange, model
from . import folder as disk
from .cache import Caches, FrameCache
from .errors import EditError, NbeditError, ProjectError, TimeRangeError
from .handles import Clip, Media, handle
from .index import TimelineIndex
from .ops import context, detect, edit, graph, sweep, tools
from .ops import generate as generative
from .ops import markers as marker_ops
from .ops import tracks as track_ops
from .record import CellEmitter, History, Record
from .render import Compositor, RenderSettings, Sources, engines
from .smart import render as smart_render
from .timeline import Placed, Time, as_seconds, frame_at, seconds

# Session.render's settings as a call that names none of them gets them (a recipe's render cell names the others)
RENDER_DEFAULTS = {"size": None, "fps": None, "crf": 18, "preset": "medium", "start": None, "end": None}
RENDER_DEFAULTS |= {"audio": True, "smart": None, "hardware": "auto"}
SNAPSHOT_EVERY = 2000  # journal entries between snapshots written in the middle of editing (rare: beyond p99)
SNAPSHOT_IDLE = 2.0  # seconds without an edit after which the snapshot catches up
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")


OPERATIONS: dict[str, Callable[..., Any]] = {}
"""Every recorded operation by the name its journal entries and recipe lines use: the only names replay runs."""


def verb(fn: Callable[..., Any], name: str | None = None) -> Callable[..., Any]:
    """A Session method that runs operation ``fn``; ``s.<name>?`` shows fn's signature (less the Edit) and doc."""
    op = name or fn.__name__
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in context.public_signature(fn).parameters.values()):
        raise TypeError(f"operation {op} takes *args or **kwargs: its recorded call could not be replayed")
    OPERATIONS[op] = fn

    def method(self: Session, *a: Any, **kw: Any) -> Any:
        return self._apply(op, fn, a, kw)

    method.__name__ = method.__qualname__ = op
    method.__doc__ = fn.__doc__
    method.__signature__ = context.public_signature(fn)  # type: ignore[attr-defined]
    method.__module__ = fn.__module__
    method.operation = fn  # type: ignore[attr-defined]
    return method


class Session:
    """A project: a folder holding the journal of every edit, and the OTIO timeline those edits made.

    ``Session("my-edit")`` creates the folder, or reopens it (snapshot plus the journal after it) if it exists.
    ``name`` is the timeline's name (the folder's name by default); ``fresh=True`` starts over in an existing
    project folder. One process edits a project at a time; ``read_only=True`` opens one that another process has
    open (to look, play or render: edits are refused).
    """

    def __init__(
        self, path: str | os.PathLike, *, name: str | None = None, fresh: bool = False, read_only: bool = False
    ):
        if not isinstance(path, str | os.PathLike):
            raise ProjectError(f"a project is a folder, given by its path: not {path!r}")
        self.path = Path(path).expanduser().absolute()
        self.mutex = threading.RLock()  # held by every change; hold it to read the timeline from another thread
        self._undo: list[tuple[context.Change, Record]] = []
        self._redo: list[tuple[context.Change, Record]] = []
        self._behind: list[Record] = []  # redo records from before a snapshot (their changes are not in memory)
        self._partial = False  # True when reopened from a snapshot: older undo steps need a replay
        self.history: History = History()
        self.cache = FrameCache()
        self.cells = CellEmitter()
        self.listeners: list[Callable[[Session, Record | None], None]] = []
        self._origin: str | None = None
        self.sources = Sources(self.cache)
        self._compositor: Compositor | None = None
        self._last: context.Change | None = None
        self._replaying = False
        self._saved: dict = {}
        self._unsaved = 0
        self._edited_at = 0.0
        self._closed = False
        self.read_only = read_only
        if read_only and fresh:
            raise ProjectError("fresh=True starts the project over: it cannot be read_only")
        for other in list(_sessions.sessions):  # an older session of this folder no longer writes its snapshot
            if other.path == self.path:
                other._unsaved, other._closed = 0, True
        if fresh:
            disk.clear(self.path)
        if read_only and not (self.path / disk.PROJECT).exists():
            raise ProjectError(f"{self.path} holds no nbedit project to open read-only")
        self.path.mkdir(parents=True, exist_ok=True)
        self.journal = disk.Journal(self.path / disk.JOURNAL)
        self.name = disk.open_name(self.path, name)
        if not read_only:
            disk.hold(self.path)
            self.journal.repair()
        self._open()
        _sessions.add(self)

    @property
    def models(self) -> Any:
        """The session's models: ``s.models`` shows them; loaded on first use and kept resident."""
        pool = self.__dict__.get("_models")
        if pool is None:
            from .models import ModelPool

            pool = self.__dict__.setdefault("_models", ModelPool(self.path))
        return pool

    @property
    def caches(self) -> Caches:
        """Every cache's entries and bytes against the one memory budget, as a table. ``s.caches``"""
        return Caches(disk={"proxies on disk": self.path / "proxies"})

    @property
    def _env(self) -> context.Env:
        return context.Env(folder=self.path, models=lambda: self.models, sources=self.sources, cache=self.cache)

    # ---- state ----------------------------------------------------------------------------------------

    @property
    def timeline(self) -> otio.schema.Timeline:
        """The OTIO timeline. Read it freely; change it only through the session's operations."""
        return self._state.timeline

    @property
    def index(self) -> TimelineIndex:
        """Where every item sits (per-track ids, durations, positions): read it, never change it."""
        return self._state.index

    @property
    def version(self) -> int:
        """Grows with every change of the project (an edit, an undo, a redo)."""
        return self._state.version

    @property
    def changed_tracks(self) -> set[str] | None:
        """Names of the tracks the last change touched; None: anything may have changed."""
        change = self._last
        if change is None or change.timeline is not None or change.tracks is not None:
            return None
        return change.touched

    @property
    def can_undo(self) -> bool:
        return bool(self._undo) or (self._partial and bool(self.history))

    @property
    def can_redo(self) -> bool:
        return bool(self._redo) or bool(self._behind)

    @property
    def fps(self) -> Fraction:
        return model.edit_rate(self.timeline)

    @property
    def format(self) -> dict | None:
        return model.format_of(self.timeline)

    @property
    def duration(self) -> float:
        return seconds(self._state.index.end(), self.fps) if self.format else 0.0

    @property
    def media(self) -> dict[str, Media]:
        return {mid: Media(self, mid) for mid in model.pool(self.timeline)}

    @property
    def clips(self) -> list[Clip]:
        return [Clip(self, cid) for cid in self._state.index.clip_ids()]

    @property
    def tracks(self) -> list[str]:
        return [t.name for t in self.timeline.tracks]

    def clip(self, clip: Clip | str) -> Clip:
        cid = clip.id if isinstance(clip, Clip) else clip
        self._state.index.find(cid)
        return Clip(self, cid)

    def locate(self, clip: Clip | str) -> tuple[otio.schema.Track, Placed]:
        """The track holding a clip and where the clip sits on it (frames at the edit rate)."""
        return self._state.index.locate(clip.id if isinstance(clip, Clip) else clip)

    def end_frame(self) -> int:
        """The timeline's length in frames at the edit rate."""
        return self._state.index.end()

    def state(self) -> str:
        """The whole project as OTIO JSON: equal strings mean equal projects."""
        return self.timeline.to_json_string()

    def __repr__(self) -> str:
        fmt = self.format
        size = f"{fmt['width']}x{fmt['height']} @ {float(Fraction(fmt['fps'])):.3f} fps" if fmt else "no format yet"
        return (
            f"<nbedit.Session {self.name!r} at {self.path}: {size}, {len(self._state.index.where)} clips on "
            f"{len(self.tracks)} tracks, {self.duration:.2f}s, {len(self.history)} operations>"
        )

    # ---- the one mechanism --------------------------------------------------------------------------------

    def _apply(self, name: str, fn: Callable[..., Any], a: tuple, kw: dict) -> Any:
        if self.read_only and not self._replaying:
            raise ProjectError(f"{self.path} is open read-only here: {name} would change it")
        with self.mutex:
            out = context.run(self._state, self._env, name, fn, a, kw, replaying=self._replaying, saved=self._saved)
            if not self._replaying:
                try:  # first: an edit that did not reach the disk did not happen
                    self.journal.append(out.record.to_json())
                except BaseException:
                    out.change.undo(self._state)
                    self._state.version += 1
                    raise
            self._undo.append((out.change, out.record))
            self._redo.clear()
            self._behind.clear()
            self.history.append(out.record)
            self._last = out.change
            self._after(out.record.code)
        self._changed(out.record)
        return handle(self, out.result)

    def _after(self, code: str) -> None:
        if self._replaying:
            return
        self._unsaved += 1
        self._closed = False
        self._edited_at = time.monotonic()
        if self._unsaved >= SNAPSHOT_EVERY:
            self._snapshot()
        else:
            _snapshots.wake()
        if self._origin is not None:
            self.cells.emit(code, self)

    def _changed(self, rec: Record | None) -> None:
        if self._replaying:
            return
        for listener in list(self.listeners):
            try:
                listener(self, rec)
            except Exception as e:  # a broken view must not break editing
                warnings.warn(f"nbedit listener {listener!r} failed: {e!r}", stacklevel=2)

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
        with self.mutex:
            if not self._undo and self._partial and self.history:
                self._replay_all()  # reopened from a snapshot: the older steps come back from the journal
            if not self._undo:
                raise EditError("nothing to undo")
            self._journal({"op": "undo"})
            change, rec = self._undo.pop()
            change.undo(self._state)
            self._state.version += 1
            self._redo.append((change, rec))
            self.history.pop()
            self._last = change
            self._after("s.undo()")
        self._changed(None)
        return rec

    def redo(self) -> Record:
        """Make the last undone operation again."""
        with self.mutex:
            if not self._redo and self._behind:
                self._replay_all()
            if not self._redo:
                raise EditError("nothing to redo")
            self._journal({"op": "redo"})
            change, rec = self._redo.pop()
            change.redo(self._state)
            self._state.version += 1
            self._undo.append((change, rec))
            self.history.append(rec)
            self._last = change
            self._after("s.redo()")
        self._changed(None)
        return rec

    def _journal(self, entry: dict) -> None:
        if self.read_only and not self._replaying:
            raise ProjectError(f"{self.path} is open read-only here: {entry['op']} would change it")
        if not self._replaying:
            self.journal.append(entry)

    # ---- opening: snapshot + journal tail, or the whole journal ----------------------------------------------

    def _open(self) -> None:
        entries = self.journal.read(salvage=True)
        if self.journal.damage is not None:
            self._salvaged(*self.journal.damage)
        ahead = disk.snapshot_ahead(self.path, self.journal)
        if ahead is not None:
            self._reopen_snapshot(*ahead)
            return
        snap = disk.read_snapshot(self.path, self.journal)
        try:
            saved = None if snap is None else self._read_snapshot(snap[1])
        except ProjectError as e:
            warnings.warn(f"{e}: the project reopens from its journal instead", stacklevel=3)
            saved = snap = None  # the journal holds it all: replay that
        if snap is None:
            self._replay_from(model.new_timeline(self.name), entries, 0)
        else:
            self._replay_from(saved, entries, snap[0].entries)
        covered = 0 if snap is None else snap[0].entries
        if self.journal.entries != covered and not self.read_only:
            self._snapshot()  # the next reopen starts here

    def _read_snapshot(self, text: str) -> otio.schema.Timeline:
        try:
            return model.read_otio(text, f"the project's saved timeline {self.path / disk.TIMELINE}", check=True)
        except ProjectError:
            raise
        except Exception as e:
            raise ProjectError(f"cannot read the project's saved timeline: {e}") from e

    def _salvaged(self, line: int, offset: int) -> None:
        """The journal is damaged at ``line``: keep the edits before it, set the rest aside, and say so."""
        if self.read_only:
            raise ProjectError(f"{self.journal.path}, line {line}: damaged; open the project for editing to repair it")
        lost = self.journal.path.read_bytes()[offset:].count(b"\n") or 1
        aside = self.journal.set_aside(offset, time.strftime("%Y%m%d-%H%M%S"))
        warnings.warn(
            f"{self.journal.path}, line {line}, was damaged: the {self.journal.entries} edits before it were kept; "
            f"that line and what followed it ({lost} line(s)) were set aside in {aside.name}",
            stacklevel=4,
        )

    def _reopen_snapshot(self, snap: disk.Snapshot, text: str) -> None:
        """The journal lost edits the snapshot still holds: open the snapshot's timeline, and say so."""
        tl = self._read_snapshot(text)
        kept, aside = self.journal.entries, None
        if self.read_only or not model.is_project(tl):
            self._replay_from(tl, [], 0)
        else:
            if self.journal.size:
                aside = self.journal.set_aside(0, time.strftime("%Y%m%d-%H%M%S"))
                self.journal.read()
            self._replay_from(model.new_timeline(self.name), [], 0)
            self.open_timeline(self.path / disk.TIMELINE)
            self._snapshot()
        warnings.warn(
            f"{self.journal.path} holds {kept} of the {snap.entries} edits that {disk.TIMELINE} was saved after (it "
            f"was deleted, emptied or cut short): the project opens at that saved timeline, without the undo history "
            "before it" + (f"; the old journal is kept as {aside.name}" if not self.read_only and aside else ""),
            stacklevel=4,
        )

    def _replay_from(self, tl: otio.schema.Timeline, entries: list[dict], start: int) -> None:
        """Make ``tl`` (the state after ``entries[:start]``) the state, then replay the rest of the journal."""
        self._state = context.State(tl)
        self._undo, self._redo, self._behind = [], [], []
        self.history = History()
        for entry in entries[:start]:  # the history of what the snapshot holds, without running anything
            if entry["op"] == "undo":
                self._behind.append(self.history.pop())
            elif entry["op"] == "redo":
                self.history.append(self._behind.pop())
            else:
                self.history.append(Record.from_json(entry))
                self._behind.clear()
        self._partial = start > 0
        if not self._replay(entries[start:], offset=start):
            self._replay_from(model.new_timeline(self.name), entries, 0)  # an undo reached behind the snapshot

    def _replay(self, entries: list[dict], offset: int = 0) -> bool:
        """Replay journal entries onto the state; False if one needs undo steps this state does not hold."""
        self._replaying = True
        try:
            for n, entry in enumerate(entries, offset + 1):
                if entry["op"] in ("undo", "redo"):
                    if not (self._undo if entry["op"] == "undo" else self._redo):
                        return False
                    getattr(self, entry["op"])()
                    continue
                rec = Record.from_json(entry)
                fn = OPERATIONS.get(rec.op)
                if fn is None:  # a journal names operations only: nothing else of the Session runs on open
                    raise ProjectError(f"{self.journal.path}, entry {n} names {rec.op!r}, which is not an operation")
                self._saved = dict(rec.extra)  # what the op kept for replays (a probe, a timeline)
                try:
                    self._apply(rec.op, fn, rec.args, rec.kwargs)
                except NbeditError as e:
                    raise ProjectError(f"{self.journal.path}, entry {n} ({rec.code}) cannot be replayed: {e}") from e
        finally:
            self._replaying = False
            self._saved = {}
        return True

    def _replay_all(self) -> None:
        """Rebuild every undo step by replaying the whole journal (after a reopen from a snapshot)."""
        self._replay_from(model.new_timeline(self.name), self.journal.read(), 0)

    def _snapshot(self) -> None:
        if self.read_only:
            return
        with self.mutex:
            try:
                disk.write_snapshot(self.path, self.timeline.to_json_string(), self.journal)
                self._unsaved = 0
            except ProjectError as e:  # the journal holds the edits; the snapshot catches up later
                warnings.warn(str(e), stacklevel=3)

    def save(self, path: str | os.PathLike | None = None) -> Path:
        """Write the timeline as a plain ``.otio`` file (by default the project folder's snapshot, now)."""
        if path is None:
            self._snapshot()
            return self.path / disk.TIMELINE
        target = Path(path)
        if why := model.overwrites_source(self.timeline, target):
            raise ProjectError(f"cannot save to {target}: {why}; choose another name")
        with self.mutex:
            text = self.timeline.to_json_string()
        disk.atomic_write(target, text)
        return target

    def close(self) -> None:
        """Write the snapshot (so the next reopen replays nothing) and let another process edit the project."""
        if not self._closed:
            if self._unsaved:
                self._snapshot()
            self._closed = True
        if not self.read_only and not any(o is not self and o.path == self.path for o in _sessions.sessions):
            disk.release(self.path)

    # ---- recipes ------------------------------------------------------------------------------------------

    def recipe(self) -> str:
        """Python source that rebuilds this edit from scratch (media checked by sha256)."""
        from .record import recipe

        return recipe(self.name, self.history)

    def to_notebook(self, path: str | os.PathLike, *, render_to: str | None = None) -> Path:
        """Write the recipe as a notebook: a header, one cell per operation, and a render cell."""
        from .record import notebook, writes

        path = Path(path)
        if why := model.overwrites_source(self.timeline, path):
            raise ProjectError(f"cannot write the notebook to {path}: {why}; choose another name")
        from .provenance import provenance

        nbk = notebook(self.name, self.history, render_to=render_to)
        model.tag_recipe(nbk, self.name, provenance(self.timeline, self.history))
        disk.atomic_write(path, writes(nbk))
        return path

    @classmethod
    def from_otio(cls, path: str | os.PathLike, folder: str | os.PathLike | None = None) -> Session:
        """A new session (in ``folder``, or a scratch folder) whose timeline is read from an nbedit ``.otio``."""
        import tempfile

        session = cls(folder or tempfile.mkdtemp(prefix="nbedit-"), name=Path(path).stem)
        session.open_timeline(path)
        return session

    # ---- the verbs: each one operation function ---------------------------------------------------------------

    # project and media (nbedit.ops.edit)
    set_format = verb(edit.set_format)
    import_media = verb(edit.import_media)
    relink = verb(edit.relink)
    open_timeline = verb(edit.open_timeline)
    # placing and changing clips (nbedit.ops.edit)
    append = verb(edit.append)
    insert = verb(edit.insert)
    overwrite = verb(edit.overwrite)
    trim = verb(edit.trim)
    split = verb(edit.split)
    delete = verb(edit.delete)
    move = verb(edit.move)
    slip = verb(edit.slip)
    slide = verb(edit.slide)
    roll = verb(edit.roll)
    speed = verb(edit.speed)
    crossfade = verb(edit.crossfade)
    opacity = verb(edit.opacity)
    transform = verb(edit.transform)
    gain = verb(edit.gain)
    enable = verb(edit.enable)
    add_track = verb(edit.add_track)
    remove_track = verb(edit.remove_track)
    paste = verb(edit.paste)
    link = verb(edit.link)
    unlink = verb(edit.unlink)
    # track switches and markers (nbedit.ops.tracks, nbedit.ops.markers)
    mute = verb(track_ops.mute)
    solo = verb(track_ops.solo)
    lock = verb(track_ops.lock)
    add_marker = verb(marker_ops.add_marker)
    move_marker = verb(marker_ops.move_marker)
    change_marker = verb(marker_ops.change_marker)
    remove_marker = verb(marker_ops.remove_marker)
    # the compositing graph (nbedit.ops.graph)
    effect = verb(graph.effect)
    remove_effect = verb(graph.remove_effect)
    blend = verb(graph.blend)
    keyframe = verb(graph.keyframe)
    composite = verb(graph.composite)
    # AI editing tools (nbedit.ops.tools)
    interpolate = verb(tools.interpolate)
    mask = verb(tools.mask)
    reframe = verb(tools.reframe)
    upscale = verb(tools.upscale)
    # detectors: speech and shots as markers, cuts or splits (nbedit.ops.detect)
    speech = verb(detect.speech)
    remove_silence = verb(detect.remove_silence)
    detect_shots = verb(detect.detect_shots)
    # timelines from other tools (nbedit.interchange)
    import_timeline = verb(interchange.import_timeline)
    # generative clips (nbedit.ops.generate)
    generate = verb(generative.generate)
    image_to_video = verb(generative.image_to_video)
    stylize = verb(generative.stylize)
    regenerate = verb(generative.regenerate)
    extend = verb(generative.extend)
    fill_gap = verb(generative.fill_gap)
    retake = verb(generative.retake)
    generate_many = verb(sweep.generate_many)

    # ---- readers (not edits: nothing is recorded) ------------------------------------------------------------

    def markers(self) -> list[dict]:
        return marker_ops.markers(self.timeline, self.index)

    markers.__doc__ = marker_ops.markers.__doc__

    def effects(self, clip: Clip | str) -> list[dict]:
        return graph.effects(self.timeline, clip)

    effects.__doc__ = graph.effects.__doc__

    def generation(self, what: Clip | Media | str) -> dict | None:
        return generative.generation(self.timeline, self._state.index, what)

    generation.__doc__ = generative.generation.__doc__

    def export(self, path: str | os.PathLike) -> interchange.Exported:
        with self.mutex:  # the timeline as it is, not half of an edit another thread is making
            return interchange.export(self.timeline, path)

    export.__doc__ = interchange.export.__doc__

    @property
    def last_import_report(self) -> interchange.ImportReport | None:
        """The report of the latest ``import_timeline`` in the history (None if there is none)."""
        return interchange.last_import_report(self.history)

    def to_xarray(self, fps: int | float | str | None = None) -> Any:
        """The edit as an ``xarray.Dataset`` indexed by timeline frame: per track, the clip and media ids, the source
        frame shown, speed, opacity, gain and generation seed. ``ds = s.to_xarray()``; ``fps`` samples at another
        rate. See ``nbedit.analysis.to_xarray``."""
        from .analysis import to_xarray

        return to_xarray(self.timeline, fps=fps)

    def frames(self, start: Time | None = None, end: Time | None = None, *, chunk: int = 16) -> Any:
        """The composited frames from ``start`` to ``end`` seconds as a lazy ``xarray.DataArray`` (time, y, x,
        channel), ``chunk`` frames per dask chunk. ``s.frames(0, 2).mean(("y", "x")).compute()``"""
        from .analysis import frames

        return frames(self.timeline, start, end, chunk=chunk)

    # ---- pictures and sound ---------------------------------------------------------------------------

    def frame(self, t: Time) -> np.ndarray:
        """The composited picture at timeline time ``t``: a (height, width, 3) uint8 RGB array."""
        with self.mutex:  # the compositor reads the live timeline: not while another thread edits it
            if not self.format:
                raise TimeRangeError("the timeline is empty: there is no frame to show")
            n = frame_at(t, self.fps)
            end = self.end_frame()
            if not 0 <= n < max(end, 1):
                raise TimeRangeError(f"t={t} is outside the timeline (0 to {seconds(end, self.fps):.3f} s)")
            comp = self._compositor
            if comp is None or comp.version != self.version:
                comp = Compositor(self.timeline, self.sources, version=self.version, index=self.index, reuse=comp)
                self._compositor = comp
            return comp.frame(n)

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
        progress: bool | Callable[[int, int], None] = True,
        recipe: bool = True,
        scheduler: str = "local",
        client: Any = None,
        segments: int | None = None,
        smart: bool | None = None,
        hardware: str = "auto",
    ) -> Path:
        """Render the timeline (or ``start``..``end`` seconds of it) to an H.264 + AAC file, atomically.

        ``s.render("out.mp4", size=(1280, 720), crf=20)``: the file appears only when it is complete. It shows the
        timeline as it was when the call began: edits made meanwhile (from the editor's thread) reach the next one.
        ``progress`` shows a bar, or is a function called with (frames done, frames in all) as the render goes.
        The file carries the recipe that rebuilds it (``nbedit recipe out.mp4``, ``Session.from_render``) in its
        comment tag, which survives remuxing; ``recipe=False`` leaves it out.

        ``scheduler="dask"`` renders ``segments`` pieces of whole GOPs on a Dask cluster (``client``, else the
        default client) and joins them without re-encoding: ``s.render("out.mp4", scheduler="dask",
        client=Client("tcp://scheduler:8786"))``; workers need nbedit and the media at the same paths.
        ``scheduler="segments"`` renders the same pieces here, one after another (see ``nbedit.distributed``).

        ``s.render("cut.mp4", smart=True)`` copies whole GOPs of source frames shown unchanged instead of encoding
        them again (nbedit.smart): None (the default) does so when the size, rate and container allow it, True
        does or says why it cannot, False never does.

        ``hardware="auto"`` encodes with NVENC and composites on CUDA where this machine has them (``nbedit.hardware()``
        says), else on the CPU exactly as ``"cpu"``; ``"cuda"`` insists, and says before any file is made when it
        cannot. NVENC's bytes depend on the GPU and driver: its renders verify by their pictures, within its loss.
        """
        if smart is not None and not isinstance(smart, bool):
            raise EditError(f"smart must be True, False or None, not {smart!r}")
        with self.mutex:  # a copy: the render's threads read it for minutes while other threads may edit
            timeline, length, fmt = self.timeline.deepcopy(), self.end_frame(), self.format
            # the recipe renders as this call does (its own file name left out: the bytes never depend on it)
            given = dict(size=size, fps=fps, crf=crf, preset=preset, start=start, end=end, audio=audio, smart=smart)
            given["hardware"] = hardware
            options = {k: v for k, v in given.items() if v != RENDER_DEFAULTS[k]}
            tags = self._recipe_tags(options) if recipe and fmt else None
        if not fmt or not length:
            raise EditError("nothing to render: the timeline is empty")
        rate = model.edit_rate(timeline)
        width, height = args.even_size(*(size or (fmt["width"], fmt["height"])), what="render size")
        out_fps = rate if fps is None else args.rate(fps)
        crf = args.whole(crf, "crf", lo=0, hi=51)
        args.choice(preset, X264_PRESETS, "preset")
        # the frames on screen from start until end, as frame(t) counts them
        first = 0 if start is None else frame_at(start, rate, what="start")
        last = length if end is None else math.ceil(as_seconds(end, what="end") * rate - 1e-6)
        if not 0 <= first < last <= length:
            raise TimeRangeError(f"render range {start}..{end} is empty or outside the timeline")
        settings = RenderSettings(
            width, height, out_fps, first, last, crf=crf, preset=preset, audio=audio, hardware=hardware
        )
        engines(settings)  # what this machine lacks is said now, before any file is made
        if scheduler != "local":
            if smart:
                raise EditError(f"smart=True copies GOPs in this process: it does not go with scheduler={scheduler!r}")
            from .distributed import render as render_segments

            return render_segments(
                timeline, path, settings, scheduler=scheduler, client=client, segments=segments, progress=progress,
                tags=tags,
            )
        if client is not None or segments is not None:
            raise EditError("client and segments go with scheduler='dask' or scheduler='segments'")
        return smart_render(timeline, path, settings, smart=smart, progress=progress, tags=tags)

    def _recipe_tags(self, options: dict) -> dict[str, str]:
        from .provenance import provenance, render_tags
        from .record import notebook, writes

        nbk = notebook(self.name, self.history, render_options=options)
        model.tag_recipe(nbk, self.name, provenance(self.timeline, self.history))
        summary = {
            "name": self.name,
            "clips": len(self.clips),
            "seconds": round(self.duration, 3),
            "fps": str(self.fps),
            "tracks": self.tracks,
            "media": sorted(self.media),
        }
        return render_tags(writes(nbk), summary)

    @classmethod
    def from_render(
        cls,
        path: str | os.PathLike,
        folder: str | os.PathLike | None = None,
        *,
        search: Any = (),
        progress: bool = True,
    ) -> Session:
        """The session that rendered ``path``, rebuilt from the recipe inside the file (in ``folder``, a new
        project folder, or a scratch one). ``s = nbedit.Session.from_render("out.mp4", "rebuilt")``"""
        import tempfile

        from .recipes import recipe_of_render, replay

        with tempfile.TemporaryDirectory(prefix="nbedit-from-render-") as d:
            nb = recipe_of_render(path, Path(d) / "recipe.ipynb")
            return replay(nb, project=folder, search=search, progress=progress).session

    # ---- widgets (imported only when asked for: anywidget is not light) -------------------------------------

    def ui(self) -> Any:
        """The editor: preview, transport and timeline, bound to this session. ``s.ui()``"""
        from .widgets import Editor

        return Editor(self)

    def preview(self) -> Any:
        """Just the preview and transport. ``s.preview()``"""
        from .widgets import Editor

        return Editor(self, parts="preview")

    def timeline_widget(self) -> Any:
        """Just the timeline. ``s.timeline_widget()``"""
        from .widgets import Editor

        return Editor(self, parts="timeline")


# ---- snapshots in the background ------------------------------------------------------------------------------


class _Snapshots:
    """One daemon thread that writes the snapshot of every session idle for SNAPSHOT_IDLE seconds."""

    def __init__(self) -> None:
        self.sessions: weakref.WeakSet[Session] = weakref.WeakSet()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, s: Session) -> None:
        self.sessions.add(s)

    def wake(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="nbedit-snapshots", daemon=True)
            self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait(timeout=SNAPSHOT_IDLE)
            self._wake.clear()
            now = time.monotonic()
            for s in list(self.sessions):
                if s._unsaved and not s._closed and now - s._edited_at >= SNAPSHOT_IDLE:
                    s._snapshot()

    def flush(self) -> None:
        for s in list(self.sessions):
            s.close()


_snapshots = _Snapshots()
_sessions = _snapshots
atexit.register(_snapshots.flush)
