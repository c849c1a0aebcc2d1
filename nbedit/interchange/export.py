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
from ..model import data, media_of, nb
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
    if fmt.adapter == "otio_json":
        _write_json(tl, path)
        return Exported.of(path, fmt.name, (path,))
    if not nb(tl).get("format"):
        raise EditError(f"cannot export {path.name}: the timeline is empty (no format yet)")
    if fmt.adapter == "otioz":
        return _write_otioz(tl, path, fmt)
    foreign = foreign_copy(tl)
    files = [path]
    also: list[str] = []  # what this timeline loses in the format beyond what the format never holds
    if fmt.adapter == "cmx_3600":
        files += edl.write(foreign, path)
    elif fmt.adapter == "fcp_xml":
        also += fcp7.lost(foreign)
        fcp7.prepare(foreign, nb(tl)["format"])
        write_with(path, fmt.name, lambda tmp: otio.adapters.write_to_file(foreign, os.fspath(tmp), "fcp_xml"))
    elif fmt.adapter == "fcpx_xml":
        fcpx.prepare(foreign, timeline_end(tl))
        write_with(path, fmt.name, lambda tmp: tmp.write_text(fcpx.text(foreign, nb(tl)["format"]), encoding="utf-8"))
    else:
        aaf.prepare(foreign)
        write_with(
            path,
            fmt.name,
            lambda tmp: otio.adapters.write_to_file(foreign, os.fspath(tmp), "AAF", use_empty_mob_ids=True),
        )
    sidecar = path.with_name(path.name[: -len(path.suffix)] + SIDECAR)
    _write_json(tl, sidecar)
    return Exported.of(path, fmt.name, (*files, sidecar), sidecar, lost(tl, fmt) + tuple(also))


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
    reach = _media_reach(tl)
    for track in tl.tracks:
        t = Schema.Track(name=track.name, kind=track.kind)
        t.enabled = track.enabled
        for item in track:
            if isinstance(item, Schema.Clip):
                entry = media_entry(tl, media_of(item))
                tc = round(Fraction(entry.get("source_timecode", 0)) * rate)
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


def _media_reach(tl: Schema.Timeline) -> dict[str, int]:
    """For each media id, the edit-rate frame just past the last one any clip reads (handles included)."""
    from ..model import source_at

    reach: dict[str, int] = {}
    for track in tl.tracks:
        placed, cuts = layout(track)
        tail = {c.before.index: c.out_offset for c in cuts}
        for p in placed:
            if isinstance(p.item, Schema.Clip):
                mid = media_of(p.item)
                end = math.ceil(source_at(p.item, p.duration + tail.get(p.index, 0)))
                reach[mid] = max(reach.get(mid, 0), end)
    return reach


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
