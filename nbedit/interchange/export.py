"""Writing: an nbedit timeline to the format its file's extension names, through the format's adapter (after the
format's own repairs), with a sidecar ``.nbedit.otio`` beside formats that lose something."""

from __future__ import annotations

import math
import os
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
from opentimelineio.opentime import RationalTime, TimeRange

from ..errors import EditError
from ..model import data, media_of, nb, overwrites_source
from ..timeline import frames_of, layout, rt, timeline_end, trange
from . import aaf, edl, fcp7, fcpx
from .adapters import atomic, quiet, write_with
from .errors import InterchangeError
from .formats import SIDECAR, Format, format_of
from .pool import reference
from .results import Exported

Schema = otio.schema


def write(tl: Schema.Timeline, path: Path) -> Exported:
    """Write an nbedit timeline to ``path`` in the format its extension names, atomically; see ``export``."""
    fmt = format_of(path)
    if not path.parent.is_dir():
        raise InterchangeError(path, "its folder does not exist")
    for target in (path, path.with_name(path.name[: -len(path.suffix)] + SIDECAR)):
        if why := overwrites_source(tl, target):
            raise InterchangeError(target, f"cannot export here: {why}; choose another name")
    if fmt.adapter == "otio_json":
        _write_json(tl, path)
        return Exported.of(path, fmt.name, (path,))
    if not nb(tl).get("format"):
        raise EditError(f"cannot export {path.name}: the timeline is empty (no format yet)")
    if fmt.adapter == "otioz":
        return _write_otioz(tl, path, fmt)
    foreign = foreign_copy(tl)
    also: list[str] = []  # what this timeline loses in the format beyond what the format never holds
    if moved := _clamp_markers(foreign):
        also.append(f"the places of {moved} marker{'s' * (moved > 1)} outside their clip (moved to its edge)")
    if fmt.adapter != "fcp_xml" and (names := _strip_effects(foreign)):
        also.append(f"effects nbedit keeps but does not render ({', '.join(names)})")
    if fmt.adapter == "fcp_xml":
        also += fcp7.lost(foreign)
    empty = [t.name for t in foreign.tracks if not any(isinstance(x, Schema.Clip) for x in t)]
    if fmt.adapter in ("fcpx_xml", "AAF") and empty:
        also.append(
            f"empty tracks ({', '.join(empty)}: the writer leaves them out; importing the file with its "
            f"{SIDECAR} beside it puts them back and names the others as they were)"
        )
    between = sum(1 for c in foreign.find_clips() if c.source_range.start_time.value % 1)
    if fmt.adapter == "cmx_3600" and between:
        also.append(
            f"exact in points of {between} clip{'s' * (between > 1)} (between two frames: an EDL holds whole "
            "frames, so they start up to a source frame off)"
        )
    if fmt.adapter == "cmx_3600" and (n := _cut_reversed_crossfades(foreign)):
        also.append(
            f"{n} crossfade{'s' * (n > 1)} beside reversed clips (an EDL dissolve counts the incoming clip's "
            "handle forward, which a reversed clip plays backwards): written as cuts"
        )
    if "speed" not in fmt.keeps and (n := _play_forward(foreign)):
        also.append(
            f"reverse playback of {n} clip{'s' * (n > 1)} (the {fmt.name} writer has no speed changes: "
            "written playing the same media forward)"
        )
    # a format without speed changes, or FCP 7 XML with a freeze frame, would play the clip at normal speed
    n = 0
    if fmt.adapter == "fcp_xml" or "speed" not in fmt.keeps:
        n = _at_source_length(foreign, frozen_only=fmt.adapter == "fcp_xml")
    if n:
        also.append(
            f"the length of {n} slowed or frozen clip{'s' * (n > 1)}: written at normal speed for the media "
            "they play, then a gap (at their full length they would read media nbedit does not show, maybe "
            "past its end)"
        )
    files = _write_refused(foreign, path, fmt, tl, also)
    sidecar = path.with_name(path.name[: -len(path.suffix)] + SIDECAR)
    _write_json(tl, sidecar)
    return Exported.of(path, fmt.name, (*files, sidecar), sidecar, lost(tl, fmt) + tuple(also))


def _write_refused(foreign: Schema.Timeline, path: Path, fmt: Format, tl: Schema.Timeline, also: list[str]):
    """Write, and if the writer refuses the timeline, write it without what it refused: the first of markers,
    crossfades and speed changes whose leaving out alone makes it write, else them together in that order, each
    listed in ``also``. Raises the writer's error when even that fails (no file is left behind)."""
    try:
        return _write_format(foreign.deepcopy(), path, fmt, tl, also)
    except InterchangeError as e:
        refused = e
    present = []
    for what, leave_out in _FALLBACKS:
        trial = foreign.deepcopy()
        if not leave_out(trial):
            continue
        present.append((what, leave_out))
        try:
            files = _write_format(trial, path, fmt, tl, also)
        except InterchangeError:
            continue
        also.append(f"{what} (the {fmt.name} writer refused the timeline with them: {refused})")
        return files
    trial, left = foreign.deepcopy(), []
    for what, leave_out in present:
        leave_out(trial)
        left.append(what)
        if len(left) == 1:
            continue  # tried alone above
        try:
            files = _write_format(trial.deepcopy(), path, fmt, tl, also)
        except InterchangeError:
            continue
        also.extend(f"{w} (the {fmt.name} writer refused the timeline with them: {refused})" for w in left)
        return files
    raise refused


def _write_format(
    foreign: Schema.Timeline, path: Path, fmt: Format, tl: Schema.Timeline, also: list[str]
) -> list[Path]:
    files = [path]
    if fmt.adapter == "cmx_3600":
        files += edl.write(foreign, path)
    elif fmt.adapter == "fcp_xml":
        fcp7.prepare(foreign, nb(tl)["format"])
        write_with(path, fmt.name, lambda tmp: otio.adapters.write_to_file(foreign, os.fspath(tmp), "fcp_xml"))
    elif fmt.adapter == "fcpx_xml":
        fcpx.prepare(foreign, timeline_end(tl))
        write_with(path, fmt.name, lambda tmp: tmp.write_text(fcpx.text(foreign, nb(tl)["format"]), encoding="utf-8"))
    else:
        aaf.prepare(foreign)
        def write_aaf(tmp: Path) -> None:
            otio.adapters.write_to_file(foreign, os.fspath(tmp), "AAF", use_empty_mob_ids=True)
            muted.append(aaf.mute_disabled(foreign, os.fspath(tmp)))

        muted: list[int] = []
        write_with(path, fmt.name, write_aaf)
        off = sum(1 for c in foreign.find_clips() if not c.enabled)
        if off > sum(muted):
            also.append(f"the switched-off state of {off - sum(muted)} clips (written switched on)")
    return files


def _at_source_length(tl: Schema.Timeline, frozen_only: bool = False) -> int:
    """For a format without speed changes: each slowed or frozen clip (with ``frozen_only``, each frozen one) cut
    to the media it plays (a frozen one to its one frame) and followed by a gap to its end, so later clips keep
    their place. A clip a crossfade leaves is kept whole (the crossfade needs it). Returns how many were cut."""
    cut = 0
    for track in tl.tracks:
        items = list(track)
        out = []
        for i, item in enumerate(items):
            out.append(item.deepcopy())
            scalar = _scalar(item) if isinstance(item, Schema.Clip) else 1
            nxt = items[i + 1] if i + 1 < len(items) else None
            if scalar >= 1 or (frozen_only and scalar != 0) or isinstance(nxt, Schema.Transition):
                continue
            sr = item.source_range
            dur = round(sr.duration.value)
            keep = max(1, math.ceil(dur * scalar - Fraction(1, 10**6)))
            if keep >= dur:
                continue
            rate = sr.duration.rate
            out[-1].source_range = TimeRange(sr.start_time, RationalTime(keep, rate))
            out[-1].effects[:] = [e for e in out[-1].effects if not isinstance(e, Schema.LinearTimeWarp)]
            out.append(Schema.Gap(source_range=TimeRange(RationalTime(0, rate), RationalTime(dur - keep, rate))))
            cut += 1
        track[:] = out
    return cut


def _cut_reversed_crossfades(tl: Schema.Timeline) -> int:
    """Crossfades from or into a reversed clip taken out (the clips meet at the cut). Returns how many."""
    cut = 0
    for track in tl.tracks:
        items = list(track)
        keep = []
        for i, item in enumerate(items):
            if isinstance(item, Schema.Transition) and (_scalar(items[i - 1]) < 0 or _scalar(items[i + 1]) < 0):
                cut += 1
                continue
            keep.append(item.deepcopy())
        if len(keep) < len(items):
            track[:] = keep
    return cut


def _play_forward(tl: Schema.Timeline) -> int:
    """Each reversed clip made to play the same media forward, from its lowest frame (a writer that drops the
    speed would otherwise start it at its highest frame and read past what it shows, maybe past the media's
    end). Returns how many."""
    turned = 0
    for clip in tl.find_clips():
        scalar = _scalar(clip)
        if scalar < 0:
            clip.source_range = fcp7.lowest_first(clip, -scalar)
            forward = Schema.LinearTimeWarp(name="speed", time_scalar=float(-scalar))
            clip.effects[:] = [forward if isinstance(e, Schema.LinearTimeWarp) else e for e in clip.effects]
            turned += 1
    return turned


def _scalar(clip: Schema.Clip) -> Fraction:
    for e in clip.effects:
        if isinstance(e, Schema.LinearTimeWarp):
            return Fraction(e.time_scalar).limit_denominator(10**6)
    return Fraction(1)


def _clamp_markers(tl: Schema.Timeline) -> int:
    """Clip markers outside the part of the media the clip shows (an AAF's can lie far outside) put at its nearest
    edge: writers place a clip's markers relative to it and fail, or write a time before the clip, otherwise."""
    moved = 0
    for clip in tl.find_clips():
        sr = clip.source_range
        lo, hi = sr.start_time.value, sr.start_time.value + max(sr.duration.value - 1, 0)
        for m in clip.markers:
            at = m.marked_range.start_time.value
            if not lo <= at <= hi:
                m.marked_range = TimeRange(
                    RationalTime(min(max(at, lo), hi), sr.start_time.rate), RationalTime(0, sr.start_time.rate)
                )
                moved += 1
    return moved


def _strip_effects(tl: Schema.Timeline) -> list[str]:
    """Effects other than speed changes taken off the clips (the formats write none of nbedit's and refuse some
    of other editors', such as Avid's time warp): their names."""
    names: dict[str, None] = {}
    for clip in tl.find_clips():
        keep = [e for e in clip.effects if isinstance(e, Schema.LinearTimeWarp)]
        for e in clip.effects:
            if not isinstance(e, Schema.LinearTimeWarp):
                names[(e.effect_name or e.name or type(e).__name__).splitlines()[0]] = None
        clip.effects[:] = keep
    return list(names)


def _leave_out_markers(tl: Schema.Timeline) -> bool:
    found = bool(tl.tracks.markers) or any(t.markers for t in tl.tracks) or any(c.markers for c in tl.find_clips())
    tl.tracks.markers.clear()
    for t in tl.tracks:
        t.markers.clear()
    for c in tl.find_clips():
        c.markers.clear()
    return found


def _leave_out_crossfades(tl: Schema.Timeline) -> bool:
    found = False
    for t in tl.tracks:
        kept = [x for x in t if not isinstance(x, Schema.Transition)]
        found |= len(kept) < len(t)
        t[:] = [x.deepcopy() for x in kept]
    return found


def _leave_out_speed(tl: Schema.Timeline) -> bool:
    found = False
    for clip in tl.find_clips():
        kept = [e for e in clip.effects if not isinstance(e, Schema.LinearTimeWarp)]
        found |= len(kept) < len(clip.effects)
        clip.effects[:] = kept
    return found


# what is left out, in this order, while a writer refuses the timeline (effects are not: every writer but FCP 7's
# gets the timeline without them, and FCP 7's never reads them)
_FALLBACKS = (
    ("markers", _leave_out_markers),
    ("crossfades", _leave_out_crossfades),
    ("speed changes", _leave_out_speed),
)


def _write_json(tl: Schema.Timeline, path: Path) -> None:
    atomic(path, lambda tmp: tmp.write_text(tl.to_json_string(), encoding="utf-8"))


def lost(tl: Schema.Timeline, fmt: Format) -> tuple[str, ...]:
    """What of this timeline the format does not keep, in words."""
    out = []
    tracks = list(tl.tracks)
    clips = [c for t in tracks for c in t if isinstance(c, Schema.Clip)]
    if "crossfades" not in fmt.keeps and any(isinstance(c, Schema.Transition) for t in tracks for c in t):
        out.append("crossfades")
    if "speed" not in fmt.keeps and any(isinstance(e, Schema.LinearTimeWarp) for c in clips for e in c.effects):
        out.append("speed changes")
    if "clip markers" not in fmt.keeps and any(c.markers for c in clips):
        out.append("clip markers")
    if "timeline markers" not in fmt.keeps and (tl.tracks.markers or any(t.markers for t in tracks)):
        out.append("timeline markers")
    extras = {k for c in clips for k in data(c) if k not in ("id", "media")}
    if "metadata" not in fmt.keeps and extras:
        out.append(f"nbedit clip data ({', '.join(sorted(extras))})")
    if fmt.adapter == "cmx_3600" and len(tracks) > 1:
        out.append("tracks other than V1 (written to their own .edl files)")
    return tuple(out)


def foreign_copy(tl: Schema.Timeline) -> Schema.Timeline:
    """The timeline as other tools want it: plain media references (offline media at its original URL) and
    source times in the media's own timecode."""
    from ..model import edit_rate, media_entry

    rate = edit_rate(tl)
    out = Schema.Timeline(name=tl.name)
    out.global_start_time = rt(0, rate)
    low, reach = _media_span(tl)
    for track in tl.tracks:
        t = Schema.Track(name=track.name, kind=track.kind)
        t.enabled = track.enabled
        for item in track:
            if isinstance(item, Schema.Clip):
                entry = media_entry(tl, media_of(item))
                tc = round(Fraction(entry.get("source_timecode", 0)) * rate)
                # offline media read before its start, or with a timecode below zero (an import gave it one to
                # hold the handles of a crossfade): writers refuse negative source times, so its timecode starts
                # later; re-import counts frames from there, so the clips show the same frames of it
                tc += max(0, -(tc + low.get(media_of(item), 0)))
                ref = reference(entry, rate)
                if ref.available_range is None:  # a still: the formats want a length, so the part in use
                    ref.available_range = trange(0, reach.get(media_of(item), 1), rate)
                if tc:
                    ar = ref.available_range
                    ref.available_range = TimeRange(rt(frames_of(ar.start_time) + tc, rate), ar.duration)
                clip = Schema.Clip(name=item.name, media_reference=ref)
                clip.enabled = item.enabled
                # only adapter namespaces are written out; the ids keep equal clips on two tracks apart (the FCP 7
                # XML writer hashes each clip's JSON and writes a repeat as a reference to the first, timing and all)
                nb(clip).update({k: nb(item)[k] for k in ("id", "media")})
                sr = item.source_range
                clip.source_range = TimeRange(RationalTime(sr.start_time.value + tc, sr.start_time.rate), sr.duration)
                clip.effects.extend(e.deepcopy() for e in item.effects)
                for m in item.markers:
                    mr = m.marked_range
                    marker = Schema.Marker(name=m.name, color=m.color, comment=m.comment)
                    marker.marked_range = TimeRange(
                        RationalTime(mr.start_time.value + tc, mr.start_time.rate), mr.duration
                    )
                    clip.markers.append(marker)
                t.append(clip)
            else:
                t.append(item.deepcopy())
        t.markers.extend(m.deepcopy() for m in track.markers)
        out.tracks.append(t)
    out.tracks.markers.extend(m.deepcopy() for m in tl.tracks.markers)
    return out


def _media_span(tl: Schema.Timeline) -> tuple[dict[str, int], dict[str, int]]:
    """For each media id, the first edit-rate frame any clip reads and the frame just past the last one (crossfade
    handles included); a first frame below 0 only for offline media."""
    from ..model import source_span

    low: dict[str, int] = {}
    reach: dict[str, int] = {}
    for track in tl.tracks:
        placed, cuts = layout(track)
        head = {c.after.index: c.in_offset for c in cuts}
        tail = {c.before.index: c.out_offset for c in cuts}
        for p in placed:
            if isinstance(p.item, Schema.Clip):
                mid = media_of(p.item)
                lo, hi = source_span(p.item, -head.get(p.index, 0), p.duration + tail.get(p.index, 0) - 1)
                low[mid] = min(low.get(mid, 0), math.floor(lo))
                reach[mid] = max(reach.get(mid, 0), math.floor(hi) + 1)
    return low, reach


def _write_otioz(tl: Schema.Timeline, path: Path, fmt: Format) -> Exported:
    from opentimelineio.adapters.file_bundle_utils import MediaReferencePolicy

    # the bundle holds the media files; offline media travels as a missing reference (the nbedit pool in the
    # metadata still names it), since the adapter refuses references that are not files on disk
    def run(tmp: Path) -> None:
        otio.adapters.write_to_file(
            tl, os.fspath(tmp), adapter_name="otioz", media_policy=MediaReferencePolicy.MissingIfNotFile
        )

    try:
        with quiet():
            atomic(path, run)
    except InterchangeError:
        raise
    except Exception as e:  # e.g. two media files with one name: the bundle keeps base names only
        raise InterchangeError(path, f"the OTIOZ writer failed: {e}") from e
    return Exported.of(path, fmt.name, (path,))
