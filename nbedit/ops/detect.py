"""Detectors as recorded operations: speech regions and shot cuts become markers, splits or a ripple edit.

    s.speech("c1")                               # a "speech" marker (with its duration) per region of c1's sound
    s.remove_silence("c1", min_gap=0.5, pad=0.1) # cut out pauses over 0.5 s, keeping 0.1 s of each side
    s.detect_shots("c2")                         # a "shot" marker at each hard cut; split=True cuts the clip there

Speech is found by the bundled Silero VAD ("speech-detector", ``nbedit models install-bundled``) when it is
installed, else by the classic voice-band energy detector; shots by PySceneDetect's ContentDetector when it is
installed, else by a frame-difference detector. What was found is pinned into the recorded call (``regions=``,
``cuts=``: timeline seconds, and ``method=``), so a replay or the recipe redoes the same edit without running any
detector: ``s.remove_silence("c1", min_gap=0.5, pad=0.1, method="learned", cuts=((2.1, 3.4),))`` is a plain
ripple delete of those ranges. Which detector ran is in the result (``Detected.method``, ``.model``), in the
markers' notes, and for speech and shots in the clip's ``metadata["nbedit"]["detected"]`` (with the model's
weights sha256, source package and licence); remove_silence leaves only the cut, so its recipe replays to the
same timeline.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import opentimelineio as otio

from .. import args
from .. import model as schema
from ..errors import EditError, MediaError
from ..model import source_at, source_in
from . import edit
from .context import Edit
from .graph import video_clip
from .tools import entry_of, reader_of, span

SPEECH_MODEL = "speech-detector"
SPEECH_TASK = "speech-detection"
METHODS = ("learned", "classic")


@dataclass(frozen=True)
class Detected:
    """What a detector found and which one: ``method`` is "learned: speech-detector", "classic: energy",
    "scenedetect: content" or "classic: frame difference" ("given" for findings passed in by hand); ``ran`` is
    False when the call took its findings from its arguments (a replay) and ran no detector."""

    method: str
    found: tuple  # speech regions or cut times, timeline seconds
    markers: tuple[str, ...] = ()
    clips: tuple[str, ...] = ()  # the clips after the edit (remove_silence's pieces, detect_shots' splits)
    ran: bool = True
    model: dict | None = None  # the model's provenance when one ran (name, weights sha256, source, licence)


DESCRIBE = {
    ("speech", "learned"): f"learned: {SPEECH_MODEL}",
    ("speech", "classic"): "classic: energy",
    ("shots", "scenedetect"): "scenedetect: content",
    ("shots", "classic"): "classic: frame difference",
}


# ---- speech ---------------------------------------------------------------------------------------------


def speech(
    e: Edit,
    clip: Any,
    *,
    min_speech: float = 0.25,
    min_silence: float = 0.3,
    method: str | None = None,
    regions: tuple | None = None,
    progress: bool = True,
) -> Detected:
    """Mark where people speak in a clip's sound: one "speech" marker, as long as the speech, per region.

    ``s.speech("c1")`` records ``s.speech('c1', method='learned', regions=((0.99, 3.55), (5.5, 7.94)))``: the
    detector that ran and what it found (timeline seconds), so replaying the call marks the same regions and
    runs no detector. Pauses shorter than ``min_silence`` seconds stay inside a region; regions shorter than
    ``min_speech`` are dropped. ``method``: "learned" (the bundled speech-detector), "classic" (energy in the
    voice band), or None (learned when installed).
    """
    cid, ti, i, entry = _sound_clip(e, clip, "speech")
    rule = _rule(min_speech, min_silence)
    if regions is None:
        found, word, used = _speech_regions(e, cid, ti, i, entry, rule, method, progress)
        e.pin(method=word, regions=found)
    else:
        found, word, used = _spans(regions, "regions"), _recorded(method, METHODS), e.saved.get("model")
    ran = DESCRIBE.get(("speech", word), "given")
    p, item = ti.placed(i), ti.items[i]
    made = []
    owned = e.own(ti, i)
    for a, b in found:
        start, end = _source_frame(e, item, p.start, a), _source_frame(e, item, p.start, b)
        mid = e.new_id("mk")
        owned.markers.append(schema.new_marker(mid, "speech", "GREEN", start, max(1, end - start), e.rate, ran))
        made.append(mid)
    _provenance(e, cid, "speech", ran, used)
    return Detected(ran, found, tuple(made), (cid,), regions is None, used)


def remove_silence(
    e: Edit,
    clip: Any,
    *,
    min_gap: float = 0.5,
    pad: float = 0.1,
    method: str | None = None,
    cuts: tuple | None = None,
    progress: bool = True,
) -> Detected:
    """Cut the pauses out of a clip (and the clips linked to it): a ripple edit, undone in one step.

    ``s.remove_silence("c1", min_gap=0.5, pad=0.1)`` records ``s.remove_silence('c1', min_gap=0.5, pad=0.1,
    method='learned', cuts=((0.0, 0.89), (3.65, 5.4)))``. It removes every silence longer than ``min_gap`` seconds,
    keeping ``pad`` seconds of it beside the speech on each side; what follows on the clip's tracks moves up.
    The ranges cut are recorded (``cuts=``, timeline seconds as they were before the edit), so the recorded
    call is a plain ripple delete that replays without the detector.
    """
    cid, ti, i, entry = _sound_clip(e, clip, "remove_silence")
    min_gap = _seconds(min_gap, "min_gap", lo=0.0)
    pad = _seconds(pad, "pad", lo=0.0)
    if 2 * pad >= min_gap and min_gap > 0:
        raise EditError(f"pad ({pad} s each side) must leave something of a min_gap ({min_gap} s) silence to cut")
    p = ti.placed(i)
    if cuts is None:
        speech_at, word, used = _speech_regions(e, cid, ti, i, entry, _rule(0.25, 0.3), method, progress)
        ranges = _silences(speech_at, float(p.start / e.rate), float(p.end / e.rate), min_gap, pad)
        e.pin(method=word, cuts=ranges)
    else:
        ranges, word, used = _spans(cuts, "cuts"), _recorded(method, METHODS), e.saved.get("model")
    frames = [(e.frames(a, "cuts"), e.frames(b, "cuts")) for a, b in ranges]
    for a, b in frames:
        if not p.start <= a < b <= p.end:
            raise EditError(f"cut {a / e.rate:.3f}-{b / e.rate:.3f} s is not inside clip {cid!r}")
    pieces = [cid]
    for a, b in reversed(frames):  # from the end: what is still to cut keeps its place
        right = _cut(e, cid, a, b)
        if right is not None:
            pieces.insert(1, right)
    # the pieces carry no detector data: the recorded call is a plain cut, and replays to the same timeline
    ran = DESCRIBE.get(("speech", word), "given")
    return Detected(ran, ranges, (), tuple(pieces), cuts is None, used)


def _cut(e: Edit, cid: str, a: int, b: int) -> str | None:
    """Ripple-delete timeline frames [a, b) of clip ``cid`` (and its linked clips): split, delete, close up."""
    ti, i = e.find(cid)
    p = ti.placed(i)
    if a == p.start and b == p.end:
        raise EditError(f"clip {cid!r} would be cut away whole: it holds no speech")
    if a == p.start:  # the clip's head goes: it keeps its id and place, and what is left moves up to it
        edit.trim_frames(e, cid, source_at(ti.items[i], b - a), None, ripple=True)
        return None
    rate, right = e.rate, None
    if b < p.end:
        right = str(edit.split(e, cid, at=otio.opentime.RationalTime(b, float(rate)))[1])
    _, middle = edit.split(e, cid, at=otio.opentime.RationalTime(a, float(rate)))
    edit.delete(e, middle, ripple=True)
    return right


def _silences(speech_at: tuple, start: float, end: float, min_gap: float, pad: float) -> tuple:
    """Timeline ranges to cut: each pause between ``start`` and ``end`` longer than ``min_gap``, less ``pad``
    beside speech (a pause at the clip's edge loses all of its outer side)."""
    bounds = [start, *[t for r in speech_at for t in r], end]
    out = []
    for k in range(0, len(bounds), 2):
        a, b = bounds[k], bounds[k + 1]
        if b - a <= min_gap:
            continue
        lo = a if k == 0 else a + pad
        hi = b if k == len(bounds) - 2 else b - pad
        if hi > lo:
            out.append((round(lo, 3), round(hi, 3)))
    return tuple(out)


# ---- shots -------------------------------------------------------------------------------------------------


def detect_shots(
    e: Edit,
    clip: Any,
    *,
    split: bool = False,
    threshold: float | None = None,
    method: str | None = None,
    cuts: tuple | None = None,
    progress: bool = True,
) -> Detected:
    """Find the hard cuts inside a video clip: a "shot" marker at each one, or (``split=True``) cut it there.

    ``s.detect_shots("c2")`` records ``s.detect_shots('c2', method='scenedetect', cuts=(1.0, 2.0))``;
    ``s.detect_shots("c2", split=True)`` leaves one clip per shot. ``method``:
    "scenedetect" (PySceneDetect's ContentDetector), "classic" (frame difference) or None (the first when
    installed); ``threshold`` is the detector's own (27 and 30 by default). The cuts are recorded (``cuts=``,
    timeline seconds), so a replay cuts at the same frames.
    """
    cid, ti, i = video_clip(e, clip, "detect_shots")
    if not isinstance(split, bool):
        raise EditError(f"split must be True or False, not {split!r}")
    entry = entry_of(e, ti.items[i])
    if entry["kind"] != "video":
        raise EditError(f"detect_shots needs moving pictures: clip {cid!r} shows a {entry['kind']}")
    if cuts is None:
        if method not in (None, "scenedetect", "classic"):
            raise EditError(f"method must be 'scenedetect', 'classic' or None (either), not {method!r}")
        if threshold is not None and (not args.finite(threshold) or threshold <= 0):
            raise EditError(f"threshold must be a positive number, not {threshold!r}")
        times, word = _shot_cuts(e, cid, ti, i, entry, method or "auto", threshold, progress)
        e.pin(method=word, cuts=times)
    else:
        times, word = _spans(cuts, "cuts", pairs=False), _recorded(method, ("scenedetect", "classic"))
    ran = DESCRIBE.get(("shots", word), "given")
    p = ti.placed(i)
    frames = [e.frames(t, "cuts") for t in times]
    for f in frames:
        if not p.start < f < p.end:
            raise EditError(f"cut {f / e.rate:.3f} s is not inside clip {cid!r}")
    _provenance(e, cid, "shots", ran, None)  # before any split: every piece says which detector cut it
    made: list[str] = []
    clips = [cid]
    if split:
        for f in reversed(frames):
            _, right = edit.split(e, cid, at=otio.opentime.RationalTime(f, float(e.rate)))
            clips.insert(1, str(right))
    else:
        ti, i = e.find(cid)
        item, owned = ti.items[i], e.own(ti, i)
        for f in frames:
            mid = e.new_id("mk")
            start = _source_frame(e, item, p.start, f / e.rate)
            owned.markers.append(schema.new_marker(mid, "shot", "CYAN", start, 0, e.rate, ran))
            made.append(mid)
    return Detected(ran, times, tuple(made), tuple(clips), cuts is None)


def _shot_cuts(e: Edit, cid, ti, i, entry, method: str, threshold, progress: bool) -> tuple[tuple, str]:
    from ..tools.shots import scenedetect_installed, shot_finder

    if method == "scenedetect" and not scenedetect_installed():
        raise EditError("method='scenedetect' needs PySceneDetect: pip install scenedetect-headless")
    p, item = ti.placed(i), ti.items[i]
    with reader_of(entry) as reader:
        first, last = span(e, reader, ti, i)
        fps = Fraction(entry.get("fps") or e.rate)
        finder = shot_finder(method, fps=fps, threshold=threshold)
        bar = _bar(last - first + 1, progress, f"shots {cid}", "frame")
        found: list[int] = []
        try:
            for k in range(first, last + 1):
                found += finder.feed(k - first, reader.frame(k))
                bar.update(1)
            found += finder.end(last - first + 1)
        finally:
            bar.close()
        media_times = [float(reader.frame_times[first + k]) for k in sorted(set(found)) if 0 < k <= last - first]
    rate, scalar, src0 = e.rate, schema.time_scalar(item), source_in(item)
    times = []
    for t in media_times:
        frame = p.start + schema.half_up((Fraction(t).limit_denominator(10**6) * rate - src0) / scalar)
        if p.start < frame < p.end:
            times.append(round(float(frame / rate), 3))
    return tuple(dict.fromkeys(times)), finder.method.split(":")[0]


# ---- reading the sound -------------------------------------------------------------------------------------


def _sound_clip(e: Edit, clip: Any, what: str) -> tuple[str, Any, int, Any]:
    cid = e.clip_id(clip)
    ti, i = e.find(cid)
    entry = entry_of(e, ti.items[i])
    if not entry.get("audio_rate"):
        raise MediaError(f"{what} listens to a clip's sound: clip {cid!r} shows {entry['name']!r}, which has none")
    return cid, ti, i, entry


def _speech_regions(e: Edit, cid, ti, i, entry, rule, method, progress) -> tuple[tuple, str, dict | None]:
    """Speech regions of clip i's sound in timeline seconds (3 decimals), which detector found them, and the
    model's provenance when a model ran."""
    from .. import media
    from ..tools import speech as sp

    if method not in (None, *METHODS):
        raise EditError(f"method must be 'learned', 'classic' or None (learned when installed), not {method!r}")
    runner = None if method == "classic" else _speech_model(e)
    if method == "learned" and runner is None:
        raise EditError(
            "method='learned' needs the bundled speech detector: nbedit models install-bundled --only speech-detector"
        )
    import os

    if not os.path.exists(entry["path"]):
        raise MediaError(f"media {entry['name']!r} is offline ({entry['path']}): speech detection needs its sound")
    p, item = ti.placed(i), ti.items[i]
    rate, scalar = e.rate, schema.time_scalar(item)
    t0 = float(source_in(item) / rate)  # media seconds where the clip's sound starts, and ends
    t1 = float(source_at(item, p.end - p.start) / rate)
    first = max(0, round(t0 * sp.SAMPLE_RATE))
    count = max(1, round(t1 * sp.SAMPLE_RATE) - first)
    pcm = media.read_audio(
        entry["path"], rate=sp.SAMPLE_RATE, channels=1, info=schema.media_info(entry), start=first, count=count
    )[0]
    used = None
    if runner is None:
        scores, word = sp.energy_scores(pcm), "classic"
    else:
        vad, inst = runner
        rule = dataclasses.replace(rule, lag=vad.lag)
        bar = _bar(-(-count // sp.WINDOW), progress, f"speech {cid}", "window")
        try:
            scores = vad.scores(pcm, step=bar.update)
        finally:
            bar.close()
        word, used = "learned", inst.provenance
        e.keep(model=used)  # a reopen's replay runs no model, and still says which one found the regions
    found = sp.regions(scores, rule, length_s=count / sp.SAMPLE_RATE)
    # media seconds from the clip's first sample -> timeline seconds
    start = float(p.start / rate)
    out = tuple((round(start + a / float(scalar), 3), round(start + b / float(scalar), 3)) for a, b in found)
    return out, word, used


def _speech_model(e: Edit) -> Any:
    pool = e.env.models() if e.env.models is not None else None
    if pool is None:
        return None
    from ..models.speech import SileroVad

    return pool.bundled(SPEECH_MODEL, task=SPEECH_TASK, load=SileroVad.load)


def _provenance(e: Edit, cid: str, kind: str, ran: str, used: dict | None) -> None:
    """Say on the clip which detector made its markers or cuts (with the model's provenance when one ran)."""
    ti, i = e.find(cid)
    done = dict(schema.detected_of(ti.items[i]))
    done[kind] = {"method": ran, **(used or {})}
    e.set_clip(cid, "detected", done)


# ---- small helpers ------------------------------------------------------------------------------------------


def _recorded(method: Any, known: tuple) -> str | None:
    """The method a call with its findings given names (the detector that found them when it was recorded)."""
    if method is not None and method not in known:
        raise EditError(f"method must be one of {', '.join(known)} or None, not {method!r}")
    return method


def _rule(min_speech: Any, min_silence: Any) -> Any:
    from ..tools.speech import Hysteresis

    return Hysteresis(
        min_speech=_seconds(min_speech, "min_speech", lo=0.0), min_silence=_seconds(min_silence, "min_silence", lo=0.0)
    )


def _seconds(value: Any, what: str, *, lo: float) -> float:
    if isinstance(value, bool) or not args.finite(value) or value < lo:
        raise EditError(f"{what} is a number of seconds, at least {lo}, not {value!r}")
    return float(value)


def _spans(value: Any, what: str, *, pairs: bool = True) -> tuple:
    """Recorded ranges ((a, b), ...) or times (t, ...) in timeline seconds, checked and in order."""
    if not isinstance(value, tuple | list):
        raise EditError(f"{what} is a list of timeline seconds, not {value!r}")
    out = []
    for v in value:
        if pairs:
            ok = isinstance(v, tuple | list) and len(v) == 2 and all(args.finite(x) and x >= 0 for x in v)
            if not ok or v[1] <= v[0]:
                raise EditError(f"each of {what} is (start, end) in timeline seconds, end after start, not {v!r}")
            out.append((float(v[0]), float(v[1])))
        else:
            if isinstance(v, bool) or not args.finite(v) or v < 0:
                raise EditError(f"each of {what} is a time in timeline seconds, not {v!r}")
            out.append(float(v))
    keys = [o[0] if pairs else o for o in out]
    if keys != sorted(keys) or (pairs and any(a[1] > b[0] for a, b in zip(out, out[1:], strict=False))):
        raise EditError(f"{what} must be in timeline order and must not overlap")
    return tuple(out)


def _source_frame(e: Edit, item: Any, start: int, t: float) -> Any:
    """The clip's source frame under timeline second ``t`` (a clip's markers count source frames)."""
    offset = round(Fraction(t).limit_denominator(10**6) * e.rate) - start
    return source_at(item, offset)


def _bar(total: int, progress: bool, desc: str, unit: str) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, unit=unit, desc=desc, leave=False, disable=not progress or total < 200)
