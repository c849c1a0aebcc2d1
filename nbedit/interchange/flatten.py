"""Flattening: nested sequences and compound clips in a foreign track become plain clips of that track."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import opentimelineio as otio
from opentimelineio.opentime import RationalTime, TimeRange

from .fcp7 import time_remap

Schema = otio.schema


def flat_items(track: Schema.Track, notes: list[str], path: Path, rate: float | None = None) -> list[Any]:
    """The track's items with nested tracks and stacks (sequences, compound clips) flattened into them; ``rate``
    is the edit rate the frames are counted in (by default each nested item's own)."""
    track = _trimmed(track, notes)
    out: list[Any] = []
    for child in track:
        if isinstance(child, Schema.Stack | Schema.Track):
            out.extend(_flatten_nested(child, track.kind, notes, path, rate))
        elif isinstance(child, Schema.Clip | Schema.Gap | Schema.Transition):
            out.append(child.deepcopy())
        else:
            notes.append(f"{type(child).__name__} {child.name!r} is not supported: kept as a gap")
            out.append(Schema.Gap(source_range=child.trimmed_range()))
    return out


def _trimmed(track: Schema.Track, notes: list[str]) -> Schema.Track:
    """The part of a track its source range selects. The EDL reader sets a negative start (minus the first
    record timecode), which selects nothing of the track's own time: that is only an offset, so it is ignored."""
    sr = track.source_range
    if sr is None or sr.start_time.value < 0:
        return track
    avail = track.available_range()
    if sr.start_time <= avail.start_time and sr.end_time_exclusive() >= avail.end_time_exclusive():
        return track
    try:
        return otio.algorithms.track_trimmed_to_range(track, sr)
    except otio.exceptions.CannotTrimTransitionsError:
        notes.append(f"track {track.name!r} is trimmed inside a transition: imported whole")
        return track


def carried_markers(item: Any) -> str | None:
    """What a zero-length gap from ``_carrier`` carries the markers of (None for any other item)."""
    return item.metadata.get("interchange", {}).get("markers of") if isinstance(item, Schema.Gap) else None


def _carrier(child: Any, what: str, rng: TimeRange, scalar: Fraction = Fraction(1)) -> list[Any]:
    """A zero-length gap at the nested item's start holding its markers (and its layers'), in the gap's time, so
    conforming places them on the track where they were instead of losing them with the nested item. A reversed
    item shows its content last first: its markers are mirrored about its in point (and scaled by its speed)."""
    markers = list(child.markers)
    if isinstance(child, Schema.Stack):
        markers += [m for t in child if isinstance(t, Schema.Track) for m in t.markers]
    if not markers:
        return []
    gap = Schema.Gap(source_range=TimeRange(rng.start_time, RationalTime(0, rng.duration.rate)))
    gap.metadata["interchange"] = {"markers of": f"{what} {child.name!r}"}
    for m in markers:
        m = m.deepcopy()
        if scalar < 0:
            at, length = m.marked_range.start_time, m.marked_range.duration
            one = RationalTime(1, at.rate) if length.value >= 1 else RationalTime(0, at.rate)
            back = rng.start_time - (at + length - one)  # its last frame below the in point: shown this far in
            back = RationalTime(back.value / float(-scalar), back.rate)
            m.marked_range = TimeRange(rng.start_time + back, RationalTime(length.value / float(-scalar), length.rate))
        gap.markers.append(m)
    return [gap]


def _flatten_nested(child: Any, kind: str, notes: list[str], path: Path, rate: float | None) -> list[Any]:
    what = "nested sequence" if isinstance(child, Schema.Track) else "compound clip"
    rng = child.trimmed_range()
    items, scalar = _flattened(child, what, rng, kind, notes, path, rate)
    if not child.enabled:  # switched off as a whole: so is each clip it held
        for item in items:
            if isinstance(item, Schema.Clip):
                item.enabled = False
    return _carrier(child, what, rng, scalar) + items


def _flattened(
    child: Any, what: str, rng: TimeRange, kind: str, notes: list[str], path: Path, rate: float | None
) -> tuple[list[Any], Fraction]:
    """The nested item's content as items of its track, and the speed it was played at (negative: reversed)."""
    gap = Schema.Gap(source_range=TimeRange(RationalTime(0, rng.duration.rate), rng.duration))
    scalar = Fraction(1)
    try:
        if isinstance(child, Schema.Track):
            inner = child.deepcopy()
        else:
            inner = _layers(child, what, kind, notes)
            if inner is None:
                notes.append(f"{what} {child.name!r} holds no {kind.lower()} the reader could find: left out as a gap")
                return [gap], scalar
        inner.source_range = None
        scalar = _time_effects(child, what, notes)
        if scalar < 0 and any(time_remap(e) is not None for c in inner.find_clips() for e in c.effects):
            # FCP 7's in point means another frame under a Time Remap: reversing those clips would guess
            notes.append(f"{what} {child.name!r}: reversing clips FCP 7 retimed in it is not supported: plays forward")
            scalar = -scalar
        speed, own = abs(scalar), rng.duration.rate
        frame = rate or own  # one frame of the edit: what a reversed clip counts down by
        span = RationalTime(1, own) if speed == 0 else RationalTime(rng.duration.value * float(speed), own)
        start = rng.start_time
        if scalar < 0:  # as a reversed clip does, it shows its in point first and counts down from it
            shown = max(1, round(rng.duration.rescaled_to(frame).value))
            start = start - RationalTime((shown - 1) * float(speed), frame)
        inner = _cut(inner, TimeRange(start, span))
        if speed != 1:
            _stretch(inner, Fraction(1) / speed if speed else Fraction(rng.duration.value), speed, frame)
        inner.kind = kind
        notes.append(f"{what} {child.name!r} flattened into its track")
        items = flat_items(inner, notes, path, rate)
        return (_backwards(items, frame) if scalar < 0 else items), scalar
    except Exception as e:  # OTIO cannot cut inside a transition of the nested track, among others
        notes.append(f"{what} {child.name!r} could not be flattened ({e}): kept as a gap")
        return [gap], scalar


def _layers(stack: Schema.Stack, what: str, kind: str, notes: list[str]) -> Schema.Track | None:
    """A stack's layers of this kind as one track (the top layer shows where they overlap). A stack's children
    may be clips instead of tracks (each then a layer starting at the stack's start)."""
    layers = []
    for child in stack:
        if isinstance(child, Schema.Track):
            if child.kind == kind and not child.enabled:
                notes.append(f"{what} {stack.name!r}: its layer {child.name!r} is switched off: not shown")
            elif child.kind == kind:
                layers.append(child.deepcopy())
        elif isinstance(child, Schema.Clip | Schema.Gap | Schema.Stack):
            layers.append(Schema.Track(kind=kind, children=[child.deepcopy()]))
    if not layers:
        return None
    if len(layers) > 1:
        notes.append(f"{what} {stack.name!r}: its {len(layers)} {kind.lower()} layers flattened into one")
    return layers[0] if len(layers) == 1 else otio.algorithms.flatten_stack(layers)


def _time_effects(child: Any, what: str, notes: list[str]) -> Fraction:
    """The speed a nested item's time effects give its content (0: a freeze frame); the effects nbedit cannot
    apply to a nested item are named in the notes."""
    scalar = Fraction(1)
    for e in child.effects:
        if isinstance(e, Schema.LinearTimeWarp):  # FreezeFrame is one, at speed 0
            scalar *= Fraction(e.time_scalar).limit_denominator(10**6)
        else:
            name = (e.effect_name or e.name or type(e).__name__).splitlines()[0]
            notes.append(f"{what} {child.name!r}: its effect {name!r} is not applied (nbedit flattens it)")
    if scalar != 1:
        speed = "a freeze frame" if scalar == 0 else f"speed {float(scalar):g}"
        notes.append(f"{what} {child.name!r}: {speed} applied to the clips in it")
    return scalar


def _warp(clip: Schema.Clip) -> float:
    """The speed a clip's own time warps give it (negative: reversed), before the nested item's is added."""
    return math.prod(e.time_scalar for e in clip.effects if isinstance(e, Schema.LinearTimeWarp))


def _backwards(items: list[Any], rate: float) -> list[Any]:
    """A reversed nested item's flattened items, played backwards: last first, each clip from its last frame
    down (``rate``: the frames it counts down by), each transition's sides swapped."""
    out = []
    for item in reversed(items):  # (copies already: flat_items made them)
        if isinstance(item, Schema.Transition):
            item.in_offset, item.out_offset = item.out_offset, item.in_offset
        elif isinstance(item, Schema.Clip):
            scalar = _warp(item)
            sr = item.trimmed_range()
            frames = max(1.0, sr.duration.rescaled_to(rate).value)  # (a piece under a frame: from its start)
            last = sr.start_time + RationalTime((frames - 1) * scalar, rate).rescaled_to(sr.start_time.rate)
            item.source_range = TimeRange(last, sr.duration)
            item.effects.append(Schema.LinearTimeWarp(name="nested reverse", time_scalar=-1.0))
        out.append(item)
    return out


def _cut(track: Schema.Track, rng: TimeRange) -> Schema.Track:
    """The part of a track a range selects, as long as the range: where the range reaches past the track's
    content, a gap (cutting to the content would move every later item earlier)."""
    avail = track.available_range()
    start = max(rng.start_time, avail.start_time)
    end = min(rng.end_time_exclusive(), avail.end_time_exclusive())
    if end > start:
        out = otio.algorithms.track_trimmed_to_range(track, TimeRange.range_from_start_end_time(start, end))
    else:
        out = Schema.Track(kind=track.kind)
    head = start - rng.start_time if end > start else rng.duration
    if head.value > 0:
        out.insert(0, Schema.Gap(source_range=TimeRange(RationalTime(0, head.rate), head)))
    tail = rng.end_time_exclusive() - max(end, start) if end > start else RationalTime(0, rng.duration.rate)
    if tail.value > 0:
        out.append(Schema.Gap(source_range=TimeRange(RationalTime(0, tail.rate), tail)))
    return out


def _stretch(track: Schema.Track, factor: Fraction, scalar: Fraction, grid: float | None = None) -> None:
    """Every item of a nested track lasting ``factor`` times as long, its clips played at ``scalar`` times their
    speed (the nested item's time effect, applied to what it holds). Above speed 0 each item gets the frames of
    the ``grid`` (frames a second; by default the track's) whose sampled content position falls inside it, and a
    clip starts on the first of them: at speed 2 a one-frame piece shows once and the next starts a frame later,
    where a fractional length would let rounding give that frame to the wrong piece."""

    def longer(t: RationalTime) -> RationalTime:
        return RationalTime(t.value * float(factor), t.rate)

    k = float(scalar)
    at = 0.0  # content position where the item starts, in grid frames
    shown = 0  # the timeline frame it starts on
    empty = []
    for i, item in enumerate(track):
        if isinstance(item, Schema.Transition):
            item.in_offset, item.out_offset = longer(item.in_offset), longer(item.out_offset)
            continue
        sr = item.trimmed_range()
        if k == 0:
            item.source_range = TimeRange(sr.start_time, longer(sr.duration))
        else:
            g = grid or sr.duration.rate
            end = at + sr.duration.rescaled_to(g).value
            last = math.ceil(end / k - 1e-9)  # the first frame past it
            skip = shown * k - at  # content frames between its start and the first position it shows
            start = sr.start_time
            if isinstance(item, Schema.Clip) and skip > 1e-9:
                start = sr.start_time + RationalTime(skip * _warp(item), g).rescaled_to(sr.start_time.rate)
            item.source_range = TimeRange(start, RationalTime(last - shown, g))
            at, shown = end, last
            if item.source_range.duration.value == 0 and not item.markers:
                empty.append(i)  # it shows no frame at this speed
                continue
        if isinstance(item, Schema.Clip):
            item.effects.append(Schema.LinearTimeWarp(name="nested speed", time_scalar=float(scalar)))
    for i in reversed(empty):
        del track[i]
