"""Flattening: nested sequences and compound clips in a foreign track become plain clips of that track."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import opentimelineio as otio
from opentimelineio.opentime import RationalTime, TimeRange

Schema = otio.schema


def flat_items(track: Schema.Track, notes: list[str], path: Path) -> list[Any]:
    """The track's items with nested tracks and stacks (sequences, compound clips) flattened into them."""
    track = _trimmed(track, notes)
    out: list[Any] = []
    for child in track:
        if isinstance(child, Schema.Stack | Schema.Track):
            out.extend(_flatten_nested(child, track.kind, notes, path))
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


def _carrier(child: Any, what: str, rng: TimeRange) -> list[Any]:
    """A zero-length gap at the nested item's start holding its markers (and its layers'), in the gap's time, so
    conforming places them on the track where they were instead of losing them with the nested item."""
    markers = list(child.markers)
    if isinstance(child, Schema.Stack):
        markers += [m for t in child if isinstance(t, Schema.Track) for m in t.markers]
    if not markers:
        return []
    gap = Schema.Gap(source_range=TimeRange(rng.start_time, RationalTime(0, rng.duration.rate)))
    gap.metadata["interchange"] = {"markers of": f"{what} {child.name!r}"}
    gap.markers.extend(m.deepcopy() for m in markers)
    return [gap]


def _flatten_nested(child: Any, kind: str, notes: list[str], path: Path) -> list[Any]:
    what = "nested sequence" if isinstance(child, Schema.Track) else "compound clip"
    rng = child.trimmed_range()
    return _carrier(child, what, rng) + _flattened(child, what, rng, kind, notes, path)


def _flattened(child: Any, what: str, rng: TimeRange, kind: str, notes: list[str], path: Path) -> list[Any]:
    gap = Schema.Gap(source_range=TimeRange(RationalTime(0, rng.duration.rate), rng.duration))
    try:
        if isinstance(child, Schema.Track):
            inner = child.deepcopy()
        else:
            layers = [t.deepcopy() for t in child if isinstance(t, Schema.Track) and t.kind == kind]
            if not layers:
                notes.append(f"{what} {child.name!r} holds no {kind.lower()} the reader could find: left out as a gap")
                return [gap]
            inner = layers[0] if len(layers) == 1 else otio.algorithms.flatten_stack(layers)
            if len(layers) > 1:
                notes.append(f"{what} {child.name!r}: its {len(layers)} {kind.lower()} layers flattened into one")
        inner.source_range = None
        inner = otio.algorithms.track_trimmed_to_range(inner, rng)
        inner.kind = kind
        notes.append(f"{what} {child.name!r} flattened into its track")
        return flat_items(inner, notes, path)
    except Exception as e:  # OTIO cannot cut inside a transition of the nested track, among others
        notes.append(f"{what} {child.name!r} could not be flattened ({e}): kept as a gap")
        return [gap]
