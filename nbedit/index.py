"""Where everything sits, without walking the timeline: a mirror of each track's children kept beside it.

Reading an OTIO item's duration or id goes through the bindings (microseconds each), so walking 5,000 clips for
every lookup costs tens of milliseconds. ``TrackIndex`` keeps each track's children with their ids and whole-frame
durations in plain lists, changed only by :meth:`TrackIndex.splice` together with the OTIO track, and
``TimelineIndex`` maps clip ids to tracks. Positions are prefix sums computed when asked for after a change.

Items on the timeline are values: an edit that changes one swaps in a changed copy (``ops.context.Edit``), so a
list of items taken earlier (an undo record, a compositor's plan) still describes the state it was taken from.
"""

from __future__ import annotations

import bisect
from itertools import accumulate
from typing import Any

import opentimelineio as otio

from .errors import ClipNotFoundError
from .model import item_id
from .timeline import Cut, Placed, frames_of, track_kind

Transition = otio.schema.Transition
OtioClip = otio.schema.Clip


def _entry(child: Any) -> tuple[str | None, int, bool]:
    if isinstance(child, Transition):
        return None, 0, True
    return (item_id(child) if isinstance(child, OtioClip) else None), frames_of(child.source_range.duration), False


class TrackIndex:
    """One track's children, their clip ids (None for gaps and transitions) and durations in frames."""

    __slots__ = ("track", "items", "ids", "dur", "trans", "version", "_starts")

    def __init__(self, track: otio.schema.Track):
        self.track = track
        self.items: list[Any] = list(track)
        rows = [_entry(c) for c in self.items]
        self.ids = [r[0] for r in rows]
        self.dur = [r[1] for r in rows]
        self.trans = [i for i, r in enumerate(rows) if r[2]]  # indices of transitions, in order
        self.version = 0  # grows with every change of the track's children or its own data
        self._starts: list[int] | None = None

    @property
    def name(self) -> str:
        return self.track.name

    @property
    def kind(self) -> str:
        return self.track.kind

    def __len__(self) -> int:
        return len(self.items)

    @property
    def starts(self) -> list[int]:
        if self._starts is None:
            self._starts = [0, *accumulate(self.dur)]
        return self._starts

    @property
    def end(self) -> int:
        return self.starts[-1]

    def placed(self, i: int) -> Placed:
        return Placed(self.items[i], i, self.starts[i], self.dur[i])

    def index_of(self, clip_id: str) -> int:
        return self.ids.index(clip_id)

    def at(self, frame: int) -> int | None:
        """Index of the clip or gap on screen at ``frame`` (None past the end)."""
        starts = self.starts
        if not 0 <= frame < starts[-1]:
            return None
        i = bisect.bisect_right(starts, frame) - 1
        while self.dur[i] == 0:  # transitions take no time: the item they precede starts here
            i += 1
        return i

    def neighbour(self, i: int, step: int) -> int | None:
        """The nearest clip or gap before (step -1) or after (+1) child i."""
        j = i + step
        while 0 <= j < len(self.items):
            if not isinstance(self.items[j], Transition):
                return j
            j += step
        return None

    def cut(self, t: int) -> Cut:
        """The transition at child index ``t`` with the items it joins."""
        tr = self.items[t]
        b, a = self.neighbour(t, -1), self.neighbour(t, +1)
        if b is None or a is None:
            from .errors import EditError

            raise EditError(f"transition {tr.name!r} must sit between two clips")
        before, after = self.placed(b), self.placed(a)
        return Cut(tr, t, after.start, frames_of(tr.in_offset), frames_of(tr.out_offset), before, after)

    def cuts(self, lo: int = 0, hi: int | None = None) -> list[Cut]:
        """Transitions whose child index lies in [lo, hi)."""
        hi = len(self.items) if hi is None else hi
        first, last = bisect.bisect_left(self.trans, lo), bisect.bisect_left(self.trans, hi)
        return [self.cut(t) for t in self.trans[first:last]]

    def layout(self) -> tuple[list[Placed], list[Cut]]:
        """Every clip and gap with its position, and every transition (as ``timeline.layout`` gives them)."""
        starts = self.starts
        placed = [
            Placed(c, i, starts[i], self.dur[i]) for i, c in enumerate(self.items) if not isinstance(c, Transition)
        ]
        return placed, self.cuts()

    def window(self, lo: int, hi: int) -> list[Placed]:
        lo, hi = max(lo, 0), min(hi, len(self.items))
        return [self.placed(i) for i in range(lo, hi) if not isinstance(self.items[i], Transition)]

    def splice(self, i: int, j: int, new: list[Any], where: dict[str, TrackIndex] | None = None) -> list[Any]:
        """Replace children [i, j) by ``new`` in the OTIO track and here; returns the children taken out."""
        old = self.items[i:j]
        track = self.track
        for _ in range(j - i):
            del track[i]
        for k, item in enumerate(new):
            track.insert(i + k, item)
        rows = [_entry(c) for c in new]
        self.items[i:j] = new
        old_ids = self.ids[i:j]
        self.ids[i:j] = [r[0] for r in rows]
        self.dur[i:j] = [r[1] for r in rows]
        shift = len(new) - (j - i)
        k = bisect.bisect_left(self.trans, i)
        self.trans[k:] = [i + m for m, r in enumerate(rows) if r[2]] + [t + shift for t in self.trans[k:] if t >= j]
        self._starts = None
        self.version += 1
        if where is not None:
            for cid in old_ids:
                if cid is not None and where.get(cid) is self:
                    del where[cid]
            for r in rows:
                if r[0] is not None:
                    where[r[0]] = self
        return old

    def refresh(self, i: int, where: dict[str, TrackIndex] | None = None) -> None:
        """Child i was changed in place (an item this edit made): read its id and duration again."""
        cid, dur, _ = _entry(self.items[i])
        old = self.ids[i]
        if old != cid and where is not None:
            if old is not None and where.get(old) is self:
                del where[old]
            if cid is not None:
                where[cid] = self
        self.ids[i] = cid
        self.version += 1
        if dur != self.dur[i]:
            self.dur[i] = dur
            self._starts = None


class TimelineIndex:
    """Every track's index, by name, and which track holds each clip id."""

    def __init__(self, timeline: otio.schema.Timeline):
        self.timeline = timeline
        self.rebuild()

    def rebuild(self) -> None:
        self.tracks: dict[str, TrackIndex] = {}
        self.where: dict[str, TrackIndex] = {}
        # tracks taken off the timeline keep their index: undo records name it, and the track comes back unchanged
        self._retired: dict[int, TrackIndex] = {}
        for t in self.timeline.tracks:
            self.add(t)

    def add(self, track: otio.schema.Track) -> TrackIndex:
        ti = self._retired.pop(id(track), None)
        if ti is None:  # not "or": a retired index an undo emptied is falsy, yet its redo splices name it
            ti = TrackIndex(track)
        self.tracks[track.name] = ti
        for cid in ti.ids:
            if cid is not None:
                self.where[cid] = ti
        return ti

    def drop(self, name: str) -> None:
        ti = self.tracks.pop(name)
        self._retired[id(ti.track)] = ti
        for cid in ti.ids:
            if cid is not None and self.where.get(cid) is ti:
                del self.where[cid]

    def track(self, name: str) -> TrackIndex | None:
        return self.tracks.get(name)

    def find(self, clip_id: str) -> tuple[TrackIndex, int]:
        """The track index holding a clip, and the clip's child index there."""
        ti = self.where.get(clip_id) if isinstance(clip_id, str) else None
        if ti is None:
            raise ClipNotFoundError(f"no clip with id {clip_id!r} on the timeline")
        return ti, ti.index_of(clip_id)

    def locate(self, clip_id: str) -> tuple[otio.schema.Track, Placed]:
        ti, i = self.find(clip_id)
        return ti.track, ti.placed(i)

    def clip_ids(self) -> list[str]:
        """Every clip id, track by track (V1.., then A1..) and in time order on each: the timeline's order."""
        return [cid for t in self.timeline.tracks for cid in self.tracks[t.name].ids if cid is not None]

    def end(self) -> int:
        return max((ti.end for ti in self.tracks.values()), default=0)

    def kind_of(self, name: str) -> str:
        return track_kind(name)
