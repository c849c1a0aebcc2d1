"""The ``metadata["nbedit"]`` schema: the only module that reads or writes nbedit's data inside OTIO objects.

    timeline  metadata["nbedit"] = {"format": {"width", "height", "fps"} | None,
                                    "media": {media id: pool entry}, "next_id": int}
    clip      metadata["nbedit"] = {"id": "c12", "media": media id, "opacity", "transform", "gain_db",
                                    "effects", "reframe", "mask", "generation", ...}
    track     metadata["nbedit"] = {"blend": {"mode", "opacity"}}

A pool entry is a media probe (``media.MediaInfo`` as a dict) plus its display ``name`` and, for media an
operation made, its ``generation`` provenance. Invariants of a timeline (clips inside their media, crossfades
with handles) are checked here too, for the items an edit touched (:func:`check_items`) or for everything.
"""

from __future__ import annotations

import math
import os
from dataclasses import fields
from fractions import Fraction
from pathlib import Path
from typing import Any

import opentimelineio as otio

from .errors import ClipNotFoundError, EditError, TimeRangeError
from .timeline import Placed, layout, trange

KEY = "nbedit"


class ClipId(str):
    """A clip id an operation returns; the Session hands it back as a ``Clip``."""


class MediaId(str):
    """A media pool id an operation returns; the Session hands it back as a ``Media``."""


def nb(obj: Any) -> dict:
    """The ``metadata["nbedit"]`` dictionary of an OTIO object, created on first use."""
    if KEY not in obj.metadata:
        obj.metadata[KEY] = {}
    return obj.metadata[KEY]


def data(obj: Any) -> Any:
    """An object's nbedit data for reading only: an empty dict when it has none (nothing is created)."""
    return obj.metadata.get(KEY, {})


def plain(value: Any) -> Any:
    """OTIO metadata (AnyDictionary, AnyVector) as plain dicts and lists, to read quickly, change and store back."""
    if hasattr(value, "items"):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
        return value
    return [plain(v) for v in value]


def item_id(item: Any) -> str | None:
    d = item.metadata.get(KEY)
    return None if d is None else d.get("id")


def links_of(clip: Any) -> list[str]:
    """Ids of the clips linked to this one (its sound, or its picture): they move, trim, split and go together."""
    return list(data(clip).get("linked", ()))


def media_of(clip: Any) -> str:
    """The pool id of the media a clip shows."""
    return clip.metadata[KEY]["media"]


def new_timeline(name: str) -> otio.schema.Timeline:
    tl = otio.schema.Timeline(name=name)
    tl.metadata[KEY] = {"format": None, "media": {}, "next_id": 1}
    return tl


MAX_OTIO_BYTES = 2 * 2**30  # an .otio file larger than this is not a timeline anyone made by hand or tool


def read_otio(text: str | bytes, what: str) -> Any:
    """OTIO JSON read safely: its nesting is checked by Python's own JSON parser first (which refuses depth it
    cannot handle with an error), because OTIO's C++ reader crashes the process on a file nested thousands deep.
    A ValueError names ``what``; callers turn it into their typed error."""
    import json

    if len(text) > MAX_OTIO_BYTES:
        raise ValueError(f"{what} is {len(text) / 2**30:.1f} GiB: larger than any timeline")
    try:
        json.loads(text)
    except RecursionError:
        raise ValueError(f"{what} is nested too deeply to be a timeline") from None
    except ValueError as e:
        raise ValueError(f"{what} is not OTIO JSON: {e}") from None
    return otio.adapters.read_from_string(text if isinstance(text, str) else text.decode("utf-8"), "otio_json")


def is_project(tl: Any) -> bool:
    """True for a timeline nbedit made (one with a format)."""
    return isinstance(tl, otio.schema.Timeline) and bool(data(tl).get("format"))


# ---- the timeline's format and media pool ---------------------------------------------------------------


def format_of(tl: otio.schema.Timeline) -> dict | None:
    fmt = data(tl).get("format")
    return None if not fmt else {k: fmt[k] for k in fmt}


def edit_rate(tl: otio.schema.Timeline) -> Fraction:
    fmt = data(tl).get("format")
    if not fmt:
        raise EditError("the timeline has no format yet: place a video clip or call set_format(...) first")
    return Fraction(fmt["fps"])


def pool(tl: otio.schema.Timeline) -> Any:
    """The media pool: {media id: entry} (OTIO's dictionary; read it, change it through an Edit)."""
    return data(tl).get("media", {})


def media_entry(tl: otio.schema.Timeline, media_id: str) -> Any:
    p = pool(tl)
    if media_id not in p:
        known = ", ".join(p.keys()) or "none imported yet"
        raise ClipNotFoundError(f"no media with id {media_id!r} in the pool (media: {known})")
    return p[media_id]


def media_at_path(entries: Any, path: str | os.PathLike) -> str | None:
    """The id of the media among ``entries`` ({id: pool entry}) whose file ``path`` is, through symlinks; None when
    it is none of them. Every writer (render, export, generated media, proxies) asks before it writes: nothing
    nbedit makes is ever written over a file the project reads."""
    target = os.path.realpath(path)
    for mid, entry in entries.items():
        if os.path.realpath(entry["path"]) == target:
            return mid
    return None


def overwrites_source(tl: Any, path: str | os.PathLike) -> str | None:
    """Why writing ``path`` would destroy media of timeline ``tl`` ("it is media 'a' of this project"), or None when
    it would not; the caller raises its own typed error with it."""
    mid = media_at_path(pool(tl), path)
    return None if mid is None else f"it is media {mid!r} of this project"


def media_info(entry: Any):
    """The MediaInfo of a pool entry (which also holds the media's display name)."""
    from .media import MediaInfo

    return MediaInfo.from_dict({f.name: entry[f.name] for f in fields(MediaInfo)})


def pool_entry(info: dict, name: str, generation: dict | None = None) -> dict:
    """A new pool entry for a probed file."""
    entry = {**info, "name": name}
    if generation is not None:
        entry["generation"] = generation
    return entry


def next_id(tl: otio.schema.Timeline) -> int:
    return int(data(tl).get("next_id", 1))


def take_id(tl: otio.schema.Timeline, prefix: str = "c") -> str:
    """A new id from a timeline being built (not the live one: an edit asks ``e.new_id()``)."""
    n = next_id(tl)
    nb(tl)["next_id"] = n + 1
    return f"{prefix}{n}"


def available_frames(entry: Any, rate: Fraction) -> int | None:
    """How many frames of the media exist at the edit rate (None: a still image lasts forever)."""
    if entry.get("duration") is None:
        return None
    return math.ceil(Fraction(entry["duration"]) * rate - Fraction(1, 10**6))


def media_reference(entry: Any, rate: Fraction) -> otio.schema.ExternalReference:
    avail = available_frames(entry, rate)
    return otio.schema.ExternalReference(
        target_url=Path(entry["path"]).as_uri(),
        available_range=None if avail is None else trange(0, avail, rate),
    )


def new_clip(entry: Any, media_id: str, clip_id: str, kind: str, src_in: int, duration: int, rate: Fraction):
    """A clip of pool media ``media_id`` for a track of ``kind``, checked against what the media holds."""
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
    clip.metadata[KEY] = {"id": clip_id, "media": media_id}
    if "generation" in entry:  # a generated asset's provenance travels with every clip of it
        clip.metadata[KEY]["generation"] = entry["generation"]
    return clip


def tag_recipe(notebook: Any, name: str) -> None:
    """Mark an nbformat notebook as the recipe of project ``name`` (its metadata["nbedit"])."""
    notebook.metadata[KEY] = {"recipe": name}


def track_flags(track: Any) -> dict:
    """A track's switches: ``mute`` (OTIO's ``enabled`` off), ``solo`` (audio), ``lock`` (no edits)."""
    d = data(track)
    return {"mute": not track.enabled, "solo": bool(d.get("solo", False)), "lock": bool(d.get("lock", False))}


def heard(tracks: list) -> list:
    """The audio tracks a mix plays: the enabled ones, or only the soloed ones when any is soloed."""
    on = [t for t in tracks if t.enabled]
    solo = [t for t in on if data(t).get("solo")]
    return solo or on


MARKER_COLORS = ("RED", "PINK", "ORANGE", "YELLOW", "GREEN", "CYAN", "BLUE", "PURPLE", "MAGENTA", "WHITE", "BLACK")


def new_marker(marker_id: str, name: str, color: str, start: Fraction | int, duration: int, rate: Fraction, note: str):
    """An OTIO marker with an nbedit id; ``start`` is in frames of what it marks (timeline or clip source)."""
    m = otio.schema.Marker(name=name, color=color, comment=note, marked_range=source_range(start, duration, rate))
    m.metadata[KEY] = {"id": marker_id}
    return m


def marker_id(marker: Any) -> str | None:
    return item_id(marker)


def blend_of(track: Any) -> dict:
    """A track's blend mode data: {"mode", "opacity"} (empty: normal, fully opaque)."""
    return data(track).get("blend", {})


def effects_of(clip: Any) -> list[dict]:
    """A clip's effect stack as plain data, in the order it is applied (empty: none)."""
    return plain(data(clip).get("effects", []))


def reframe_of(clip: Any) -> dict | None:
    """A reframed clip's crop: {"aspect", "subject", "size", "center": keys, "shots", ...} (None: not reframed)."""
    r = data(clip).get("reframe")
    return None if r is None else plain(r)


def masks_of(clip: Any) -> list[str]:
    """Ids of the mask media made from a clip."""
    return plain(data(clip).get("masks", []))


def transform_of(clip: Any) -> dict | None:
    """A clip's placement {"x", "y", "scale", "crop"} (None: it fills the frame as it is)."""
    t = data(clip).get("transform")
    return None if t is None else plain(t)


# ---- source positions ---------------------------------------------------------------------------------
# A clip's source in point is exact: a split of a clip at speed 1.5 starts the right piece at 4.5 source frames,
# so it is kept as a fraction (a float RationalTime value in OTIO) while track positions stay whole frames.
# At speed 1 (nearly every clip) these are whole numbers and stay ints: no Fraction on the common path.


def time_scalar(clip: otio.schema.Clip) -> Fraction | int:
    for e in clip.effects:
        if isinstance(e, otio.schema.LinearTimeWarp):
            return Fraction(e.time_scalar).limit_denominator(10**6)
    return 1


def source_in(clip: otio.schema.Clip) -> Fraction | int:
    """Media position (edit-rate frames, maybe fractional) shown at the clip's first timeline frame."""
    v = clip.source_range.start_time.value
    return int(v) if v == int(v) else Fraction(v).limit_denominator(10**6)


def source_at(clip: otio.schema.Clip, offset: int | Fraction) -> Fraction | int:
    """Media position shown ``offset`` timeline frames after the clip's start (negative: in a crossfade handle)."""
    return source_in(clip) + offset * time_scalar(clip)


def source_range(start: Fraction | int, duration: int, rate: Fraction) -> otio.opentime.TimeRange:
    value = int(start) if Fraction(start).denominator == 1 else float(start)
    return otio.opentime.TimeRange(
        otio.opentime.RationalTime(value, float(rate)), otio.opentime.RationalTime(duration, float(rate))
    )


def set_source(clip: otio.schema.Item, start: Fraction | int, duration: int, rate: Fraction) -> None:
    clip.source_range = source_range(start, duration, rate)


def frames_in(t: Any) -> Fraction | int:
    """A RationalTime's value as a whole number of frames when it is one, else exactly."""
    v = t.value
    return int(v) if v == int(v) else Fraction(v).limit_denominator(10**6)


def half_up(x: Fraction | int) -> int:
    """Round to the nearest whole frame, halves up (Python's round() goes to even, which looks random here)."""
    return math.floor(x + Fraction(1, 2))


# ---- invariants -----------------------------------------------------------------------------------------


def check(tl: otio.schema.Timeline) -> None:
    """Raise if any clip reads outside its media or any crossfade lacks the media it mixes (its handles)."""
    if not data(tl).get("format"):
        return
    for track in tl.tracks:
        placed, cuts = layout(track)
        check_items(tl, placed, cuts)


def check_items(tl: otio.schema.Timeline, window: list[Placed], near: list) -> None:
    """Check the clips and gaps in ``window`` and the crossfades ``near`` them (their track's Cuts, in order).

    An edit passes the part of a track it changed, widened by the neighbours a crossfade can reach, so the cost
    of checking follows the change, not the timeline.
    """
    if not data(tl).get("format"):
        return
    rate = edit_rate(tl)
    reach: dict[int, list[int]] = {p.index: [0, 0] for p in window}  # extra frames read before / after
    for c in near:
        if c.in_offset > c.before.duration or c.out_offset > c.after.duration:
            raise EditError(f"crossfade {c.transition.name!r} is longer than the clips it joins")
        if c.before.index in reach:
            reach[c.before.index][1] = c.out_offset
        if c.after.index in reach:
            reach[c.after.index][0] = c.in_offset
    for p in window:
        if isinstance(p.item, otio.schema.Gap):
            continue
        cid = item_id(p.item)
        entry = media_entry(tl, media_of(p.item))
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
    for a, b in zip(near, near[1:], strict=False):
        if a.after.index == b.before.index and a.end > b.start:
            raise EditError(f"crossfades {a.transition.name!r} and {b.transition.name!r} overlap")
