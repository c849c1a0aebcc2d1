"""NLE edit operations as plain functions over an OTIO timeline, in whole frames at the edit rate.

Each function changes the timeline it is given in place and raises a typed error when the edit cannot be made.
The Session calls them on a copy of its timeline, so a failure half way leaves nothing behind; it also converts
seconds to frames, records the call and makes it undoable, so none of that appears here.
"""

from __future__ import annotations

import math
from fractions import Fraction

import opentimelineio as otio

from ..errors import ClipNotFoundError, EditError, TimeRangeError
from ..timeline import Placed, frames_of, item_id, layout, locate, nb, track_kind, trange

# ---- media pool and ids (kept in the timeline's metadata so an .otio file is a whole project) ----------


def edit_rate(tl: otio.schema.Timeline) -> Fraction:
    fmt = nb(tl).get("format")
    if not fmt:
        raise EditError("the timeline has no format yet: place a video clip or call set_format(...) first")
    return Fraction(fmt["fps"])


def media_entry(tl: otio.schema.Timeline, media_id: str) -> dict:
    pool = nb(tl).get("media", {})
    if media_id not in pool:
        known = ", ".join(pool.keys()) or "none imported yet"
        raise ClipNotFoundError(f"no media with id {media_id!r} in the pool (media: {known})")
    return pool[media_id]


def media_info(entry: dict):
    """The MediaInfo of a pool entry (which also holds the media's display name)."""
    from dataclasses import fields

    from ..media import MediaInfo

    return MediaInfo.from_dict({f.name: entry[f.name] for f in fields(MediaInfo)})


def new_id(tl: otio.schema.Timeline, prefix: str = "c") -> str:
    data = nb(tl)
    n = int(data.get("next_id", 1))
    data["next_id"] = n + 1
    return f"{prefix}{n}"


def available_frames(entry: dict, rate: Fraction) -> int | None:
    """How many frames of the media exist at the edit rate (None: a still image lasts forever)."""
    if entry.get("duration") is None:
        return None
    return math.ceil(Fraction(entry["duration"]) * rate - Fraction(1, 10**6))


def media_reference(entry: dict, rate: Fraction) -> otio.schema.ExternalReference:
    from pathlib import Path

    avail = available_frames(entry, rate)
    return otio.schema.ExternalReference(
        target_url=Path(entry["path"]).as_uri(),
        available_range=None if avail is None else trange(0, avail, rate),
    )


def make_clip(tl: otio.schema.Timeline, media_id: str, track_name: str, src_in: int, duration: int) -> otio.schema.Clip:
    rate = edit_rate(tl)
    entry = media_entry(tl, media_id)
    kind = track_kind(track_name)
    if kind == otio.schema.TrackKind.Video and entry["kind"] == "audio":
        raise EditError(f"media {media_id!r} is audio only: place it on an audio track (A1, A2, ...)")
    if kind == otio.schema.TrackKind.Audio and entry.get("audio_rate") is None:
        raise EditError(f"media {media_id!r} has no audio: place it on a video track (V1, V2, ...)")
    if duration <= 0:
        raise TimeRangeError(f"a clip must last at least one frame (asked for {duration} frames)")
    clip = otio.schema.Clip(
        name=entry.get("name", media_id),
        media_reference=media_reference(entry, rate),
        source_range=trange(src_in, duration, rate),
    )
    clip.metadata["nbedit"] = {"id": new_id(tl), "media": media_id}
    if "generation" in entry:  # a generated asset's provenance travels with every clip of it
        clip.metadata["nbedit"]["generation"] = entry["generation"]
    return clip


# ---- track surgery --------------------------------------------------------------------------------------


def _neighbour_transition(track: otio.schema.Track, index: int) -> bool:
    return any(0 <= j < len(track) and isinstance(track[j], otio.schema.Transition) for j in (index - 1, index + 1))


def _split_item(tl: otio.schema.Timeline, track: otio.schema.Track, p: Placed, offset: int) -> str | None:
    """Split the placed item ``offset`` frames after its start into two that play the same; the right one's id."""
    if _neighbour_transition(track, p.index) and isinstance(p.item, otio.schema.Clip):
        _, cuts = layout(track)
        for c in cuts:
            if c.before.index == p.index and offset > p.duration - c.in_offset:
                raise EditError(f"cannot cut inside crossfade {c.transition.name!r}")
            if c.after.index == p.index and offset < c.out_offset:
                raise EditError(f"cannot cut inside crossfade {c.transition.name!r}")
    rate = edit_rate(tl)
    right = p.item.deepcopy()
    if isinstance(p.item, otio.schema.Gap):
        p.item.source_range = trange(0, offset, rate)
        right.source_range = trange(0, p.duration - offset, rate)
        track.insert(p.index + 1, right)
        return None
    set_source(right, source_at(p.item, offset), p.duration - offset, rate)
    set_source(p.item, source_in(p.item), offset, rate)
    right.metadata["nbedit"]["id"] = rid = new_id(tl)
    track.insert(p.index + 1, right)
    return rid


def boundary(tl: otio.schema.Timeline, track: otio.schema.Track, at: int, lineage: dict | None = None) -> int:
    """Index of the item that starts at frame ``at``, splitting an item or padding with a gap to make one.

    ``lineage`` collects {new piece id: id it was split from}.
    """
    placed, _ = layout(track)
    end = placed[-1].end if placed else 0
    if at >= end:
        if at > end:
            track.append(otio.schema.Gap(source_range=trange(0, at - end, edit_rate(tl))))
        return len(track)
    for p in placed:
        if p.start == at:
            return p.index
        if p.start < at < p.end:
            rid = _split_item(tl, track, p, at - p.start)
            if rid is not None and lineage is not None:
                lineage[rid] = item_id(p.item)
            return p.index + 1
    raise AssertionError("unreachable: frame inside the track but in no item")


def lift_range(tl: otio.schema.Timeline, track: otio.schema.Track, start: int, end: int, *, ripple: bool) -> int:
    """Remove what lies in frames [start, end) of a track; returns the index where the range began."""
    lineage: dict[str, str] = {}
    i = boundary(tl, track, start, lineage)
    boundary(tl, track, end, lineage)
    placed, cuts = layout(track)
    doomed = [p for p in placed if start <= p.start and p.end <= end]
    doomed_idx = {p.index for p in doomed}
    for c in cuts:
        if c.before.index in doomed_idx or c.after.index in doomed_idx:
            doomed_idx.add(c.index)
    for j in sorted(doomed_idx, reverse=True):
        del track[j]
    i = min([i, *doomed_idx]) if doomed_idx else i
    if not ripple and end > start:
        track.insert(i, otio.schema.Gap(source_range=trange(0, end - start, edit_rate(tl))))
    _keep_ids(track, lineage)
    return i


def _keep_ids(track: otio.schema.Track, lineage: dict[str, str]) -> None:
    """A piece whose original was removed takes the original's id, so the user's handle still finds it."""
    present = {item_id(c) for c in track.find_clips()}
    for clip in track.find_clips():
        root = cid = item_id(clip)
        while root in lineage:
            root = lineage[root]
        if root != cid and root not in present:
            clip.metadata["nbedit"]["id"] = root
            present.add(root)


def tidy(track: otio.schema.Track, rate: Fraction) -> None:
    """Merge neighbouring gaps and drop empty and trailing ones, so equal edits give equal timelines."""
    i = 0
    while i < len(track):
        item = track[i]
        if isinstance(item, otio.schema.Gap):
            dur = frames_of(item.source_range.duration)
            if dur == 0:
                del track[i]
                continue
            if i + 1 < len(track) and isinstance(track[i + 1], otio.schema.Gap):
                dur += frames_of(track[i + 1].source_range.duration)
                del track[i + 1]
                item.source_range = trange(0, dur, rate)
                continue
        i += 1
    while len(track) and isinstance(track[len(track) - 1], otio.schema.Gap):
        del track[len(track) - 1]


def time_scalar(clip: otio.schema.Clip) -> Fraction:
    for e in clip.effects:
        if isinstance(e, otio.schema.LinearTimeWarp):
            return Fraction(e.time_scalar).limit_denominator(10**6)
    return Fraction(1)


# A clip's source in point is exact: a split of a clip at speed 1.5 starts the right piece at 4.5 source frames,
# so it is kept as a fraction (a float RationalTime value in OTIO) while track positions stay whole frames.


def source_in(clip: otio.schema.Clip) -> Fraction:
    """Media position (edit-rate frames, maybe fractional) shown at the clip's first timeline frame."""
    return Fraction(clip.source_range.start_time.value).limit_denominator(10**6)


def source_at(clip: otio.schema.Clip, offset: int | Fraction) -> Fraction:
    """Media position shown ``offset`` timeline frames after the clip's start (negative: in a crossfade handle)."""
    return source_in(clip) + offset * time_scalar(clip)


def set_source(clip: otio.schema.Item, start: Fraction, duration: int, rate: Fraction) -> None:
    value = int(start) if start.denominator == 1 else float(start)
    clip.source_range = otio.opentime.TimeRange(
        otio.opentime.RationalTime(value, float(rate)), otio.opentime.RationalTime(duration, float(rate))
    )


def half_up(x: Fraction) -> int:
    """Round to the nearest whole frame, halves up (Python's round() goes to even, which looks random here)."""
    return math.floor(x + Fraction(1, 2))


# ---- the operations -------------------------------------------------------------------------------------


def place(tl: otio.schema.Timeline, clip: otio.schema.Clip, track_name: str, at: int, *, ripple: bool) -> None:
    """Put ``clip`` at frame ``at``: insert (ripple, later items move right) or overwrite (replace what is there)."""
    from ..timeline import ensure_track

    if at < 0:
        raise TimeRangeError(f"cannot place a clip before the start of the timeline (at {at} frames)")
    track = ensure_track(tl, track_name)
    dur = frames_of(clip.source_range.duration)
    if ripple:
        i = boundary(tl, track, at)
        if 0 < i <= len(track) - 1 and isinstance(track[i - 1], otio.schema.Transition):
            raise EditError(
                f"cannot insert at the cut of crossfade {track[i - 1].name!r}: delete one of its clips' crossfade "
                "first, or insert elsewhere"
            )
    else:
        i = lift_range(tl, track, at, at + dur, ripple=True)
    track.insert(i, clip)
    tidy(track, edit_rate(tl))


def trim(tl: otio.schema.Timeline, clip_id: str, src_in: int | None, src_out: int | None, *, ripple: bool) -> None:
    track, p = locate(tl, clip_id)
    rate = edit_rate(tl)
    clip = p.item
    scalar = time_scalar(clip)
    old_in = source_in(clip)
    old_out = source_at(clip, p.duration)  # the end of the span it plays (exclusive)
    new_in = old_in if src_in is None else Fraction(src_in)
    new_out = old_out if src_out is None else Fraction(src_out)
    if new_out <= new_in:
        raise TimeRangeError(f"clip {clip_id!r}: the out point must come after the in point")
    head = half_up((new_in - old_in) / scalar)  # >0: the clip now starts later in the timeline (non-ripple)
    # at speeds other than 1 the clip keeps whole timeline frames, so an out point snaps to the nearest one
    new_dur = p.duration - head if src_out is None else half_up((new_out - new_in) / scalar)
    if new_dur < 1:
        raise TimeRangeError(f"clip {clip_id!r}: that trim leaves less than one frame")
    tail = new_dur - (p.duration - head)  # >0: it now ends later
    if not ripple:
        if (head and _neighbour_side(track, p.index, -1)) or (tail and _neighbour_side(track, p.index, +1)):
            raise EditError(f"clip {clip_id!r} has a crossfade on that side: trim with ripple=True or delete it")
        _absorb(tl, track, p.index, -1, head)
        p = next(q for q in layout(track)[0] if q.item is clip)
        _absorb(tl, track, p.index, +1, -tail)
    set_source(clip, new_in, new_dur, rate)
    tidy(track, rate)


def _neighbour_side(track: otio.schema.Track, index: int, side: int) -> bool:
    j = index + side
    return 0 <= j < len(track) and isinstance(track[j], otio.schema.Transition)


def _absorb(tl: otio.schema.Timeline, track: otio.schema.Track, index: int, side: int, frames: int) -> None:
    """Keep the far edge still: add ``frames`` of gap beside the clip (or take -frames from the gap there)."""
    if frames == 0:
        return
    rate = edit_rate(tl)
    j = index + side
    neighbour = track[j] if 0 <= j < len(track) else None
    if frames > 0:
        track.insert(index if side < 0 else index + 1, otio.schema.Gap(source_range=trange(0, frames, rate)))
        return
    if neighbour is None and side > 0:
        return  # growing past the end of the track needs no room
    if not isinstance(neighbour, otio.schema.Gap) or frames_of(neighbour.source_range.duration) < -frames:
        raise EditError("no room to lengthen the clip there without ripple: trim with ripple=True")
    neighbour.source_range = trange(0, frames_of(neighbour.source_range.duration) + frames, rate)


def split(tl: otio.schema.Timeline, clip_id: str, at: int) -> str:
    """Cut a clip in two at timeline frame ``at``; returns the id of the right-hand piece."""
    track, p = locate(tl, clip_id)
    if not p.start < at < p.end:
        raise TimeRangeError(f"clip {clip_id!r} spans frames {p.start}..{p.end}: cannot split at {at}")
    _split_item(tl, track, p, at - p.start)
    return item_id(track[p.index + 1])


def delete(tl: otio.schema.Timeline, clip_id: str, *, ripple: bool) -> None:
    track, p = locate(tl, clip_id)
    lift_range(tl, track, p.start, p.end, ripple=ripple)
    tidy(track, edit_rate(tl))


def move(tl: otio.schema.Timeline, clip_id: str, to: int, track_name: str | None) -> None:
    """Lift a clip (leaving a gap) and overwrite it at frame ``to`` on a track."""
    track, p = locate(tl, clip_id)
    target = track.name if track_name is None else track_name
    if track_kind(target) != track.kind:
        raise EditError(f"cannot move a clip from {track.kind} track {track.name} to {target}")
    clip = p.item.deepcopy()
    lift_range(tl, track, p.start, p.end, ripple=False)
    tidy(track, edit_rate(tl))
    place(tl, clip, target, to, ripple=False)


def slip(tl: otio.schema.Timeline, clip_id: str, by: int) -> None:
    _, p = locate(tl, clip_id)
    set_source(p.item, source_in(p.item) + by, p.duration, edit_rate(tl))


def speed(tl: otio.schema.Timeline, clip_id: str, factor: Fraction) -> None:
    """Play the same source content ``factor`` times faster (the clip gets shorter and later items ripple)."""
    if factor <= 0:
        raise EditError(f"speed must be a positive factor, not {float(factor)}")
    track, p = locate(tl, clip_id)
    clip = p.item
    span = p.duration * time_scalar(clip)  # the stretch of media the clip plays, kept as it is
    clip.effects[:] = [e for e in clip.effects if not isinstance(e, otio.schema.LinearTimeWarp)]
    if factor != 1:
        clip.effects.append(otio.schema.LinearTimeWarp(name="speed", time_scalar=float(factor)))
    set_source(clip, source_in(clip), max(1, half_up(span / factor)), edit_rate(tl))
    tidy(track, edit_rate(tl))


def crossfade(tl: otio.schema.Timeline, a_id: str, b_id: str, duration: int) -> None:
    track_a, a = locate(tl, a_id)
    track_b, b = locate(tl, b_id)
    if track_a is track_b and b.index == a.index + 2 and isinstance(track_a[a.index + 1], otio.schema.Transition):
        raise EditError(f"clips {a_id!r} and {b_id!r} already have crossfade {track_a[a.index + 1].name!r}")
    if track_a is not track_b or b.index != a.index + 1:
        raise EditError(f"clips {a_id!r} and {b_id!r} must be neighbours on one track, {a_id!r} first")
    if duration < 2:
        raise TimeRangeError("a crossfade must last at least two frames")
    before = duration // 2
    tr = otio.schema.Transition(
        name=f"{a_id}-{b_id}",
        transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
        in_offset=trange(0, before, edit_rate(tl)).duration,
        out_offset=trange(0, duration - before, edit_rate(tl)).duration,
    )
    track_a.insert(b.index, tr)


def remove_track(tl: otio.schema.Timeline, name: str, *, force: bool) -> None:
    from ..timeline import get_track

    track = get_track(tl, name)
    if track.find_clips() and not force:
        raise EditError(f"track {name} holds clips: delete them first or pass force=True")
    tl.tracks.remove(track)


# ---- invariants -----------------------------------------------------------------------------------------


def check(tl: otio.schema.Timeline) -> None:
    """Raise if any clip reads outside its media or any crossfade lacks the media it mixes (its handles)."""
    if not nb(tl).get("format"):
        return
    rate = edit_rate(tl)
    for track in tl.tracks:
        placed, cuts = layout(track)
        reach: dict[int, list[int]] = {p.index: [0, 0] for p in placed}  # extra frames read before / after
        for c in cuts:
            if c.in_offset > c.before.duration or c.out_offset > c.after.duration:
                raise EditError(f"crossfade {c.transition.name!r} is longer than the clips it joins")
            reach[c.before.index][1] = c.out_offset
            reach[c.after.index][0] = c.in_offset
        for p in placed:
            if isinstance(p.item, otio.schema.Gap):
                continue
            cid = item_id(p.item)
            entry = media_entry(tl, p.item.metadata["nbedit"]["media"])
            first = source_at(p.item, -reach[p.index][0])  # the first and last media positions it shows
            last = source_at(p.item, p.duration + reach[p.index][1] - 1)
            avail = available_frames(entry, rate)
            what = "its crossfade needs" if any(reach[p.index]) else "it reads"
            if first < 0:
                raise TimeRangeError(
                    f"clip {cid!r}: {what} {float(-first / rate):.3f} s before the start of {entry['name']!r}"
                )
            if avail is not None and last >= avail:
                raise TimeRangeError(
                    f"clip {cid!r}: {what} up to {float((math.floor(last) + 1) / rate):.3f} s of {entry['name']!r}, "
                    f"which lasts {float(avail / rate):.3f} s"
                )
        for a, b in zip(cuts, cuts[1:], strict=False):
            if a.after.index == b.before.index and a.end > b.start:
                raise EditError(f"crossfades {a.transition.name!r} and {b.transition.name!r} overlap")
