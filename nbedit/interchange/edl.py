"""CMX 3600 EDL: reading at a rate the file does not state, repairing what the reader gets wrong about
dissolves, and writing one file per track (the writer writes one video track only)."""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
from opentimelineio.opentime import TimeRange

from ..timeline import rt
from .adapters import atomic, quiet
from .errors import InterchangeError
from .rates import snap_rate

Schema = otio.schema

RATE_LINE = re.compile(r"^\* NBEDIT FRAME RATE: (\d+(?:/\d+)?)[ \t]*\r?\n", re.M)

# Rates tried, lowest first, for an EDL whose rate is not given: EDLs do not say, and the adapter refuses
# timecodes whose frame field does not fit the rate it is told.
EDL_RATES = (24, 25, 30, 50, 60)


# ---- reading ----


def read(
    path: Path, rate: Fraction | None, options: dict | None = None
) -> tuple[Schema.Timeline, Fraction, str | None]:
    """The timeline in an EDL, the rate it was read at (``rate``, else the lowest that fits) and a note when
    that rate was guessed."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        raise InterchangeError(path, f"cannot read it: {e}") from e
    stated = RATE_LINE.search(text)
    if stated is not None:  # our own EDLs say their rate in a comment the reader would refuse: take it out
        text = text[: stated.start()] + text[stated.end() :]
        if rate is None:
            try:
                rate = snap_rate(Fraction(stated.group(1)))
            except (ValueError, ZeroDivisionError):
                pass
            else:
                obj = _read_at(path, text, rate, options or {})
                return obj, rate, f"read at {rate} fps, the rate the EDL states"
    # drop-frame timecode (FCM: DROP FRAME, or ';' before the frames) is 29.97 or 59.94 fps
    drop = re.search(r"^FCM:\s*DROP FRAME|\d\d:\d\d:\d\d;\d\d", text, re.M) is not None
    ntsc = [Fraction(30000, 1001), Fraction(60000, 1001)]
    rates = [rate] if rate is not None else (ntsc if drop else [Fraction(r) for r in EDL_RATES])
    errors: list[Exception] = []
    for r in rates:
        try:
            with quiet():
                obj = otio.adapters.read_from_string(text, adapter_name="cmx_3600", rate=float(r), **(options or {}))
        except Exception as e:  # timecodes that do not fit this rate, durations that disagree at it, or worse
            errors.append(e)
            continue
        note = None
        if rate is None:
            note = f"EDLs do not state a frame rate: read at {r} fps, the lowest common rate it reads at"
        _repair_dissolves(obj)
        return obj, r, note
    if rate is None and all("Frame rate mismatch" in str(e) for e in errors):
        raise InterchangeError(
            path, f"no common frame rate fits its timecodes ({errors[-1]}): pass rate=... to import_timeline"
        )
    # a fault of the file itself, not of a rate: what the reading at the lowest rate found
    fault = next(e for e in errors if rate is not None or "Frame rate mismatch" not in str(e))
    raise InterchangeError(path, f"the EDL reader failed: {fault}", _place(text, fault)) from fault


def _read_at(path: Path, text: str, rate: Fraction, options: dict) -> Schema.Timeline:
    try:
        with quiet():
            obj = otio.adapters.read_from_string(text, adapter_name="cmx_3600", rate=float(rate), **options)
    except Exception as e:
        raise InterchangeError(path, f"the EDL reader failed at its stated {rate} fps: {e}", _place(text, e)) from e
    _repair_dissolves(obj)
    return obj


def _state_rate(text: str, rate: Fraction) -> str:
    """The EDL with a comment saying its rate after the header (readers that do not know it skip comments)."""
    line = f"* NBEDIT FRAME RATE: {rate.numerator}/{rate.denominator}\n"
    m = re.search(r"^FCM:.*\n", text, re.M) or re.search(r"^TITLE:.*\n", text, re.M)
    return text[: m.end()] + line + text[m.end() :] if m else line + text


def _repair_dissolves(tl: Schema.Timeline) -> None:
    """The EDL reader gives a dissolve's incoming clip the outgoing clip's media (its FROM CLIP line) and its
    markers (the LOC lines the writer repeats there); the incoming clip's own media is in a TO CLIP comment."""
    for track in tl.tracks:
        before = None
        for clip in track:
            if not isinstance(clip, Schema.Clip):
                continue
            for comment in clip.metadata.get("cmx_3600", {}).get("comments", []):
                m = re.match(r"TO CLIP:\s*(.+)$", comment)
                if m and isinstance(clip.media_reference, Schema.ExternalReference):
                    clip.media_reference.target_url = m.group(1).strip()
                    if before is not None:
                        theirs = [(x.name, x.marked_range) for x in before.markers]
                        clip.markers[:] = [x for x in clip.markers if (x.name, x.marked_range) not in theirs]
            before = clip


def _place(text: str, e: Exception) -> str | None:
    """The line of an EDL an adapter error is about: the line it quotes, or the first line no reader knows."""
    lines = text.splitlines()
    message = str(e)
    for n, line in enumerate(lines, 1):
        if line.strip() and line.strip() in message:
            return f"line {n}"
    if "Unknown event type" in message:
        for n, line in enumerate(lines, 1):
            s = line.strip()
            if not s or s.startswith(("TITLE:", "FCM", "SPLIT")):
                continue
            return None if s[0].isdigit() else f"line {n}: {s[:60]!r}"
    return None


def is_black(clip: Schema.Clip) -> bool:
    """An EDL's black (BL) event: nothing to show, so a gap (export writes a leading gap as one)."""
    ref = clip.media_reference
    return isinstance(ref, Schema.GeneratorReference) and ref.generator_kind == "black"


# ---- writing ----


def write(tl: Schema.Timeline, path: Path) -> list[Path]:
    """CMX 3600: one track per file (the adapter writes only one video track). V1 goes to ``path``, other tracks
    to ``<name>.V2.edl``, ``<name>.A1.edl``... A gap at the start of a track becomes a black (BL) event, since
    readers start a track at its first event. Returns the files written besides ``path``."""
    EDLWriter = otio.adapters.from_name("cmx_3600").module().EDLWriter  # noqa: N806 - the adapter's class

    # the edit rate (an empty first track has a duration at rate 1)
    rate = snap_rate(tl.global_start_time.rate) if tl.global_start_time is not None else Fraction(24)
    texts: dict[Path, str] = {}
    for track in tl.tracks:
        if not len(track):
            continue
        target = path if track.name == "V1" else path.with_name(f"{path.stem}.{track.name}{path.suffix}")
        t = track.deepcopy()
        backwards: dict[tuple[str, str], int] = {}  # reversed clips: (name, source in) -> media frames played
        for clip in t.find_clips():
            # the writer makes reel names from clip names, keeping spaces (which split the event line when it
            # is read) and leaving them empty for some names: a reel is up to 8 letters and digits
            reel = re.sub(r"[^A-Za-z0-9]", "", Path(clip.name or "").stem)[:8] or "AX"
            clip.metadata["cmx_3600"] = {"reel": reel}
            speed = next((e for e in clip.effects if isinstance(e, Schema.LinearTimeWarp)), None)
            if speed is not None and speed.time_scalar == 0:  # the writer divides by it; a freeze it knows
                clip.effects[:] = [Schema.FreezeFrame()]
            elif speed is not None and speed.time_scalar < 0:
                # the writer counts the source out forward from the in point, below zero for a clip played down
                # to the media's first frame, and refuses it: it is given the speed forward, and the event line
                # is then made as Avid writes a reverse (a negative M2 rate, the source out below the in point)
                sr = clip.source_range
                span = round(-speed.time_scalar * sr.duration.value)
                backwards[(clip.name, otio.opentime.to_timecode(sr.start_time, float(rate)))] = span
                speed.time_scalar = -speed.time_scalar
        if isinstance(t[0], Schema.Gap):
            black = Schema.Clip(name="BL", media_reference=Schema.GeneratorReference(generator_kind="black"))
            black.source_range = TimeRange(rt(0, rate), t[0].source_range.duration)
            black.metadata["cmx_3600"] = {"reel": "BL"}
            t[0] = black
        holder = Schema.Timeline(name=tl.name)
        holder.tracks.append(t)

        try:
            with quiet():
                if t.kind == Schema.TrackKind.Video:
                    text = otio.adapters.write_to_string(holder, adapter_name="cmx_3600", rate=float(rate))
                else:  # write_to_string refuses a timeline without a video track; its writer class does not
                    text = EDLWriter(holder.tracks, float(rate), "avid").get_content_for_track_at_index(0, holder.name)
        except Exception as e:  # the writer raises anything for what it cannot write
            raise InterchangeError(target, f"the EDL writer failed: {type(e).__name__}: {e}", track.name) from e
        texts[target] = _state_rate(_reverse(text, backwards, rate), rate)
    if path not in texts:  # no V1 content: still write the file the user asked for, with its title only
        texts = {path: _state_rate(f"TITLE: {tl.name}\n\n", rate), **texts}
    # every track is written to text first: a track the writer refuses leaves no file behind, not some of them
    for target, text in texts.items():
        atomic(target, lambda tmp, text=text: tmp.write_text(text, encoding="utf-8"))
    return [p for p in texts if p != path]


_TC = re.compile(r"\d\d:\d\d:\d\d[:;]\d\d")
_M2 = re.compile(r"^M2\s+(?P<name>.*?)\s+(?P<speed>-?[0-9.]+)\s+(?P<tc>\d\d:\d\d:\d\d[:;]\d\d)\s*$")


def _reverse(text: str, backwards: dict[tuple[str, str], int], rate: Fraction) -> str:
    """The M2 lines of reversed clips (written forward) made negative, and their event's source out put below
    its source in by the media frames it plays (at least 00:00:00:00)."""
    if not backwards:
        return text
    lines = text.split("\n")
    event = None  # the index of the latest event line
    for n, line in enumerate(lines):
        if line[:3].isdigit():
            event = n
            continue
        m = _M2.match(line)
        if m is None or event is None or (m["name"], m["tc"]) not in backwards:
            continue
        lines[n] = line[: m.start("speed")] + "-" + m["speed"] + line[m.end("speed") :]
        tcs = list(_TC.finditer(lines[event]))
        if len(tcs) == 4:
            at = otio.opentime.from_timecode(tcs[0].group(), float(rate))
            out = max(0, round(at.value) - backwards[(m["name"], m["tc"])])
            out_tc = otio.opentime.to_timecode(rt(out, rate), float(rate))
            lines[event] = lines[event][: tcs[1].start()] + out_tc + lines[event][tcs[1].end() :]
    return "\n".join(lines)
