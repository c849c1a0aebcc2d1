"""Conforming: a timeline read from any format turned into an nbedit timeline (tracks V1.. and A1.., whole frames
at one edit rate, a media pool entry for every clip, crossfades only between two clips), with notes on all it had
to change."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import opentimelineio as otio

from .. import args
from ..model import data, item_id, nb
from ..timeline import frames_of, rt, trange
from . import fcp7
from .adapters import plain
from .edl import is_black
from .errors import InterchangeError, UnsupportedFeatureError
from .flatten import carried_markers, flat_items
from .pool import Media, media_id, offline_entry, reference
from .rates import seconds, snap_rate, timecode
from .relink import Relinker, Want, basename, file_timecode, url_name, url_path
from .results import ImportReport, Relink

Schema = otio.schema


@dataclass
class _Piece:
    """A clip of the file placed on a flat track, in edit-rate frames."""

    clip: Schema.Clip
    start: int
    dur: int
    src: Fraction  # source seconds (the file's source times) shown at the first frame
    scalar: Fraction
    want: Want | None = None


@dataclass
class _Track:
    name: str
    kind: str
    foreign: str
    enabled: bool
    items: list[Any]  # _Piece, int (a gap of that many frames) or Schema.Transition (offsets in frames)
    markers: list[Schema.Marker]


class Conform:
    """Turns a timeline read from any format into an nbedit timeline; notes what it had to change."""

    def __init__(self, tl: Schema.Timeline, path: Path, base: Path, rate: Fraction, relinker: Relinker, pool: dict):
        self.src = tl
        self.path = path
        self.base = base  # the folder relative media URLs start from
        self.rate = rate
        self.relinker = relinker
        self.old_pool = pool
        self.notes: list[str] = []
        self.effects: dict[str, int] = {}  # effects nbedit keeps but does not render: name -> clips
        self.dropped: dict[tuple[str, str], int] = {}  # (track, what happened to its transitions) -> how many
        self.wants: dict[tuple, Want] = {}
        self.timeline_markers: list[Schema.Marker] = []  # markers of gaps, nested items and tracks left out
        self.theirs = plain(nb(tl)) if "nbedit" in tl.metadata else {}  # a file nbedit wrote: its pool, its ids

    # ---- structure ----

    def tracks(self) -> list[_Track]:
        out, counts = [], {Schema.TrackKind.Video: 0, Schema.TrackKind.Audio: 0}
        for track in self.src.tracks:
            if track.kind not in counts:
                self.notes.append(f"track {track.name!r} of kind {track.kind!r} is not supported: left out")
                self._keep_markers_of_dropped(track)
                continue
            counts[track.kind] += 1
            name = ("V" if track.kind == Schema.TrackKind.Video else "A") + str(counts[track.kind])
            items = self._place(flat_items(track, self.notes, self.path, float(self.rate)), name, track.kind)
            markers = [self._marker(m, Fraction(0)) for m in track.markers]
            if not track.enabled:
                self.notes.append(f"track {name} ({track.name!r}) is switched off in the file: kept switched off")
            for e in track.effects:  # Avid puts a track's volume and pan here
                effect = (e.effect_name or e.name or type(e).__name__).splitlines()[0]
                self.notes.append(f"track {name}: its effect {effect!r} is not applied (nbedit keeps none on tracks)")
            out.append(_Track(name, track.kind, track.name, track.enabled, items, markers))
        return sorted(out, key=lambda t: t.kind != Schema.TrackKind.Video)  # V1.. then A1.., as nbedit keeps them

    def _keep_markers_of_dropped(self, track: Schema.Track) -> None:
        """A track nbedit cannot hold (a data or subtitle track) takes its markers with it: they go on the
        timeline, at the same time."""
        kept = [self._marker(m, Fraction(0)) for m in track.markers]
        for item in track:
            if isinstance(item, Schema.Transition) or not item.markers:
                continue
            origin = seconds(item.trimmed_range().start_time) - seconds(item.range_in_parent().start_time)
            kept += [self._marker(m, origin) for m in item.markers]
        if kept:
            self.timeline_markers += kept
            n = len(kept)
            self.notes.append(f"track {track.name!r}: its {n} marker{'s' * (n > 1)} moved to the timeline")

    def _place(self, items: list[Any], track: str, kind: str) -> list[Any]:
        """Frames for every item: positions are rounded once, so durations add up to the rounded end."""
        out: list[Any] = []
        pos = Fraction(0)
        for item in items:
            if isinstance(item, Schema.Transition):
                out.append(item)
                continue
            try:
                dur = seconds(item.trimmed_range().duration)
            except Exception as e:
                raise InterchangeError(self.path, f"item {item.name!r} has no usable duration ({e})", track) from e
            at = timecode(round(pos * self.rate), self.rate)
            where = f"track {track}, {type(item).__name__.lower()} {item.name!r} at {at}"
            if dur < 0:
                raise InterchangeError(self.path, f"negative duration {float(dur):.3f} s", where)
            if pos + dur > args.LIMITS.max_seconds:  # no one made it; cutting it to its media would hide that
                raise InterchangeError(
                    self.path, f"the track would last beyond {args.LIMITS.max_seconds:g} s (nbedit.args.LIMITS)", where
                )
            first, last = round(pos * self.rate), round((pos + dur) * self.rate)
            shown = last > first and isinstance(item, Schema.Clip) and not is_black(item)
            if item.markers and not shown:
                self._move_markers(item, pos, track, where)
            pos += dur
            if last <= first:
                continue  # shorter than half a frame at the edit rate: nothing to show
            if shown:
                if not item.enabled:
                    self.notes.append(f"{where}: disabled in the file, kept disabled (not shown, not heard)")
                out.append(self._piece(item, first, last - first, kind, where))
            else:
                out.append(last - first)
        return self._transitions(out, track)

    def _move_markers(self, item: Any, pos: Fraction, track: str, where: str) -> None:
        """Markers on what does not become a clip (a gap: Avid keeps sequence markers on filler; a nested item) go
        on the timeline, at the same time, where ``s.markers()`` lists them."""
        origin = seconds(item.trimmed_range().start_time)
        for m in item.markers:
            self.timeline_markers.append(self._marker(m, origin - pos))
        n = len(item.markers)
        if nested := carried_markers(item):
            self.notes.append(f"track {track}: {n} marker{'s' * (n > 1)} of {nested} moved to the timeline")
            return
        what = "gap" if isinstance(item, Schema.Gap) else "item that is not a clip"
        self.notes.append(f"{where}: {n} marker{'s' * (n > 1)} on a {what}: moved to the timeline")

    def _piece(self, clip: Schema.Clip, start: int, dur: int, kind: str, where: str) -> _Piece:
        src = seconds(clip.trimmed_range().start_time)
        scalar, src, from_low = self._speed(clip, src, where)
        if from_low:  # FCP 7 gives a reversed clip's lowest frame: it shows its highest first
            src += (dur - 1) * -scalar / self.rate
        piece = _Piece(clip, start, dur, src, scalar)
        piece.want = self._want(clip, kind)
        return piece

    def _speed(self, clip: Schema.Clip, src: Fraction, where: str) -> tuple[Fraction, Fraction, bool]:
        """The clip's speed (negative: reverse), the source seconds it shows first, and whether those are its
        lowest frame instead (FCP 7's reverse: the in point is the lowest frame, played last)."""
        scalar, from_low = Fraction(1), False
        for e in clip.effects:
            if isinstance(e, Schema.LinearTimeWarp):
                scalar *= Fraction(e.time_scalar).limit_denominator(10**6)
            elif (remap := fcp7.time_remap(e)) is not None:
                # FCP 7 XML speed (the adapter reads it as a plain effect): the clip's in/out count frames of
                # the retimed clip, so the source in point is the in point times the speed
                if remap.variable:
                    self.notes.append(f"{where}: variable speed is not supported: played at its base speed")
                origin = _origin(clip) or Fraction(0)
                src = origin + (src - origin) * remap.speed
                # the frame shown first is the whole one under that point; starting between frames would drift
                # the later frames of the clip by up to a frame against what FCP shows
                src = Fraction(math.floor(src * self.rate + Fraction(1, 10**6))) / self.rate
                scalar *= -remap.speed if remap.reverse else remap.speed
                from_low = remap.reverse
            else:
                name = (e.effect_name or e.name or type(e).__name__).splitlines()[0]
                self.effects[name] = self.effects.get(name, 0) + 1
        if abs(scalar) > 100:
            raise UnsupportedFeatureError(self.path, "a speed above 100x", f"speed {float(scalar):g}", where)
        return scalar, src, from_low

    def _transitions(self, items: list[Any], track: str) -> list[Any]:
        """Keep a transition only between two clips with room for it; the rest become notes."""
        out: list[Any] = []
        for i, item in enumerate(items):
            if not isinstance(item, Schema.Transition):
                out.append(item)
                continue
            before = out[-1] if out else None
            after = items[i + 1] if i + 1 < len(items) else None
            cin = round(seconds(item.in_offset) * self.rate)
            cout = round(seconds(item.out_offset) * self.rate)
            if not (isinstance(before, _Piece) and isinstance(after, _Piece)):
                self._drop(track, "do not sit between two clips (fades from or to black): left out")
                continue
            if cin + cout < 1 or cin > before.dur or cout > after.dur:
                self._drop(track, "are empty or longer than the clips they join: left out")
                continue
            if item.transition_type != Schema.TransitionTypes.SMPTE_Dissolve:
                self._drop(track, f"of type {item.transition_type!r} are kept as dissolves")
            t = Schema.Transition(
                name=item.name or "dissolve",
                transition_type=Schema.TransitionTypes.SMPTE_Dissolve,
                in_offset=rt(cin, self.rate),
                out_offset=rt(cout, self.rate),
            )
            out.append(t)
        # two transitions on one clip must not overlap
        for i in range(1, len(out) - 1):
            a, clip, b = out[i - 1], out[i], out[i + 1]
            if isinstance(a, Schema.Transition) and isinstance(b, Schema.Transition) and isinstance(clip, _Piece):
                if frames_of(a.out_offset) + frames_of(b.in_offset) > clip.dur:
                    self.notes.append(
                        f"track {track}: transitions {a.name!r} and {b.name!r} overlap: left out the second"
                    )
                    out[i + 1] = None
        return [x for x in out if x is not None]

    def _drop(self, track: str, what: str) -> None:
        self.dropped[(track, what)] = self.dropped.get((track, what), 0) + 1

    def _marker(self, m: Schema.Marker, origin: Fraction) -> Schema.Marker:
        start = round((seconds(m.marked_range.start_time) - origin) * self.rate)
        dur = max(0, round(seconds(m.marked_range.duration) * self.rate))
        return Schema.Marker(name=m.name, marked_range=trange(start, dur, self.rate), color=m.color, comment=m.comment)

    # ---- media ----

    def _want(self, clip: Schema.Clip, kind: str) -> Want:
        ref = clip.media_reference
        mine = (data(clip) or {}).get("media")
        entry = dict(self.theirs.get("media", {}).get(mine, {})) if mine else {}
        avail = ref.available_range if ref is not None else None
        url = getattr(ref, "target_url", None) if isinstance(ref, Schema.ExternalReference) else None
        if isinstance(ref, Schema.ExternalReference) and url:
            key: tuple = ("url", url)
        elif isinstance(ref, Schema.GeneratorReference):
            key = ("generator", ref.generator_kind, clip.name)
        elif isinstance(ref, Schema.ImageSequenceReference):
            key = ("sequence", ref.target_url_base, ref.name_prefix)
        else:
            key = ("missing", clip.name)
        want = self.wants.get(key)
        if want is None:
            path = url_path(url, self.base) if url else None
            names = tuple(n for n in dict.fromkeys((url_name(url), basename(entry.get("path", "")))) if n)
            origin = _origin(clip)
            want = Want(
                key=key,
                name=entry.get("name") or (names[0] if names else None) or clip.name or ref.name or "media",
                url=url,
                path=path,
                file_names=names,
                kind="file" if isinstance(ref, Schema.ExternalReference) else key[0],
                origin=origin,
                duration=seconds(avail.duration) if avail is not None else None,
                rate=snap_rate(avail.duration.rate) if avail is not None else self.rate,
                sha256=entry.get("sha256") or None,
                nbedit=entry or None,
                their_id=mine if entry else None,
            )
            if entry.get("duration") is not None:
                want.duration = Fraction(entry["duration"])
            if isinstance(ref, Schema.ImageSequenceReference):
                self.notes.append(f"image sequence {clip.name!r} is not supported: shown offline")
            self.wants[key] = want
        want.audio |= kind == Schema.TrackKind.Audio
        want.video |= kind == Schema.TrackKind.Video
        return want

    def resolve(self, tracks: list[_Track]) -> dict[tuple, Media]:
        """A pool entry (new or reused) for every media item, found or offline."""
        for t in tracks:
            for i, p in enumerate(t.items):
                if isinstance(p, _Piece):
                    lo, hi = self._reads(t.items, i, handles=False)
                    p.want.lo, p.want.hi = min(p.want.lo, lo), max(p.want.hi, hi)
                    lo, hi = self._reads(t.items, i, handles=True)
                    p.want.lo_h, p.want.hi_h = min(p.want.lo_h, lo), max(p.want.hi_h, hi)
        out: dict[tuple, Media] = {}
        for key, want in self.wants.items():
            found = self.relinker.find(want) if want.kind == "file" else None
            if found is not None:
                info, how, detail = found
                entry = {**(want.nbedit or {}), **info.to_dict(), "name": want.name}
                entry.pop("offline", None)
                origin = want.origin if want.origin is not None else file_timecode(info.path)
                if origin:
                    entry["source_timecode"] = str(origin)
                where = info.path
            else:
                entry, origin = offline_entry(want)
                how, where = "offline", entry["path"] or want.url or ""
                detail = "; ".join(want.rejected) if want.rejected else self._why_offline(want)
            mid = media_id(want, entry, self.old_pool)
            self.old_pool[mid] = entry
            out[key] = Media(mid, entry, origin, Relink(mid, want.name, how, where, (), detail))
        return out

    def _why_offline(self, want: Want) -> str:
        if want.kind == "generator":
            return f"a {want.key[1]!r} generator: nbedit has no generators"
        if want.kind in ("missing", "sequence"):
            return "the file names no media file"
        return "not found at its path" + (" or under the search paths" if self.relinker.roots else "")

    def _reads(self, items: list[Any], i: int, *, handles: bool) -> tuple[Fraction, Fraction]:
        """Source seconds (file times) clip ``items[i]`` reads; with ``handles``, its crossfades' too."""
        p = items[i]
        before = items[i - 1] if handles and i > 0 and isinstance(items[i - 1], Schema.Transition) else None
        after = items[i + 1] if handles and i + 1 < len(items) and isinstance(items[i + 1], Schema.Transition) else None
        head = frames_of(before.in_offset) if before else 0
        tail = frames_of(after.out_offset) if after else 0
        # as model.check counts: from the lowest frame shown to the highest, plus that frame itself (a reversed
        # clip shows its highest first)
        ends = (p.src * self.rate - head * p.scalar, p.src * self.rate + (p.dur + tail - 1) * p.scalar)
        return min(ends) / self.rate, (max(ends) + 1) / self.rate

    # ---- the result ----

    def build(self, name: str, size: tuple[int, int] | None, next_id: int) -> tuple[Schema.Timeline, ImportReport]:
        """The nbedit timeline (its pool: the session's media plus this file's) and the report.

        ``size`` is the picture size when the file (or the session) says; else the first found video's.
        """
        tracks = self.tracks()
        if not tracks:
            self.notes.append("the file has no video or audio tracks: the timeline is empty")
        for (track, what), n in self.dropped.items():
            self.notes.append(f"track {track}: {n} transition{'s' * (n > 1)} {what}")
        for effect, n in self.effects.items():
            self.notes.append(f"effect {effect!r} ({n} clip{'s' * (n > 1)}) is kept in the clips but not rendered")
        media = self.resolve(tracks)
        if size is None:
            found = [m.entry for t in tracks for p in t.items if isinstance(p, _Piece) for m in [media[p.want.key]]]
            size = next(((e["width"], e["height"]) for e in found if not e.get("offline") and e.get("width")), None)
        if size is None:
            size = (1920, 1080)
            self.notes.append("the file gives no picture size and no video was found: the timeline is 1920x1080")
        for m in media.values():
            if m.entry.get("offline") and m.entry["kind"] == "video" and not m.entry.get("width"):
                m.entry["width"], m.entry["height"] = size
        fmt = {"width": int(size[0]) // 2 * 2, "height": int(size[1]) // 2 * 2, "fps": str(self.rate)}
        for t in tracks:
            self._clamp(t, media)
            self._fit_transitions(t, media)
        tl = Schema.Timeline(name=name)
        nb(tl).update({"format": dict(fmt), "media": self.old_pool, "next_id": next_id})
        # a file nbedit wrote keeps its clip ids (the ids a notebook's handles use)
        theirs = [cid for c in self.src.find_clips() if (cid := item_id(c)) and re.fullmatch(r"c\d+", cid)]
        if self.theirs and theirs:
            nb(tl)["next_id"] = max(next_id, *(int(c[1:]) + 1 for c in theirs))
        taken: set[str] = set()
        for t in tracks:
            track = Schema.Track(name=t.name, kind=t.kind)
            track.enabled = t.enabled
            track.markers.extend(t.markers)
            for item in t.items:
                if isinstance(item, int):
                    track.append(Schema.Gap(source_range=trange(0, item, self.rate)))
                elif isinstance(item, Schema.Transition):
                    track.append(item)
                else:
                    m = media[item.want.key]
                    clip = self._clip(item, m, tl, taken)
                    m.clips.append(item_id(clip))
                    track.append(clip)
            _drop_trailing_gaps(track)
            tl.tracks.append(track)
        tl.tracks.markers.extend(self._marker(m, Fraction(0)) for m in self.src.tracks.markers)
        tl.tracks.markers.extend(self.timeline_markers)
        _name_markers(tl)
        relinks = [
            Relink(m.relink.media, m.relink.name, m.relink.how, m.relink.path, tuple(m.clips), m.relink.detail)
            for m in media.values()
        ]
        tracks_map = {t.name: t.foreign for t in tracks}
        report = ImportReport(os.fspath(self.path), "", str(self.rate), tracks_map, relinks, self.notes)
        theirs, ours = census(self.src), census(tl)
        report.counts = {cat: (theirs[cat], ours[cat]) for cat in theirs}
        report.counts["media"] = (len(media), sum(1 for m in relinks if m.how != "offline"))
        return tl, report

    def _clamp(self, t: _Track, media: dict[tuple, Media]) -> None:
        """Clips that read past the end of found media (a format that drops speed changes plays a slowed clip at
        normal speed for its whole length) cut to the media's end, a gap after them keeping later clips in place;
        a crossfade beside a cut clip is left out. The media, and its other clips, stay online."""
        from ..model import available_frames

        out: list[Any] = []
        for i, p in enumerate(t.items):
            m = media[p.want.key] if isinstance(p, _Piece) else None
            avail = None if m is None or m.entry.get("offline") else available_frames(m.entry, self.rate)
            if p is None or avail is None:
                out.append(p)
                continue
            start = (p.src - m.origin) * self.rate
            top = math.floor(max(start, start + (p.dur - 1) * p.scalar))  # the highest frame it shows
            if top < avail:
                out.append(p)
                continue
            # its frames inside the media (a reversed or frozen clip shows its highest frame first: none)
            keep = 0 if p.scalar <= 0 or start >= avail else min(p.dur, math.ceil((avail - start) / p.scalar))
            cut = f"cut to {float(keep / self.rate):.3f} s" if keep else "left out"
            self.notes.append(
                f"track {t.name}: clip {p.clip.name!r} at {timecode(p.start, self.rate)} reads up to "
                f"{float((top + 1) / self.rate):.3f} s of media {m.entry['name']!r}, which lasts "
                f"{float(avail / self.rate):.3f} s (a format that drops speed changes plays it at normal speed): "
                f"{cut}, a gap after it; the media stays online"
            )
            if out and isinstance(out[-1], Schema.Transition):  # a crossfade needs the frames the cut took
                self.notes.append(f"track {t.name}: transition {out.pop().name!r} before that clip: left out")
            if i + 1 < len(t.items) and isinstance(t.items[i + 1], Schema.Transition):
                self.notes.append(f"track {t.name}: transition {t.items[i + 1].name!r} after that clip: left out")
                t.items[i + 1] = None
            if keep:
                out.append(p)
            out.append(p.dur - keep)
            p.dur = keep
        t.items = [x for x in out if x is not None]

    def _fit_transitions(self, t: _Track, media: dict[tuple, Media]) -> None:
        """Drop crossfades whose clips' media (found files) lack the handles the mix reads."""
        from ..model import available_frames

        for i, item in enumerate(t.items):
            if not isinstance(item, Schema.Transition):
                continue
            a, b = t.items[i - 1], t.items[i + 1]
            ok = True
            for p, j in ((a, i - 1), (b, i + 1)):
                m = media[p.want.key]
                lo, hi = self._reads(t.items, j, handles=True)
                avail = available_frames(m.entry, self.rate)
                first, last = (lo - m.origin) * self.rate, (hi - m.origin) * self.rate
                ok &= first >= -Fraction(1, 1000) and (avail is None or last <= avail + Fraction(1, 1000))
            if not ok:
                self.notes.append(
                    f"track {t.name}: transition {item.name!r} needs more media than the files hold: left out"
                )
                t.items[i] = None
        t.items = [x for x in t.items if x is not None]

    def _clip(self, p: _Piece, m: Media, tl: Schema.Timeline, taken: set[str]) -> Schema.Clip:
        from ..model import set_source, take_id

        ref = reference(m.entry, self.rate, p.clip.media_reference)
        clip = Schema.Clip(name=p.clip.name or m.entry["name"], media_reference=ref)
        clip.enabled = p.clip.enabled
        set_source(clip, ((p.src - m.origin) * self.rate).limit_denominator(10**6), p.dur, self.rate)
        if p.scalar != 1:
            clip.effects.append(Schema.LinearTimeWarp(name="speed", time_scalar=float(p.scalar)))
        clip.effects.extend(
            e.deepcopy()
            for e in p.clip.effects
            if not isinstance(e, Schema.LinearTimeWarp) and not fcp7.is_time_remap(e)
        )
        clip.markers.extend(self._marker(x, m.origin) for x in p.clip.markers)
        mine = dict(data(p.clip) or {}) if self.theirs else {}
        cid = mine.pop("id", None)
        mine.pop("media", None)
        if not cid or cid in taken:
            cid = take_id(tl)
        taken.add(cid)
        nb(clip).update({"id": cid, "media": m.id, **mine})
        if "generation" in m.entry and "generation" not in mine:
            nb(clip)["generation"] = m.entry["generation"]
        return clip


def _name_markers(tl: Schema.Timeline) -> None:
    """An nbedit id for every marker that has none (another tool's), so ``s.move_marker`` and the rest find it."""
    from ..model import marker_id, new_marker, take_id

    for owner in [tl.tracks, *tl.tracks, *tl.find_clips()]:
        for k, m in enumerate(list(owner.markers)):
            if marker_id(m) is None:
                r = m.marked_range
                rate = Fraction(r.start_time.rate).limit_denominator(10**6)
                start = Fraction(r.start_time.value).limit_denominator(10**6)
                named = new_marker(take_id(tl, "mk"), m.name, m.color, start, round(r.duration.value), rate, m.comment)
                for key, value in m.metadata.items():  # the other tool's own data on it stays
                    named.metadata[key] = value
                owner.markers[k] = named


def census(tl: Schema.Timeline) -> dict[str, int]:
    """How many clips, transitions, markers, effects (other than speed), speed changes, switched-off items and
    tracks a timeline holds, nested ones included: what an import report compares, file against timeline."""
    out = dict.fromkeys(("clips", "transitions", "markers", "effects", "speed", "disabled"), 0)
    out["tracks"] = len(tl.tracks)
    out["markers"] = len(tl.tracks.markers)
    for item in tl.find_children():
        if isinstance(item, Schema.Transition):
            out["transitions"] += 1
            continue
        out["clips"] += isinstance(item, Schema.Clip)
        out["markers"] += len(item.markers)
        out["disabled"] += not item.enabled
        timed = [e for e in item.effects if isinstance(e, Schema.LinearTimeWarp) or fcp7.is_time_remap(e)]
        out["speed"] += bool(timed)
        out["effects"] += len(item.effects) - len(timed)
    return out


def _origin(clip: Schema.Clip) -> Fraction | None:
    ref = clip.media_reference
    avail = ref.available_range if ref is not None else None
    return seconds(avail.start_time) if avail is not None else None


def _drop_trailing_gaps(track: Schema.Track) -> None:
    while len(track) and isinstance(track[len(track) - 1], Schema.Gap):
        del track[len(track) - 1]
