"""FCP 7 XML: the writer leaves the sequence size and speed changes out, and the reader leaves speed as a plain
effect; here the size and the Time Remap filter (FCP 7's constant speed) are written and read."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import NamedTuple

import opentimelineio as otio
from opentimelineio.opentime import RationalTime, TimeRange

from .adapters import plain

Schema = otio.schema


def prepare(tl: Schema.Timeline, fmt: dict) -> None:
    """FCP 7 XML: the adapter writes an empty sequence <format> and no speed changes. It writes an item's
    metadata["fcp_xml"] entries as XML children of the item's element, so the sequence's picture size goes in
    the timeline's, and a clip's speed in its own as the Time Remap filter FCP 7 keeps constant speed in (the
    clip's in/out points then count frames of the retimed clip, so the in point is scaled)."""
    size = {"width": str(fmt["width"]), "height": str(fmt["height"])}
    tl.metadata["fcp_xml"] = {"media": {"video": {"format": {"samplecharacteristics": size}}}}
    for item in [*tl.tracks, *tl.find_clips()]:  # the writer ignores OTIO's flag: FCP 7's own element says it
        if not item.enabled:
            item.metadata["fcp_xml"] = {"enabled": "FALSE"}
    for clip, scalar in speeds(tl):
        if scalar in (0, 1):
            continue
        clip.effects[:] = [e for e in clip.effects if not isinstance(e, Schema.LinearTimeWarp)]
        sr = clip.source_range
        clip.source_range = TimeRange(RationalTime(float(in_point(clip, scalar)[0]), sr.start_time.rate), sr.duration)
        reverse, scalar = scalar < 0, abs(scalar)
        params = [
            {"parameterid": "variablespeed", "name": "variablespeed", "value": "0"},
            # digits enough for the reader to find the exact ratio again (119/60, not 1.98333)
            {"parameterid": "speed", "name": "speed", "value": f"{float(scalar) * 100:.10g}"},
            {"parameterid": "reverse", "name": "reverse", "value": "TRUE" if reverse else "FALSE"},
        ]
        effect = {
            "name": "Time Remap",
            "effectid": "timeremap",
            "effectcategory": "motion",
            "effecttype": "motion",
            "mediatype": "video",
            "parameter": params,
        }
        clip.metadata.setdefault("fcp_xml", {})["filter"] = {"effect": effect}


def lowest_first(clip: Schema.Clip, speed: Fraction) -> TimeRange:
    """A reversed clip's source range as the formats keep it: from the lowest frame it shows (nbedit keeps the
    frame it shows first, its highest), for ``speed`` (the speed without its sign)."""
    sr = clip.source_range
    low = Fraction(sr.start_time.value).limit_denominator(10**6) - (round(sr.duration.value) - 1) * speed
    return TimeRange(RationalTime(float(low), sr.start_time.rate), sr.duration)


def in_point(clip: Schema.Clip, scalar: Fraction) -> tuple[Fraction, bool]:
    """``retimed_in`` for any speed: FCP 7 and Premiere keep a reversed clip's in point at its lowest frame (which
    it shows last), at the speed without its sign."""
    if scalar >= 0:
        return retimed_in(clip, scalar)
    low = clip.clone()
    low.source_range = lowest_first(clip, -scalar)
    return retimed_in(low, -scalar)


def retimed_in(clip: Schema.Clip, scalar: Fraction) -> tuple[Fraction, bool]:
    """A retimed clip's FCP 7 in point (whole frames of the retimed clip from the media's start) whose first
    frame shown, read back, is the one nbedit shows; and whether there is one (at speeds above 1 there may not
    be: then the nearest)."""
    ref = clip.media_reference
    origin = Fraction(ref.available_range.start_time.value) if ref.available_range else Fraction(0)
    src = Fraction(clip.source_range.start_time.value).limit_denominator(10**6)
    exact = (src - origin) / scalar
    for k in (math.ceil(exact), math.floor(exact)):
        if math.floor(origin + k * scalar) == math.floor(src):
            return origin + k, True
    return origin + round(exact), False


def speeds(tl: Schema.Timeline) -> list[tuple[Schema.Clip, Fraction]]:
    """The clips with a LinearTimeWarp, and its speed."""
    out = []
    for clip in tl.find_clips():
        for e in clip.effects:
            if isinstance(e, Schema.LinearTimeWarp):
                out.append((clip, Fraction(e.time_scalar).limit_denominator(10**6)))
                break
    return out


def lost(tl: Schema.Timeline) -> list[str]:
    """What FCP 7 XML cannot hold of this timeline's speed changes: freeze frames (a constant Time Remap has no
    speed 0), and in points that fall between two frames of the retimed clip."""
    out = []
    warps = speeds(tl)
    frozen = sum(1 for _, scalar in warps if scalar == 0)
    if frozen:
        out.append(f"freeze frames ({frozen} clip{'s' * (frozen > 1)}: FCP 7 XML holds no speed 0)")
    off = sum(1 for clip, scalar in warps if scalar != 0 and not in_point(clip, scalar)[1])
    if off:
        out.append(
            f"exact in points of {off} speed-changed clip{'s' * (off > 1)} (FCP 7 counts them in whole frames of "
            "the retimed clip: they start up to a source frame off)"
        )
    return out


class TimeRemap(NamedTuple):
    speed: Fraction  # 1 is normal speed
    variable: bool  # variable speed (nbedit plays the base speed)
    reverse: bool


def is_time_remap(effect: Schema.Effect) -> bool:
    """Whether an effect is FCP 7's Time Remap filter, which the adapter reads as a plain effect."""
    fx = effect.metadata.get("fcp_xml", {})
    return bool(fx) and fx.get("effectid") == "timeremap"


def time_remap(effect: Schema.Effect) -> TimeRemap | None:
    """The speed an FCP 7 Time Remap filter states (None for any other effect). FCP 7 states it in percent."""
    if not is_time_remap(effect):
        return None
    params = plain(effect.metadata["fcp_xml"]).get("parameter", [])
    params = [params] if isinstance(params, dict) else params  # one <parameter> reads as a dict
    value = {p.get("parameterid"): p.get("value") for p in params if isinstance(p, dict)}
    variable = str(value.get("variablespeed", "0")) not in ("0", "FALSE", "None")
    try:  # the percentage as written (198.333 is 119/60 to five digits): the simplest ratio that close to it
        speed = (Fraction(str(value.get("speed", "100"))) / 100).limit_denominator(10**4)
    except ValueError:
        speed = Fraction(1)
    reverse = str(value.get("reverse", "FALSE")).upper() == "TRUE"
    return TimeRemap(speed, variable, reverse)


def frame_size(tl: Schema.Timeline) -> tuple[int, int] | None:
    """The sequence size an FCP 7 XML file states (the adapter leaves it in the timeline's metadata)."""
    try:
        sc = tl.metadata["fcp_xml"]["media"]["video"]["format"]["samplecharacteristics"]
        return int(sc["width"]), int(sc["height"])
    except (KeyError, TypeError, ValueError):
        return None


def read_enabled(tl: Schema.Timeline) -> list[str]:
    """Clips, nested sequences and tracks FCP 7 has switched off (``<enabled>FALSE</enabled>``), made disabled in
    OTIO's terms: the reader keeps the element in the item's metadata but not in its ``enabled`` flag. Returns
    what it switched off, in words."""
    out = []
    for item in [*tl.tracks, *tl.find_children()]:
        fx = item.metadata.get("fcp_xml")
        if isinstance(item, Schema.Transition) or not hasattr(fx, "get"):  # an OTIO AnyDictionary, or nothing
            continue
        if str(fx.get("enabled", "")).upper() == "FALSE" and item.enabled:
            item.enabled = False
            out.append(f"{'track' if isinstance(item, Schema.Track) else 'clip'} {item.name!r}")
    return out
