"""Round-trip fidelity: what two timelines show, frame by frame, and which markers they hold, compared.

    before = shown(s)                          # per track: (media, source frame, on) or the crossfade's weight
    t.import_timeline(s.export("cut.xml"))
    diff = compare(s, t)                       # Trip(frames=..., differ=..., markers_lost=..., ...)

A frame is the same when the same media's same source frame shows there (counted from the media's timecode, so
a format that moves where the media's frames are counted from is no difference), switched on or off alike, or,
inside a crossfade, when the crossfade weighs the two sides alike (an EDL moves the cut to where a dissolve
starts, so which side is "the" clip there is no difference). The tests in ``tests/test_interchange_roundtrip.py``
compare every shared sample through every format; ``docs/interchange_table.py`` writes what they find into
``docs/interchange.md``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from ..model import item_id, media_entry


@dataclass(frozen=True)
class Trip:
    """What a round trip changed: ``frames`` compared (per track, summed), ``differ`` of them not the same,
    ``first`` (track, frame) that differs, markers of the original missing from the copy and markers the copy
    has that the original has not (by name, case aside, and timeline frame)."""

    frames: int
    differ: int
    first: tuple[str, int] | None
    markers_lost: tuple[tuple[str, int], ...]
    markers_added: tuple[tuple[str, int], ...]

    @property
    def same(self) -> bool:
        return not self.differ and not self.markers_lost and not self.markers_added


def shown(s: Any, tracks: list[str] | None = None) -> dict[str, np.ndarray]:
    """Per track (all, or ``tracks``), one row per timeline frame: media name, source frame from the media's
    timecode origin, whether the clip is on, and the crossfade weight (-1 outside crossfades) in hundredths."""
    if not s.timeline.tracks or not any(len(t) for t in s.timeline.tracks):
        return {}
    ds = s.to_xarray()
    tl = s.timeline
    rate = float(Fraction(s.format["fps"]))
    on = {item_id(c): c.enabled for c in tl.find_clips()}
    out = {}
    for j, name in enumerate(ds.track.values.tolist()):
        if tracks is not None and name not in tracks:
            continue
        track = next(t for t in tl.tracks if t.name == name)
        mids = ds.media_id.values[:, j]
        entries = {m: media_entry(tl, m) for m in set(mids.tolist()) if m}
        names = np.array([entries[m]["name"] if m else "" for m in mids.tolist()], dtype=object)
        origin = np.array([float(Fraction(entries[m].get("source_timecode", 0))) if m else 0.0 for m in mids])
        src = np.where(mids != "", np.floor((ds.source_time.values[:, j] + origin) * rate + 1e-6), -1)
        enabled = np.array([track.enabled and on.get(c, True) for c in ds.clip_id.values[:, j].tolist()])
        mix = ds.mix.values[:, j]
        weight = np.where(np.isnan(mix), -1, np.round(np.nan_to_num(mix) * 100))
        out[name] = np.rec.fromarrays([names, src.astype(np.int64), enabled, weight.astype(np.int64)])
    return out


def markers(s: Any) -> list[tuple[str, int]]:
    """Every marker as (name in capitals, timeline frame): EDL locators come back upper-cased."""
    if not any(len(t) for t in s.timeline.tracks) and not s.timeline.tracks.markers:
        return []
    return sorted((m["name"].upper(), int(m["at"])) for m in s.markers())


def compare(a: Any, b: Any, tracks: dict[str, str] | None = None, marked: bool = True) -> Trip:
    """How session ``b`` differs from ``a``, frame by frame on every track of ``a`` (or on ``tracks``, a's track
    name -> b's), and marker by marker (unless ``marked`` is False)."""
    mine = shown(a, None if tracks is None else list(tracks))
    theirs = shown(b)
    frames = differ = 0
    first = None
    for name, x in mine.items():
        y = theirs.get(name if tracks is None else tracks[name])
        n = len(x)
        frames += n
        if y is None:  # a track the copy has not: a difference where something plays on it
            playing = x.f0 != ""
            differ += int(np.count_nonzero(playing))
            first = first or ((name, int(np.argmax(playing))) if playing.any() else None)
            continue
        m = min(n, len(y))
        xm, ym = x[:m], y[:m]
        fade = (xm.f3 >= 0) | (ym.f3 >= 0)
        bad = np.where(fade, xm.f3 != ym.f3, (xm.f0 != ym.f0) | (xm.f1 != ym.f1) | (xm.f2 != ym.f2))
        # past the shorter end, only frames where something plays on the longer count
        tail = x[m:] if n > m else y[m:]
        extra = int(np.count_nonzero(tail.f0 != ""))
        differ += int(np.count_nonzero(bad)) + extra
        if first is None and (bad.any() or extra):
            first = (name, int(np.argmax(bad)) if bad.any() else m)
    lost = added = ()
    if marked:
        ma, mb = Counter(markers(a)), Counter(markers(b))  # counted: a marker duplicated is a difference
        lost, added = tuple((ma - mb).elements()), tuple((mb - ma).elements())
    return Trip(frames, differ, first, lost, added)
