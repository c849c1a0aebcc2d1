"""The ``metadata["nbedit"]`` schema: the only module that reads or writes nbedit's data inside OTIO objects.

    timeline  metadata["nbedit"] = {"format": {"width", "height", "fps"} | None,
                                    "media": {media id: pool entry}, "next_id": int}
    clip      metadata["nbedit"] = {"id": "c12", "media": media id, "opacity", "transform", "gain_db",
                                    "effects", "reframe", "mask", "generation", "detected", ...}
    track     metadata["nbedit"] = {"blend": {"mode", "opacity"}}

A pool entry is a media probe (``media.MediaInfo`` as a dict) plus its display ``name`` and, for media an
operation made, its ``generation`` provenance. Invariants of a timeline (clips inside their media, crossfades
with handles) are checked here too, for the items an edit touched (:func:`check_items`) or for everything.

What comes from a file is checked here once, before anything trusts it: a timeline opened or reopened
(:func:`validate`), one being imported (:func:`check_foreign`, :func:`check_nesting`), a probe kept in the journal
(:func:`check_entry`); a bad value is a ProjectError naming the field. The effect table (:data:`KINDS`) with each
parameter's documented range is part of the schema; ``tools.effects`` paints it.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, fields
from fractions import Fraction
from pathlib import Path
from typing import Any

import opentimelineio as otio

from . import args
from .errors import ClipNotFoundError, EditError, ProjectError, TimeRangeError
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


def prune(obj: Any) -> None:
    """Drop an emptied ``metadata["nbedit"]``: what had no nbedit data before an edit has none after its undo."""
    if KEY in obj.metadata and not len(obj.metadata[KEY]):
        del obj.metadata[KEY]


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


def read_otio(text: str | bytes, what: str, *, check: bool = False) -> Any:
    """OTIO JSON read safely: its nesting is checked by Python's own JSON parser first (which refuses depth it
    cannot handle with an error), because OTIO's C++ reader crashes the process on a file nested thousands deep.
    A ValueError names ``what``; callers turn it into their typed error. ``check``: the timeline's values are
    validated too (:func:`validate`, from the JSON already parsed), a ProjectError naming the field."""
    import json

    if len(text) > MAX_OTIO_BYTES:
        raise ValueError(f"{what} is {len(text) / 2**30:.1f} GiB: larger than any timeline")
    try:
        doc = json.loads(text)
    except RecursionError:
        raise ValueError(f"{what} is nested too deeply to be a timeline") from None
    except ValueError as e:
        raise ValueError(f"{what} is not OTIO JSON: {e}") from None
    if check:
        if _schema(doc) != "Timeline":
            raise ProjectError(f"{what}: it holds a {_schema(doc) or type(doc).__name__}, not a timeline")
        try:
            _validate(doc)
        except _Bad as e:
            raise ProjectError(f"{what}: {e}") from None
    return otio.adapters.read_from_string(text if isinstance(text, str) else text.decode("utf-8"), "otio_json")


def is_project(tl: Any) -> bool:
    """True for a timeline nbedit made (one with a format)."""
    d = data(tl) if isinstance(tl, otio.schema.Timeline) else None
    return hasattr(d, "get") and bool(d.get("format"))  # (a file's nbedit data may be anything)


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
    """Why writing ``path`` would destroy media of timeline ``tl`` ("it is media 'a' of this project") or a project
    folder's own journal, snapshot or settings, or None when it would not; the caller raises its own typed error."""
    from .folder import project_file

    mid = media_at_path(pool(tl), path)
    return project_file(path) if mid is None else f"it is media {mid!r} of this project"


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


def tag_recipe(notebook: Any, name: str, provenance: dict | None = None) -> None:
    """Mark a notebook (plain data or nbformat's) as the recipe of project ``name`` (its metadata["nbedit"]), with
    what it was made with: ``{"versions": {...}, "media": [{"id", "path", "sha256", "size"}], "models": [...]}``."""
    notebook["metadata"][KEY] = {"recipe": name, **(provenance or {})}


def recipe_info(notebook: Any) -> dict:
    """What a recipe notebook's metadata["nbedit"] says (empty for a notebook that is not one)."""
    info = notebook["metadata"].get(KEY, {})
    return dict(info) if isinstance(info, dict) else {}


def is_generated(entry: Any) -> bool:
    """Whether a pool entry was made by a recorded call (its provenance says which) rather than imported."""
    return "generation" in entry


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


def detected_of(clip: Any) -> dict:
    """Which detector found a clip's speech, silences or shots: {"speech" | "silence" | "shots": {"method", and
    when a model ran "model", "weights_sha256", "source", "licence"}} (empty: none ran on it)."""
    return plain(data(clip).get("detected", {}))


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
    """Media position shown ``offset`` timeline frames after the clip's start (negative: in a crossfade handle).

    A reversed clip (a negative speed) counts down from its in point: it shows the frames the clip played
    forward would, last first, so its in point is the highest frame it shows."""
    return source_in(clip) + offset * time_scalar(clip)


def source_span(clip: otio.schema.Clip, first: int, last: int) -> tuple[Fraction | int, Fraction | int]:
    """The lowest and highest media positions shown from timeline offset ``first`` to ``last`` (inclusive):
    whichever way the clip plays."""
    a, b = source_at(clip, first), source_at(clip, last)
    return (a, b) if a <= b else (b, a)


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


def check_length(tl: otio.schema.Timeline, track: str, frames: int) -> None:
    """A track may last at most ``LIMITS.max_seconds`` (a day by default): a longer one is a mistake that would
    cost hours to render before anything said so."""
    rate = edit_rate(tl)
    if frames > args.LIMITS.max_seconds * rate:
        raise TimeRangeError(
            f"track {track!r} would last {_span(float(frames / rate))}, beyond {_span(args.LIMITS.max_seconds)}: the "
            "longest a timeline may be (nbedit.args.LIMITS.max_seconds)"
        )


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
        # the lowest and highest media positions it shows
        first, last = source_span(p.item, -reach[p.index][0], p.duration + reach[p.index][1] - 1)
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


# ---- validation: every value of a timeline that comes from a file, checked once --------------------------------
# A project folder, a journal or an .otio file can hold anything; the compositor, the mixer and the index trust
# what they read. So a timeline is checked here when it enters a session (opened, imported, reopened from its
# snapshot, a pool entry from the journal), and a bad value is a ProjectError naming the field, not a numpy or
# PyAV error at frame time, a hang (a blur of radius 1e5, a gap of 31 years), or a crash (nesting 50,000 deep).

MEDIA_KINDS = ("video", "image", "audio")
EASES = ("linear", "smooth", "hold")  # how a keyed value goes on to the next key (tools.keyframes)
MODES = ("normal", "add", "multiply", "screen")


@dataclass(frozen=True)
class Param:
    """An effect parameter: its default and documented range, and whether it is a number, a colour or a mode."""

    default: Any
    lo: float | None = None
    hi: float | None = None
    kind: str = "number"  # "number", "color" (three 0-255 numbers) or "mode" (one of MODES)


KINDS: dict[str, dict[str, Param]] = {
    # moves, scales and turns the picture about its centre inside its own frame (source pixels, degrees)
    "transform": {"x": Param(0.0), "y": Param(0.0), "scale": Param(1.0, 0.01, 100.0), "rotation": Param(0.0)},
    # transparent beyond these many source pixels from each edge (unlike the placement crop, nothing is zoomed)
    "crop": {
        "left": Param(0.0, 0.0),
        "top": Param(0.0, 0.0),
        "right": Param(0.0, 0.0),
        "bottom": Param(0.0, 0.0),
        "softness": Param(0.0, 0.0, 1000.0),
    },
    "color": {
        "brightness": Param(0.0, -1.0, 1.0),
        "contrast": Param(1.0, 0.0, 4.0),
        "saturation": Param(1.0, 0.0, 4.0),
        "gamma": Param(1.0, 0.1, 10.0),
    },
    "blur": {"radius": Param(4.0, 0.0, 500.0)},
    # chroma key: transparent where the colour is within ``tolerance`` of ``color`` (RGB distance, 0-441)
    "key": {
        "color": Param((0.0, 255.0, 0.0), kind="color"),
        "tolerance": Param(80.0, 0.0, 442.0),
        "softness": Param(40.0, 0.0, 442.0),
    },
    "mask": {},  # the node's own mask, invert and feather say what stays
    "blend": {"mode": Param("normal", kind="mode"), "opacity": Param(1.0, 0.0, 1.0)},
}
"""Every effect kind of a clip's stack (``tools.effects`` paints them) with its parameters and their ranges."""

PIXELS = 1e6  # pixel offsets (moves, crops) beyond a million pixels are no picture anyone made


def check_value(kind: str, name: str, value: Any) -> Any:
    """An effect parameter's static value as stored, or ValueError saying what is wrong."""
    spec = KINDS[kind][name]
    if spec.kind == "mode":
        if value not in MODES:
            raise ValueError(f"blend mode must be one of {', '.join(MODES)}, not {value!r}")
        return value
    if spec.kind == "color":
        if (
            not isinstance(value, tuple | list)
            or len(value) != 3
            or not all(args.finite(v) and 0 <= v <= 255 for v in value)
        ):
            raise ValueError(f"{kind} {name} must be three numbers from 0 to 255 (R, G, B), not {value!r}")
        return [float(v) for v in value]
    if not args.finite(value):
        raise ValueError(f"{kind} {name} must be a number, not {value!r}")
    lo = -PIXELS if spec.lo is None else spec.lo
    hi = PIXELS if spec.hi is None else spec.hi
    if not lo <= value <= hi:
        raise ValueError(f"{kind} {name} must be between {lo:g} and {hi:g}, not {value!r}")
    return float(value)


def check_param(kind: str, name: str, stored: Any) -> None:
    """A stored parameter, static or keyed (``{"keys": [[position, value, ease?], ...]}``), or ValueError."""
    if not (hasattr(stored, "get") and "keys" in stored):
        check_value(kind, name, plain(stored))
        return
    keys = plain(stored["keys"])
    if not isinstance(keys, list) or not keys:
        raise ValueError(f"{kind} {name} keys must be a list of [position, value] pairs, not {keys!r}")
    for key in keys:
        if not isinstance(key, list) or len(key) not in (2, 3) or not args.finite(key[0]):
            raise ValueError(
                f"{kind} {name} has a key that is not [position, value] or [position, value, ease]: {key!r}"
            )
        if len(key) == 3 and key[2] not in EASES:
            raise ValueError(f"{kind} {name} key ease must be one of {', '.join(EASES)}, not {key[2]!r}")
        check_value(kind, name, key[1])


def validate(tl: Any, where: str) -> None:
    """Check every nbedit value of a timeline from a file (and its shape: tracks of clips, gaps and crossfades,
    within ``LIMITS``); raise ProjectError naming ``where`` and the field. Returns quietly for a good one.

    The check reads the timeline's JSON, plain Python values, not OTIO's objects (which cost a call into C++ for
    each value): ``python bench/validate.py`` compares it with reading the file."""
    import json

    if not isinstance(tl, otio.schema.Timeline):
        raise ProjectError(f"{where}: it holds a {type(tl).__name__}, not a timeline")
    try:
        _validate(json.loads(tl.to_json_string()))
    except _Bad as e:
        raise ProjectError(f"{where}: {e}") from None


def check_nesting(tl: Any, where: str) -> None:
    """Refuse a timeline from another tool whose stacks nest deeper than ``LIMITS.max_nesting`` (compound clips in
    compound clips...), before anything walks it: flattening thousands of levels takes minutes."""
    level, todo = 1, [tl.tracks]
    while todo:
        if level > args.LIMITS.max_nesting:
            raise ProjectError(
                f"{where}: stacks are nested more than {args.LIMITS.max_nesting} deep (nbedit.args.LIMITS.max_nesting)"
            )
        todo = [c for comp in todo for c in comp if isinstance(c, otio.core.Composition)]
        level += 1


def check_foreign(tl: Any, where: str) -> None:
    """Check a timeline from a file before it is imported: the nbedit data it carries (an nbedit export's pool
    and clips) and every time in it. The import rebuilds its structure (nested stacks flattened, gaps made), and
    :func:`validate` then checks what it made."""
    import json

    try:
        doc = json.loads(tl.to_json_string())
        media, _ = _head(doc)
        _walk(doc.get("tracks"), media)
    except _Bad as e:
        raise ProjectError(f"{where}: {e}") from None


def _walk(comp: Any, media: dict) -> None:
    for item in (comp.get("children") if isinstance(comp, dict) else None) or []:
        kind = _schema(item)
        where = f"{kind.lower() or 'an item'} {item.get('name')!r}" if isinstance(item, dict) else "an item"
        d = _ours(item) if isinstance(item, dict) else None
        if d is not None and not isinstance(d, dict):
            raise _Bad(f"{where}: its nbedit data is not a dictionary")
        if kind in ("Stack", "Track"):
            _walk(item, media)
            continue
        sr = item.get("source_range") if isinstance(item, dict) else None
        if isinstance(sr, dict):
            _seconds(sr.get("start_time"), f"{where} start")
            _seconds(sr.get("duration"), f"{where} duration")
        if kind == "Clip" and d is not None:
            for key in ("id", "media"):
                if key in d and not isinstance(d[key], str):
                    raise _Bad(f"{where}: clip {key} is {d[key]!r}, not text")
            _values(d, f"clip {d.get('id', item.get('name'))!r}", media)


def check_entry(entry: Any, where: str) -> None:
    """Check one media probe (``MediaInfo.to_dict()``, as a journal keeps it); ProjectError naming the field."""
    from .media import MediaInfo

    entry = plain(entry)
    name = os.path.basename(entry["path"]) if isinstance(entry, dict) and isinstance(entry.get("path"), str) else "?"
    try:
        _entry(name, entry)
        known = {f.name for f in fields(MediaInfo)}
        if unknown := sorted(set(entry) - known):
            raise _Bad(f"media {name!r} has fields a probe does not: {', '.join(unknown)}")
        if missing := sorted(known - set(entry)):
            raise _Bad(f"media {name!r} lacks fields of a probe: {', '.join(missing)}")
    except _Bad as e:
        raise ProjectError(f"{where}: {e}") from None


class _Bad(Exception):
    """A value of a timeline from a file that nbedit cannot use (the message names the field)."""


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    t = type(v)  # the JSON types first: this runs for every value of every clip
    return (t is float and v - v == 0) or t is int or (t is not bool and args.finite(v))


def _schema(obj: Any) -> str:
    """The OTIO schema name of a JSON object ("Clip", "Gap", ...), "" for anything else."""
    return obj.get("OTIO_SCHEMA", "").split(".")[0] if isinstance(obj, dict) else ""


def _ours(obj: dict) -> Any:
    meta = obj.get("metadata") or {}
    return meta.get(KEY) if isinstance(meta, dict) else None


def _validate(doc: Any) -> None:
    media, next_id = _head(doc)
    stack = doc.get("tracks")
    if _schema(stack) != "Stack":
        raise _Bad("its tracks are not a stack of tracks")
    _depth(stack, 1)
    _markers(stack, "the timeline")
    seen: set[str] = set()
    for track in stack.get("children", []):
        _track(track, media, seen, next_id)


def _head(doc: dict) -> tuple[dict, Any]:
    """Check the timeline's own nbedit data (format, next id, media pool); the pool and next id."""
    d = _ours(doc)
    d = {} if d is None else d
    if not isinstance(d, dict):
        raise _Bad(f"the timeline's nbedit data is a {type(d).__name__}, not a dictionary")
    fmt = d.get("format")
    if fmt is not None:
        if not isinstance(fmt, dict):
            raise _Bad(f"format is {fmt!r}, not {{width, height, fps}}")
        for k in ("width", "height"):
            if not (_is_int(fmt.get(k)) and fmt[k] > 0):
                raise _Bad(f"format {k} is {fmt.get(k)!r}: a picture size is a positive whole number of pixels")
        if fmt["width"] * fmt["height"] > args.LIMITS.max_pixels:
            raise _Bad(f"format {fmt['width']}x{fmt['height']} is beyond {args.LIMITS.max_pixels / 1e6:g} megapixels")
        _rate(fmt.get("fps"), "format fps")
    if "next_id" in d and not (_is_int(d["next_id"]) and d["next_id"] >= 1):
        raise _Bad(f"next_id is {d['next_id']!r}: it counts the ids given out, a whole number from 1")
    media = d.get("media", {})
    if not isinstance(media, dict):
        raise _Bad(f"the media pool is {type(media).__name__}, not a dictionary of entries")
    for mid, entry in media.items():
        _entry(mid, entry)
    return media, d.get("next_id")


def _markers(obj: dict, what: str) -> None:
    for marker in obj.get("markers") or []:
        rng = marker.get("marked_range") if isinstance(marker, dict) else None
        if not isinstance(rng, dict):
            raise _Bad(f"{what} has a marker without a range")
        name = f"{what}: marker {marker.get('name')!r}"
        start = _seconds(rng.get("start_time"), f"{name} start")
        length = _seconds(rng.get("duration"), f"{name} duration")
        if not (abs(start) <= args.LIMITS.max_seconds and 0 <= length <= args.LIMITS.max_seconds):
            raise _Bad(f"{name} at {start:g} s for {length:g} s is beyond {_span(args.LIMITS.max_seconds)}")


def _rate(fps: Any, what: str) -> Fraction:
    try:
        return args.rate(fps, what)
    except EditError as e:
        raise _Bad(str(e)) from None


def _entry(mid: Any, e: Any) -> None:
    if not isinstance(mid, str) or not isinstance(e, dict):
        raise _Bad(f"media {mid!r} is not a pool entry (an id and a dictionary)")
    what = f"media {mid!r}"
    for k in ("path", "sha256"):
        if not isinstance(e.get(k), str):
            raise _Bad(f"{what} {k} is {e.get(k)!r}, not text")
    if not isinstance(e.get("name", ""), str | None):
        raise _Bad(f"{what} name is {e['name']!r}, not text")
    if e.get("kind") not in MEDIA_KINDS:
        raise _Bad(f"{what} kind is {e.get('kind')!r}, not one of {', '.join(MEDIA_KINDS)}")
    dur = e.get("duration")
    if dur is not None and not (_is_num(dur) and dur >= 0):  # (long media is fine: the timeline's length is limited)
        raise _Bad(f"{what} duration is {dur!r}, not a number of seconds")
    if e.get("fps") is not None:
        _rate(e["fps"], f"{what} fps")
    for k in ("width", "height", "frame_count", "audio_rate", "audio_channels"):
        v = e.get(k)
        if v is not None and not (_is_int(v) and v >= 0):
            raise _Bad(f"{what} {k} is {v!r}, not a whole number")
    if e.get("width") and e.get("height") and e["width"] * e["height"] > args.LIMITS.max_pixels:
        raise _Bad(f"{what} is {e['width']}x{e['height']}: beyond {args.LIMITS.max_pixels / 1e6:g} megapixels")
    if e.get("rotation", 0) not in (0, 90, 180, 270):
        raise _Bad(f"{what} rotation is {e.get('rotation')!r}, not 0, 90, 180 or 270")
    if not _is_num(e.get("start_time", 0.0)):
        raise _Bad(f"{what} start_time is {e.get('start_time')!r}, not a number of seconds")
    if not isinstance(e.get("vfr", False), bool):
        raise _Bad(f"{what} vfr is {e.get('vfr')!r}, not true or false")


def _depth(stack: dict, level: int) -> None:
    if level > args.LIMITS.max_nesting:
        raise _Bad(f"stacks are nested more than {args.LIMITS.max_nesting} deep (nbedit.args.LIMITS.max_nesting)")
    for child in stack.get("children") or []:
        if _schema(child) in ("Stack", "Track"):
            _depth(child, level + 1)


def _seconds(t: Any, what: str) -> float:
    value, rate = (t.get("value"), t.get("rate")) if _schema(t) == "RationalTime" else (None, None)
    if not (_is_num(value) and _is_num(rate) and rate > 0):
        raise _Bad(f"{what} is {t!r}, not a finite time")
    return value / rate


def _track(track: Any, media: dict, seen: set[str], next_id: Any) -> None:
    kind = _schema(track)
    if kind != "Track":
        raise _Bad(f"the timeline holds a {kind or type(track).__name__} where a track goes")
    what = f"track {track.get('name')!r}"
    if track.get("kind") not in (otio.schema.TrackKind.Video, otio.schema.TrackKind.Audio):
        raise _Bad(f"{what} is of kind {track.get('kind')!r}, not Video or Audio")
    d = _ours(track)
    d = {} if d is None else d
    if not isinstance(d, dict):
        raise _Bad(f"{what}: its nbedit data is not a dictionary")
    for flag in ("solo", "lock"):
        if flag in d and not isinstance(d[flag], bool):
            raise _Bad(f"{what} {flag} is {d[flag]!r}, not true or false")
    if "blend" in d:
        blend = d["blend"]
        if not isinstance(blend, dict):
            raise _Bad(f"{what} blend is {blend!r}, not {{mode, opacity}}")
        _params(what + " blend", "blend", {k: v for k, v in blend.items() if k in ("mode", "opacity")})
    _markers(track, what)
    limit = args.LIMITS.max_seconds
    total = 0.0
    for n, item in enumerate(track.get("children") or [], 1):
        where = f"{what}, item {n}"
        kind = _schema(item)
        if kind in ("Stack", "Track"):
            raise _Bad(
                f"{where} is a nested {kind.lower()}: an nbedit track holds clips, gaps and crossfades (import the "
                "file with import_timeline to flatten it)"
            )
        if kind == "Transition":
            for side in ("in", "out"):
                offset = _seconds(item.get(f"{side}_offset"), f"{where}: crossfade {side} offset")
                if not 0 <= offset <= limit:
                    raise _Bad(f"{where}: crossfade {side} offset of {offset:g} s is out of range")
            continue
        if kind not in ("Clip", "Gap"):
            raise _Bad(f"{where} is a {kind or type(item).__name__}: an nbedit track holds clips, gaps and crossfades")
        sr = item.get("source_range")
        if not isinstance(sr, dict):
            raise _Bad(f"{where} has no source range")
        _seconds(sr.get("start_time"), f"{where} start")
        seconds = _seconds(sr.get("duration"), f"{where} duration")
        if seconds < 0 or seconds > limit:
            raise _Bad(
                f"{where}: a {kind.lower()} of {_span(seconds)} is beyond {_span(limit)}, the longest a timeline may "
                "be (nbedit.args.LIMITS.max_seconds)"
            )
        total += seconds
        if total > limit:
            raise _Bad(
                f"{what} lasts more than {_span(limit)}, the longest a timeline may be (nbedit.args.LIMITS.max_seconds)"
            )
        if kind == "Clip":
            _markers(item, where)
            _clip(item, where, media, seen, next_id)


def _span(seconds: float) -> str:
    """A length as an editor says it: "31 years", "24 hours", "24:00:01", "12.5 s"."""
    if seconds >= 1000 * 365.25 * 24 * 3600:  # 1e308 s: no one reads 300 digits of years
        return "more than a thousand years"
    if seconds >= 2 * 365 * 24 * 3600:
        return f"{seconds / (365.25 * 24 * 3600):.0f} years"
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} hours"
    if seconds >= 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{seconds % 60:06.3f}".rstrip("0").rstrip(".")
    return f"{seconds:g} s"


def _clip(clip: dict, where: str, media: dict, seen: set[str], next_id: Any) -> None:
    d = _ours(clip)
    for fx in clip.get("effects") or []:
        scalar = fx.get("time_scalar") if _schema(fx) == "LinearTimeWarp" else 1.0
        # 0: a freeze frame, as imports make them; below 0: reverse
        if not (_is_num(scalar) and -100 <= scalar <= 100):
            raise _Bad(f"{where}: speed {scalar!r} is not from -100 to 100")
    if d is None:
        return  # a foreign clip: nothing of ours to check
    if not isinstance(d, dict):
        raise _Bad(f"{where}: its nbedit data is not a dictionary")
    cid = d.get("id")
    if not isinstance(cid, str) or not cid:
        raise _Bad(f"{where}: clip id is {cid!r}, not text")
    where = f"clip {cid!r}"
    if cid in seen:
        raise _Bad(f"{where} appears twice: every clip has an id of its own")
    seen.add(cid)
    digits = cid.lstrip("abcdefghijklmnopqrstuvwxyz")
    if _is_int(next_id) and digits.isdigit() and int(digits) >= next_id:
        raise _Bad(f"next_id is {next_id}, but clip {cid!r} exists: the next new clip would take an id in use")
    if d.get("media") not in media:
        raise _Bad(f"{where} shows media {d.get('media')!r}, which is not in the media pool")
    _values(d, where, media)


def _values(d: dict, where: str, media: dict) -> None:
    """A clip's own values: opacity, gain, placement, links, effects."""
    if "opacity" in d and not (_is_num(d["opacity"]) and 0 <= d["opacity"] <= 1):
        raise _Bad(f"{where} opacity is {d['opacity']!r}, not a number from 0 to 1")
    if "gain_db" in d and not (_is_num(d["gain_db"]) and -100 <= d["gain_db"] <= 40):
        raise _Bad(f"{where} gain_db is {d['gain_db']!r}, not a number from -100 to 40")
    if "transform" in d:
        _transform(d["transform"], where)
    for key in ("linked", "masks"):
        if key in d and not (isinstance(d[key], list) and all(isinstance(v, str) for v in d[key])):
            raise _Bad(f"{where} {key} is {d[key]!r}, not a list of ids")
    if "effects" in d:
        _effects(d["effects"], where, media)


def _transform(t: Any, where: str) -> None:
    if not isinstance(t, dict):
        raise _Bad(f"{where} transform is {t!r}, not {{x, y, scale, crop}}")
    for k in ("x", "y"):
        if not _is_num(t.get(k, 0.0)):
            raise _Bad(f"{where} transform {k} is {t.get(k)!r}, not a number of pixels")
    scale = t.get("scale", 1.0)
    if not (_is_num(scale) and 0 < scale <= args.LIMITS.max_scale):
        raise _Bad(f"{where} transform scale is {scale!r}, not above 0 and at most {args.LIMITS.max_scale:g}")
    crop = t.get("crop", [0, 0, 0, 0])
    if not (isinstance(crop, list) and len(crop) == 4 and all(_is_int(c) and 0 <= c <= PIXELS for c in crop)):
        raise _Bad(f"{where} transform crop is {crop!r}, not four pixel counts")


def _effects(nodes: Any, where: str, media: dict) -> None:
    if not isinstance(nodes, list):
        raise _Bad(f"{where} effects is {nodes!r}, not a list of effect nodes")
    for node in nodes:
        if not isinstance(node, dict) or node.get("kind") not in KINDS:
            kind = node.get("kind") if isinstance(node, dict) else node
            raise _Bad(f"{where} has an effect of unknown kind {kind!r} (kinds are {', '.join(KINDS)})")
        what = f"{where} effect {node.get('id', '?')!r} ({node['kind']})"
        params = node.get("params", {})
        if not isinstance(params, dict):
            raise _Bad(f"{what} params is {params!r}, not a dictionary")
        _params(what, node["kind"], params)
        if "mask" in node and node["mask"] is not None and node["mask"] not in media:
            raise _Bad(f"{what} mask {node['mask']!r} is not in the media pool")
        if "invert" in node and not isinstance(node["invert"], bool):
            raise _Bad(f"{what} invert is {node['invert']!r}, not true or false")
        feather = node.get("feather", 0.0)
        if not (_is_num(feather) and feather >= 0):
            raise _Bad(f"{what} feather is {feather!r}, not a number of pixels")


def _params(what: str, kind: str, params: dict) -> None:
    for name, stored in params.items():
        if name not in KINDS[kind]:
            raise _Bad(f"{what} has no parameter {name!r} (it has {', '.join(KINDS[kind]) or 'none'})")
        try:
            check_param(kind, name, stored)
        except ValueError as e:
            raise _Bad(f"{what}: {e}") from None
