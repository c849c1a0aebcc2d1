"""The edit context: the one mechanism that makes a plain function an atomic, checked, undoable edit.

An operation is a function ``def trim(e: Edit, clip, *, src_in=None, ...)``. It reads the project through ``e``
and changes it only through ``e``'s methods, which keep, for every track they touch, the children it had when the
edit began. When the function returns, :meth:`Edit.finish` checks the invariants of the part of each track that
changed and folds what happened into a :class:`Change`: per track, the one run of children that differs
(``old`` -> ``new``), and the metadata values it replaced. A Change is applied backwards for undo (or when the
function raises) and forwards for redo; it holds only what changed, so an edit of one clip on a timeline of
thousands copies one clip, checks a handful and keeps a handful for undo.

Items on the timeline are values: ``e.own(track, i)`` swaps in a copy before anything in it changes, so the
children kept for undo (and a compositor's plan made before the edit) still show the state they came from.

What a replay needs beyond the call's arguments goes through ``e.pin(name=value)`` (a resolved value recorded as
an argument: a full path, a sha256, a seed) and ``e.keep(key=value)`` (journal-only data such as a media probe,
given back to the replayed call as ``e.saved``).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import opentimelineio as otio

from .. import model
from ..errors import EditError
from ..index import TimelineIndex, TrackIndex
from ..model import ClipId, MediaId  # noqa: F401 - what operations return
from ..record import Record, literal
from ..timeline import Time, ensure_track_order, frame_at, to_frames, track_kind

MISSING = object()


class State:
    """The live project: the OTIO timeline, its index, and a version that grows with every change."""

    def __init__(self, timeline: otio.schema.Timeline):
        self.timeline = timeline
        self.index = TimelineIndex(timeline)
        self.version = 0

    @property
    def rate(self) -> Fraction:
        return model.edit_rate(self.timeline)


@dataclass
class Env:
    """What an operation may use besides the timeline: the project folder, models, decoders, progress bars."""

    folder: Path
    models: Callable[[], Any] | None = None  # the session's ModelPool, made on first use
    sources: Any = None
    cache: Any = None
    progress: bool = True


# ---- what an edit changed -----------------------------------------------------------------------------------


@dataclass
class Splice:
    track: TrackIndex
    at: int
    old: list
    new: list


@dataclass
class MetaSet:
    target: Any  # the timeline or a track
    path: tuple[str, ...]  # keys under metadata["nbedit"]
    old: Any
    new: Any


@dataclass
class AttrSet:
    target: Any  # an OTIO object (a track's ``enabled``; a marker list's owner)
    name: str  # an attribute, or "markers" for the object's marker list
    old: Any
    new: Any

    def apply(self, value: Any) -> None:
        if self.name == "markers":
            markers = self.target.markers
            markers[:] = [m.deepcopy() for m in value]
        else:
            setattr(self.target, self.name, value)


@dataclass
class Change:
    """One edit's effect on the state, which can be applied backwards (undo) and forwards again (redo)."""

    splices: list[Splice] = field(default_factory=list)
    meta: list[MetaSet] = field(default_factory=list)
    attrs: list[AttrSet] = field(default_factory=list)
    tracks: tuple[list, list] | None = None  # the timeline's track list before and after
    # ((old timeline, its index), (new timeline, its index)) when an edit replaced the timeline whole: the index
    # goes with its timeline, as the undo records of earlier edits name its track indexes
    timeline: tuple[tuple[Any, Any], tuple[Any, Any]] | None = None

    @property
    def touched(self) -> set[str]:
        """Names of the tracks whose children changed (all of them when the timeline was replaced)."""
        if self.timeline is not None:
            return {t.name for t in self.timeline[1][0].tracks} | {t.name for t in self.timeline[0][0].tracks}
        names = {s.track.name for s in self.splices}
        targets = [m.target for m in self.meta] + [a.target for a in self.attrs]
        return names | {t.name for t in targets if isinstance(t, otio.schema.Track)}

    @property
    def empty(self) -> bool:
        return not (self.splices or self.meta or self.attrs or self.tracks or self.timeline)

    def undo(self, state: State) -> None:
        if self.timeline is not None:
            state.timeline, state.index = self.timeline[0]
            return
        for a in reversed(self.attrs):
            a.apply(a.old)
            _bump(state, a.target)
        for m in reversed(self.meta):
            _set_meta(m.target, m.path, m.old)
            _bump(state, m.target)
        for s in reversed(self.splices):
            s.track.splice(s.at, s.at + len(s.new), list(s.old), state.index.where)
        if self.tracks is not None:
            _set_tracks(state, self.tracks[0])

    def redo(self, state: State) -> None:
        if self.timeline is not None:
            state.timeline, state.index = self.timeline[1]
            return
        if self.tracks is not None:
            _set_tracks(state, self.tracks[1])
        for s in self.splices:
            s.track.splice(s.at, s.at + len(s.old), list(s.new), state.index.where)
        for m in self.meta:
            _set_meta(m.target, m.path, m.new)
            _bump(state, m.target)
        for a in self.attrs:
            a.apply(a.new)
            _bump(state, a.target)

    def made(self, state: State) -> tuple[str, ...]:
        """Ids of the clips this edit made, in timeline order."""
        if self.timeline is not None:
            old = {model.item_id(c) for c in self.timeline[0][0].find_clips()}
            return tuple(cid for cid in state.index.clip_ids() if cid not in old)
        gone = {model.item_id(c) for s in self.splices for c in s.old if isinstance(c, otio.schema.Clip)}
        order = {t.name: k for k, t in enumerate(state.timeline.tracks)}
        runs = sorted(self.splices, key=lambda s: (order.get(s.track.name, len(order)), s.at))
        return tuple(
            cid
            for s in runs
            for c in s.new
            if isinstance(c, otio.schema.Clip) and (cid := model.item_id(c)) not in gone
        )


def _set_timeline(state: State, tl: Any) -> None:
    state.timeline = tl
    state.index = TimelineIndex(tl)


def _set_tracks(state: State, tracks: list) -> None:
    stack = state.timeline.tracks
    present = {id(t) for t in tracks}
    for t in list(stack):
        if id(t) not in present:
            state.index.drop(t.name)
    was = {id(t) for t in stack}
    stack.clear()
    for t in tracks:
        stack.append(t)
        if id(t) not in was:
            state.index.add(t)


def _bump(state: State, target: Any) -> None:
    """A track's own data changed: its version moves, so views of it (a compositor's) are made again."""
    if isinstance(target, otio.schema.Track):
        ti = state.index.track(target.name)
        if ti is not None and ti.track is target:
            ti.version += 1


def _get_attr(target: Any, name: str) -> Any:
    if name == "markers":
        return [m.deepcopy() for m in target.markers]
    return getattr(target, name)


def _get_meta(target: Any, path: tuple[str, ...]) -> Any:
    d = model.data(target)
    for k in path:
        if k not in d:
            return MISSING
        d = d[k]
    return model.plain(d)


def _set_meta(target: Any, path: tuple[str, ...], value: Any) -> None:
    if value is MISSING:  # removing what is not there creates nothing: a switch turned off reads as never turned on
        d = model.data(target)
        for k in path[:-1]:
            if k not in d:
                return
            d = d[k]
        if path[-1] in d:
            del d[path[-1]]
            model.prune(target)
        return
    d = model.nb(target)
    for k in path[:-1]:
        d = d[k]
    d[path[-1]] = value


# ---- the context an operation sees ----------------------------------------------------------------------------


class Edit:
    """What an operation may read and change. See the module docstring for the rules."""

    def __init__(self, state: State, env: Env, *, replaying: bool = False, saved: dict | None = None):
        self.state = state
        self.env = env
        self.replaying = replaying
        self.saved = saved or {}
        if replaying and "info" in self.saved:  # what the journal says a file was: checked like a project file
            model.check_entry(self.saved["info"], "the media kept in the journal")
        self.pins: dict[str, Any] = {}
        self.kept: dict[str, Any] = {}
        self._before: dict[int, tuple[TrackIndex, list]] = {}
        self._meta: dict[tuple[int, tuple], MetaSet] = {}
        self._attrs: dict[tuple[int, str], AttrSet] = {}
        self._tracks_before: list | None = None
        self._timeline_before: Any = None
        self._fresh: set[int] = set()
        self._full_check = False

    # ---- reading --------------------------------------------------------------------------------------------

    @property
    def timeline(self) -> otio.schema.Timeline:
        return self.state.timeline

    @property
    def index(self) -> TimelineIndex:
        return self.state.index

    @property
    def folder(self) -> Path:
        return self.env.folder

    @property
    def rate(self) -> Fraction:
        return self.state.rate

    @property
    def format(self) -> dict | None:
        return model.format_of(self.timeline)

    def frames(self, t: Time, what: str) -> int:
        """A user time (seconds or RationalTime) in whole frames at the edit rate, rounded to the nearest."""
        return to_frames(t, self.rate, what=what)

    def opt_frames(self, t: Time | None, what: str) -> int | None:
        return None if t is None else self.frames(t, what)

    def frame_at(self, t: Time, what: str) -> int:
        return frame_at(t, self.rate, what=what)

    def clip_id(self, clip: Any) -> str:
        cid = clip if isinstance(clip, str) else getattr(clip, "id", None)
        if not isinstance(cid, str):
            raise EditError(f"a clip is given by its id (like 'c3') or a Clip, not {clip!r}")
        return cid

    def media_id(self, media: Any) -> str:
        mid = media if isinstance(media, str) else getattr(media, "id", None)
        if not isinstance(mid, str):
            raise EditError(f"media is given by its pool id or a Media, not {media!r}")
        model.media_entry(self.timeline, mid)
        return mid

    def entry(self, media_id: str) -> Any:
        return model.media_entry(self.timeline, media_id)

    def find(self, clip: Any) -> tuple[TrackIndex, int]:
        """The track (its index) holding a clip and the clip's child index there."""
        return self.index.find(self.clip_id(clip))

    def track(self, name: str) -> TrackIndex:
        ti = self.index.track(name)
        if ti is None:
            from ..errors import ClipNotFoundError

            names = ", ".join(t.name for t in self.timeline.tracks) or "none yet"
            raise ClipNotFoundError(f"no track named {name!r} (tracks: {names})")
        return ti

    # ---- replay data ----------------------------------------------------------------------------------------

    def pin(self, **values: Any) -> None:
        """Record these resolved values as arguments of the call, so a replay resolves nothing."""
        self.pins.update(values)

    def keep(self, **data: Any) -> None:
        """Keep journal-only data for replays of this call (they find it in ``e.saved``)."""
        self.kept.update(data)

    def inner(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run another operation as part of this one: its pins and kept data are its own, not this call's."""
        pins, kept, saved = self.pins, self.kept, self.saved
        self.pins, self.kept, self.saved = {}, {}, {}
        try:
            return fn(self, *args, **kwargs)
        finally:
            self.pins, self.kept, self.saved = pins, kept, saved

    # ---- changing tracks --------------------------------------------------------------------------------------

    def _touch(self, ti: TrackIndex) -> None:
        if self._timeline_before is not None and ti.track.parent() is None:
            raise AssertionError("a track of a replaced timeline changed")
        if id(ti) not in self._before:
            if model.track_flags(ti.track)["lock"]:
                raise EditError(f"track {ti.name} is locked: unlock it first (s.lock({ti.name!r}, False))")
            self._before[id(ti)] = (ti, list(ti.items))

    def splice(self, ti: TrackIndex, i: int, j: int, new: list) -> list:
        """Replace children [i, j) of a track by ``new``; returns what was taken out."""
        self._touch(ti)
        for item in new:
            self._fresh.add(id(item))
        return ti.splice(i, j, list(new), self.index.where)

    def insert(self, ti: TrackIndex, i: int, item: Any) -> None:
        self.splice(ti, i, i, [item])

    def remove(self, ti: TrackIndex, i: int) -> Any:
        return self.splice(ti, i, i + 1, [])[0]

    def own(self, ti: TrackIndex, i: int) -> Any:
        """Child i, made safe to change in place (a copy is swapped in unless this edit made it)."""
        item = ti.items[i]
        if id(item) in self._fresh:
            return item
        copy = item.deepcopy()
        self.splice(ti, i, i + 1, [copy])
        return copy

    def changed(self, ti: TrackIndex, i: int) -> None:
        """Child i (owned by this edit) was changed in place: read its duration and id again."""
        if id(ti.items[i]) not in self._fresh:
            raise AssertionError("an item changed in place without e.own()")
        ti.refresh(i, self.index.where)

    def set_source(self, ti: TrackIndex, i: int, start: Fraction | int, duration: int) -> Any:
        """Give child i (a clip or gap) a new source start and duration in frames."""
        item = self.own(ti, i)
        model.set_source(item, start, duration, self.rate)
        ti.refresh(i, self.index.where)
        return item

    def set_clip(self, clip: Any, key: str, value: Any) -> Any:
        """Set ``metadata["nbedit"][key]`` of a clip (MISSING removes it); returns the clip's new copy."""
        ti, i = self.find(clip)
        item = self.own(ti, i)
        d = model.nb(item)
        if value is MISSING:
            d.pop(key, None)
        else:
            d[key] = value
        if key == "id":
            ti.refresh(i, self.index.where)
        return item

    def ensure_track(self, name: str) -> TrackIndex:
        """The track called ``name``, created (in V1.., A1.. order) if it does not exist yet."""
        ti = self.index.track(name)
        if ti is not None:
            return ti
        track_kind(name)
        if self._tracks_before is None:
            self._tracks_before = list(self.timeline.tracks)
        track = otio.schema.Track(name=name, kind=track_kind(name))
        ensure_track_order(self.timeline, track)
        return self.index.add(track)

    def remove_track(self, name: str) -> None:
        ti = self.track(name)
        if self._tracks_before is None:
            self._tracks_before = list(self.timeline.tracks)
        self.timeline.tracks.remove(ti.track)
        self.index.drop(name)

    # ---- changing metadata ------------------------------------------------------------------------------------

    def set_meta(self, target: Any, path: tuple[str, ...], value: Any) -> None:
        """Set (MISSING: remove) ``target.metadata["nbedit"][path...]``; target is the timeline or a track."""
        key = (id(target), path)
        if key not in self._meta:
            self._meta[key] = MetaSet(target, path, _get_meta(target, path), None)
        _set_meta(target, path, value)
        _bump(self.state, target)

    def set_enabled(self, ti: TrackIndex, value: bool) -> None:
        """Turn a track on or off (OTIO's ``enabled``: what other editors call a muted or hidden track)."""
        self._set_attr(ti.track, "enabled", bool(value))

    def set_markers(self, target: Any, markers: list) -> None:
        """Give the timeline (``e.timeline.tracks``) or a track its list of markers; a clip's markers change on
        its own copy (``e.own``)."""
        self._set_attr(target, "markers", list(markers))

    def _set_attr(self, target: Any, name: str, value: Any) -> None:
        key = (id(target), name)
        if key not in self._attrs:
            self._attrs[key] = AttrSet(target, name, _get_attr(target, name), None)
        self._attrs[key].apply(value)
        _bump(self.state, target)

    def set_timeline_data(self, key: str, value: Any) -> None:
        if key == "format":
            self._full_check = True
        self.set_meta(self.timeline, (key,), value)

    def add_media(self, media_id: str, entry: dict) -> None:
        if media_id in model.pool(self.timeline):
            self._full_check = True  # an entry changed: clips of it may now read past its end
        if "media" not in model.data(self.timeline):
            self.set_meta(self.timeline, ("media",), {})
        self.set_meta(self.timeline, ("media", media_id), entry)

    def set_track_data(self, name: str, key: str, value: Any) -> None:
        self.set_meta(self.track(name).track, (key,), value)

    def new_id(self, prefix: str = "c") -> str:
        n = model.next_id(self.timeline)
        self.set_timeline_data("next_id", n + 1)
        return f"{prefix}{n}"

    def replace_timeline(self, tl: otio.schema.Timeline) -> None:
        """Make ``tl`` the project's timeline (undo brings the old one back whole)."""
        if self._before or self._meta or self._attrs or self._tracks_before is not None:
            raise AssertionError("replace_timeline must be an edit's only change")
        model.validate(tl, "the timeline kept in the journal" if self.replaying else "cannot open this timeline")
        if self._timeline_before is None:
            self._timeline_before = (self.timeline, self.index)
        _set_timeline(self.state, tl)

    # ---- the end of an edit ---------------------------------------------------------------------------------

    def _fold(self) -> Change:
        if self._timeline_before is not None:
            return Change(timeline=(self._timeline_before, (self.timeline, self.index)))
        change = Change()
        for ti, before in self._before.values():
            after = ti.items
            n, m = len(before), len(after)
            lo = 0
            while lo < n and lo < m and before[lo] is after[lo]:
                lo += 1
            hi = 0
            while hi < n - lo and hi < m - lo and before[n - 1 - hi] is after[m - 1 - hi]:
                hi += 1
            if lo == n and lo == m:
                continue
            change.splices.append(Splice(ti, lo, before[lo : n - hi], after[lo : m - hi]))
        for ms in self._meta.values():
            ms.new = _get_meta(ms.target, ms.path)
            if ms.new != ms.old:
                change.meta.append(ms)
        for a in self._attrs.values():
            a.new = _get_attr(a.target, a.name)
            change.attrs.append(a)
        if self._tracks_before is not None:
            change.tracks = (self._tracks_before, list(self.timeline.tracks))
        return change

    def finish(self) -> Change:
        """Check what changed and fold it into a Change (the edit is then done: commit or undo it)."""
        change = self._fold()
        self._check(change)
        return change

    def rollback(self) -> None:
        """Take back everything this edit did (it raised)."""
        self._fold().undo(self.state)

    def _check(self, change: Change) -> None:
        tl = self.timeline
        if not model.format_of(tl):
            return
        if self._full_check or change.timeline is not None or change.tracks is not None:
            for ti in self.index.tracks.values():
                placed, cuts = ti.layout()
                model.check_items(tl, placed, cuts)
                model.check_length(tl, ti.name, ti.end)
            return
        for s in change.splices:
            ti = s.track
            if ti.track.parent() is None:
                continue
            lo, hi = s.at - 2, s.at + len(s.new) + 2
            model.check_items(tl, ti.window(lo, hi), ti.cuts(max(lo - 1, 0), hi + 1))
            model.check_length(tl, ti.name, ti.end)


# ---- running an operation -------------------------------------------------------------------------------------


def public_signature(fn: Callable[..., Any]) -> inspect.Signature:
    """An operation's signature as users call it: ``(self, clip, *, src_in=None, ...)`` without the Edit."""
    sig = inspect.signature(fn)
    params = list(sig.parameters.values())[1:]
    me = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sig.replace(parameters=[me, *params])


@dataclass
class Outcome:
    result: Any
    change: Change
    record: Record


def run(
    state: State,
    env: Env,
    name: str,
    fn: Callable[..., Any],
    args: tuple,
    kwargs: dict,
    *,
    replaying: bool = False,
    saved: dict | None = None,
) -> Outcome:
    """Run operation ``fn`` on the state: all of it happens and is checked, or (it raised) none of it.

    The caller commits the Outcome (journal, history, undo) or applies ``outcome.change.undo`` if it cannot.
    """
    signature = _signature(fn)
    try:
        bound = signature.bind(None, *args, **kwargs)
    except TypeError as e:
        raise EditError(f"{name}: {e}") from None
    values, opaque = {}, {}
    for k, v in list(bound.arguments.items())[1:]:
        try:
            values[k] = literal(v)
        except TypeError as err:  # e.g. a numpy picture: fine if the op pins a literal for it (a saved file)
            opaque[k] = err
    e = Edit(state, env, replaying=replaying, saved=saved)
    try:
        result = fn(e, *args, **kwargs)
        change = e.finish()
    except BaseException:
        e.rollback()
        raise
    try:
        values.update(e.pins)  # what the call resolved (a full path, a sha256): replays must match
        for k, err in opaque.items():
            if k not in values:
                raise EditError(f"{name}: {err}")
        rec = _record(name, signature, values, change.made(state), e.kept)
    except BaseException:
        change.undo(state)
        raise
    state.version += 1
    return Outcome(result, change, rec)


@functools.cache
def _signature(fn: Callable[..., Any]) -> inspect.Signature:
    return public_signature(fn)


def _record(name: str, signature: inspect.Signature, values: dict, made: tuple, kept: dict) -> Record:
    params = list(signature.parameters.values())[1:]
    order = [p.name for p in params]  # pinned values take their place, so a replay reads the same
    values = dict(sorted(values.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))
    required = [p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD and p.default is p.empty]
    lead = [k for k in required if k in values]  # required arguments read best positionally
    positional = tuple(values.pop(k) for k in lead)
    return Record(name, positional, values, made, kept)
