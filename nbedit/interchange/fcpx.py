"""FCPX XML: the writer needs a spine that reaches the end and a frame-duration table entry for NTSC rates, and
names formats by running ffprobe; the reader truncates rates to whole numbers. Each is worked around here."""

from __future__ import annotations

from fractions import Fraction

import opentimelineio as otio

from ..timeline import frames_of, trange
from .rates import snap_rate

Schema = otio.schema


def prepare(tl: Schema.Timeline, end: int) -> None:
    """FCPX XML: clips on V2.. and audio become lanes connected to a clip or gap of the spine (V1); the adapter
    crashes when V1 ends before them, so V1 gets a gap to the end. It writes no transitions (the clips keep their
    cut points) and no speed changes."""
    rate = snap_rate(tl.global_start_time.rate)
    video = [t for t in tl.tracks if t.kind == Schema.TrackKind.Video]
    if not video:
        spine = Schema.Track(name="V1", kind=Schema.TrackKind.Video)
        tl.tracks.insert(0, spine)
        video = [spine]
    spine = video[0]
    have = sum(frames_of(c.source_range.duration) for c in spine if not isinstance(c, Schema.Transition))
    if end > have:
        spine.append(Schema.Gap(source_range=trange(0, end - have, rate)))
    for track in tl.tracks:
        track[:] = [c for c in track if not isinstance(c, Schema.Transition)]
        for c in track:
            if isinstance(c, Schema.Clip):
                c.effects[:] = [e for e in c.effects if not isinstance(e, Schema.LinearTimeWarp)]


def text(tl: Schema.Timeline, fmt: dict) -> str:
    """FCPX XML text. The writer looks frame durations up in a table keyed by int(rate) or by rate (29.97 and
    23.98 as typed, not 30000/1001), so NTSC rates find none and it fails: the exact rate is added to the table
    while it writes. It still counts connected clips' offsets at the whole rate (29, not 29.97), so at NTSC rates
    V2.. and audio may land a frame off; and it names formats by running ffprobe (no name when that is absent),
    so each format element gets the timeline's size instead."""
    rate = Fraction(fmt["fps"])
    table = otio.adapters.from_name("fcpx_xml").module().FRAMERATE_FRAMEDURATION  # the module OTIO runs
    added = float(rate) not in table
    if added:
        table[float(rate)] = f"{rate.denominator}/{rate.numerator}s"
    try:
        return _fix_formats(otio.adapters.write_to_string(tl, "fcpx_xml"), fmt)
    finally:
        if added:
            del table[float(rate)]


def _fix_formats(text: str, fmt: dict) -> str:
    import xml.etree.ElementTree as ET

    rate = Fraction(fmt["fps"])
    head, _, body = text.partition("<fcpxml")
    root = ET.fromstring("<fcpxml" + body)
    for f in root.iter("format"):
        f.set("frameDuration", f"{rate.denominator}/{rate.numerator}s")
        f.set("width", str(fmt["width"]))
        f.set("height", str(fmt["height"]))
        if not f.get("name"):
            del f.attrib["name"]
    return head + ET.tostring(root, encoding="unicode")


def true_rate(rate: Fraction) -> Fraction:
    """The rate an FCPX file was made at, from the rate the reader gives: the reader truncates rates to whole
    numbers (29.97 reads as 29): those are NTSC rates."""
    if rate in (23, 29, 59):
        return Fraction((int(rate) + 1) * 1000, 1001)
    return rate


def drop_lane_markers(tl: Schema.Timeline) -> int:
    """The FCPX reader gives a spine clip the markers of every clip connected to it too (it collects markers from
    the element's whole subtree): those copies are taken off the spine clips (lane "0"). Returns how many."""
    dropped = 0
    for stack in [tl.tracks, *tl.find_children(descended_from_type=Schema.Stack)]:
        lanes = [t for t in stack if isinstance(t, Schema.Track)]
        connected = {_key(m) for t in lanes if t.name != "0" for item in t for m in getattr(item, "markers", ())}
        for t in lanes:
            if t.name != "0":
                continue
            for item in t:
                markers = list(getattr(item, "markers", ()))
                kept = [m for m in markers if _key(m) not in connected]
                if len(kept) < len(markers):
                    dropped += len(markers) - len(kept)
                    item.markers[:] = kept
    return dropped


def _key(m: Schema.Marker) -> tuple:
    r = m.marked_range
    return m.name, m.color, r.start_time.value, r.start_time.rate, r.duration.value
