"""OTIO helpers: time at the API edge, nbedit metadata, tracks, and where each item sits on its track.

Inside the model every time is an ``otio.opentime.RationalTime`` at the timeline's edit rate, whose value is a
whole number of frames. Seconds (or a RationalTime at another rate) are converted here, once, at the API edge.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import opentimelineio as otio
from opentimelineio.opentime import RationalTime, TimeRange

from .args import LIMITS
from .errors import ClipNotFoundError, EditError, TimeRangeError

Time = int | float | RationalTime
"""A time as users write it: seconds (int or float) or an OTIO RationalTime."""

TRACK_NAME = re.compile(r"([VA])([1-9][0-9]*)")


def as_seconds(t: Time, *, what: str = "time") -> Fraction:
    """A user time as an exact number of seconds, or a clear error."""
    if isinstance(t, RationalTime):
        if not (math.isfinite(t.value) and math.isfinite(t.rate) and t.rate > 0):
            raise TimeRangeError(f"{what} must be a finite time, not {t!r}")
        return _bounded(Fraction(t.value) / Fraction(t.rate), what)
    if isinstance(t, bool) or not isinstance(t, int | float | Fraction):
        raise TimeRangeError(f"{what} must be seconds (int or float) or a RationalTime, not {t!r}")
    if isinstance(t, float) and not math.isfinite(t):
        raise TimeRangeError(f"{what} must be a finite number of seconds, not {t!r}")
    return _bounded(Fraction(t), what)


def _bounded(seconds: Fraction, what: str) -> Fraction:
    if abs(seconds) > LIMITS.max_seconds:
        hours = LIMITS.max_seconds / 3600
        raise TimeRangeError(
            f"{what}={float(seconds):g} s is beyond {hours:g} hours, the longest a timeline may be "
            "(nbedit.args.LIMITS.max_seconds)"
        )
    return seconds


def to_frames(t: Time, rate: Fraction, *, what: str = "time") -> int:
    """Convert a user time to a whole number of frames at ``rate`` (rounded to the nearest frame)."""
    return round(as_seconds(t, what=what) * rate)


def frame_at(t: Time, rate: Fraction, *, what: str = "t") -> int:
    """The frame on screen at time ``t`` (the one that started at or before it, not the nearest)."""
    # the tolerance forgives float error in t = k / fps
    return math.floor(as_seconds(t, what=what) * rate + Fraction(1, 10**6))


def seconds(frames: int, rate: Fraction) -> float:
    return float(Fraction(frames) / rate)


def rt(frames: int, rate: Fraction) -> RationalTime:
    return RationalTime(frames, float(rate))


def trange(start: int, duration: int, rate: Fraction) -> TimeRange:
    return TimeRange(rt(start, rate), rt(duration, rate))


def frames_of(t: RationalTime) -> int:
    """Frames of a RationalTime that is already at the edit rate (the model never holds any other)."""
    return round(t.value)


# ---- tracks -------------------------------------------------------------------------------------------


def track_kind(name: str) -> str:
    m = TRACK_NAME.fullmatch(name) if isinstance(name, str) else None
    if not m:
        raise EditError(f"track names are V1, V2, ... for video and A1, A2, ... for audio, not {name!r}")
    return otio.schema.TrackKind.Video if m.group(1) == "V" else otio.schema.TrackKind.Audio


def _track_sort_key(track: otio.schema.Track) -> tuple[int, int]:
    m = TRACK_NAME.fullmatch(track.name)
    return (0 if m.group(1) == "V" else 1, int(m.group(2)))


def find_track(timeline: otio.schema.Timeline, name: str) -> otio.schema.Track | None:
    for track in timeline.tracks:
        if track.name == name:
            return track
    return None


def get_track(timeline: otio.schema.Timeline, name: str) -> otio.schema.Track:
    track = find_track(timeline, name)
    if track is None:
        names = ", ".join(t.name for t in timeline.tracks) or "none yet"
        raise ClipNotFoundError(f"no track named {name!r} (tracks: {names})")
    return track


def ensure_track(timeline: otio.schema.Timeline, name: str) -> otio.schema.Track:
    """The track called ``name``, created (in V1.., A1.. order) if it does not exist yet."""
    track = find_track(timeline, name)
    if track is not None:
        return track
    track = otio.schema.Track(name=name, kind=track_kind(name))
    ensure_track_order(timeline, track)
    return track


def ensure_track_order(timeline: otio.schema.Timeline, track: otio.schema.Track) -> None:
    """Add a new track to the timeline in its place (video V1.. first, then audio A1..)."""
    key = _track_sort_key(track)
    at = next((i for i, t in enumerate(timeline.tracks) if _track_sort_key(t) > key), len(timeline.tracks))
    timeline.tracks.insert(at, track)


def video_tracks(timeline: otio.schema.Timeline) -> list[otio.schema.Track]:
    """Video tracks bottom to top (V1 first): the compositing order."""
    return [t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Video]


def audio_tracks(timeline: otio.schema.Timeline) -> list[otio.schema.Track]:
    return [t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Audio]


# ---- where things are ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Placed:
    """An item of a track with its position, in frames at the edit rate."""

    item: Any  # otio.schema.Clip or Gap
    index: int  # index among the track's children
    start: int
    duration: int

    @property
    def end(self) -> int:
        return self.start + self.duration


@dataclass(frozen=True)
class Cut:
    """A transition on a track: ``before`` shows until ``at``, ``after`` from then on, mixed over the span."""

    transition: otio.schema.Transition
    index: int
    at: int
    in_offset: int
    out_offset: int
    before: Placed
    after: Placed

    @property
    def start(self) -> int:
        return self.at - self.in_offset

    @property
    def end(self) -> int:
        return self.at + self.out_offset


def layout(track: otio.schema.Track) -> tuple[list[Placed], list[Cut]]:
    """Clips and gaps of a track in order with their positions, and the transitions between them.

    Transitions take no time of their own (OTIO's model), so positions are running sums of item durations.
    """
    placed: list[Placed] = []
    pending: list[tuple[int, otio.schema.Transition]] = []
    pos = 0
    for i, child in enumerate(track):
        if isinstance(child, otio.schema.Transition):
            pending.append((i, child))
            continue
        dur = frames_of(child.source_range.duration)
        placed.append(Placed(child, i, pos, dur))
        pos += dur
    cuts = []
    for i, tr in pending:
        before = next((p for p in reversed(placed) if p.index < i), None)
        after = next((p for p in placed if p.index > i), None)
        if before is None or after is None:
            raise EditError(f"transition {tr.name!r} must sit between two clips")
        cuts.append(Cut(tr, i, after.start, frames_of(tr.in_offset), frames_of(tr.out_offset), before, after))
    return placed, cuts


def track_end(track: otio.schema.Track) -> int:
    placed, _ = layout(track)
    return placed[-1].end if placed else 0


def timeline_end(timeline: otio.schema.Timeline) -> int:
    return max((track_end(t) for t in timeline.tracks), default=0)
