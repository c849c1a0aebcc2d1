"""NLE edit operations: plain functions over an edit context, in whole frames at the edit rate.

Each public function here is a Session verb (``s.trim(...)`` runs :func:`trim` through ``ops.context.run``): it
converts the user's seconds to frames at the API edge, changes the tracks through ``e`` and returns the ids it
made or changed. The helpers below them (``place``, ``lift_range``, ``boundary``, ``tidy``) are the track surgery
the other operation families use too. Positions come from the track index (``e.find``, ``ti.starts``), so an
edit reads and writes only the few children around the place it changes.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import Any

import opentimelineio as otio

from .. import args, identity, model
from .. import media as media_mod
from ..errors import EditError, MediaError, ProjectError, TimeRangeError
from ..index import TrackIndex
from ..model import ClipId, MediaId, half_up, source_at, source_in, time_scalar
from ..timeline import Time, track_kind, trange
from .context import MISSING, Edit

Gap = otio.schema.Gap
Transition = otio.schema.Transition
OtioClip = otio.schema.Clip

# ---- the project's format and media ---------------------------------------------------------------------------


def set_format(e: Edit, width: int, height: int, fps: int | float | str | Fraction = 24) -> None:
    """Set the timeline's picture size and edit rate; the first video clip sets them if you don't.

    ``s.set_format(width=1920, height=1080, fps="30000/1001")``. The rate can change only while no clip is
    placed (every time on the timeline is counted in its frames).
    """
    rate = args.rate(fps)
    width, height = args.even_size(width, height)
    old = e.format
    if old and Fraction(old["fps"]) != rate and e.index.where:
        raise EditError("the edit rate cannot change once clips are placed")
    e.set_timeline_data("format", {"width": width, "height": height, "fps": str(rate)})


def ensure_format(e: Edit, media_id: str) -> None:
    """Give the timeline the format of its first video media, if it has none yet."""
    if e.format:
        return
    entry = e.entry(media_id)
    if entry["kind"] == "audio":
        raise EditError("set the timeline format first: s.set_format(width=..., height=..., fps=...)")
    fps = Fraction(entry["fps"]) if entry.get("fps") else Fraction(24)
    # yuv420p output needs even sizes
    e.inner(set_format, width=int(entry["width"]) // 2 * 2, height=int(entry["height"]) // 2 * 2, fps=fps)


def import_media(e: Edit, path: str | os.PathLike, *, name: str | None = None, sha256: str | None = None) -> MediaId:
    """Add a file to the media pool: probed with PyAV, identified by its sha256.

    ``s.import_media("/footage/interview.mp4", sha256="9f2c...")`` is the cell it records; with ``sha256``
    given, a different file at that path is refused.
    """
    if not isinstance(path, str | os.PathLike):
        raise MediaError(f"media is imported from a file's path, not {path!r}")
    path = os.path.abspath(os.fspath(path))
    replay = e.saved.get("info") if e.replaying else None
    if replay is not None:
        info = media_mod.MediaInfo.from_dict(replay)  # reopen: no re-hash, and a lost file becomes offline
    else:
        info = media_mod.probe(path)
        identity.remember(path, info.sha256)
    if sha256 is not None and info.sha256 != sha256:
        raise MediaError(f"{path} is not the recorded file: its sha256 is {info.sha256}, expected {sha256}")
    e.pin(path=path, sha256=info.sha256)
    e.keep(info=info.to_dict())
    return add_file(e, info, name)


def relink(
    e: Edit, media: Any, path: str | os.PathLike, *, sha256: str | None = None, replace: bool = False
) -> MediaId:
    """Point pool media at a file at another place: the same file moved (checked by its sha256), or with
    ``replace=True`` another file (a re-encode, a better take) that holds what the clips read. Media an import
    found offline has no sha256 to check: any file with its picture (and sound, if its clips play sound) and the
    length its clips read takes its place, and it comes online.

    ``s.relink("interview", "/archive/interview.mp4")``; the media keeps its id, so every clip of it follows.
    """
    mid = e.media_id(media)
    path = os.path.abspath(os.fspath(path))
    entry = model.plain(e.entry(mid))
    replay = e.saved.get("info") if e.replaying else None
    info = media_mod.MediaInfo.from_dict(replay) if replay is not None else media_mod.probe(path)
    if sha256 is not None and info.sha256 != sha256:
        raise MediaError(f"{path} is not the recorded file: its sha256 is {info.sha256}, expected {sha256}")
    known = entry.get("sha256") or None  # (an import's offline media: the file it named was never read)
    if not replace and known is not None and info.sha256 != known:
        raise MediaError(
            f"{path} is not the file media {mid!r} was made from (another sha256): pass replace=True to use it instead"
        )
    picture = bool(entry.get("width")) or entry.get("kind") == "video"
    sound = entry.get("audio_rate") is not None
    if (picture and not info.has_video) or (sound and not info.has_audio) or (known and picture != info.has_video):
        raise MediaError(f"{path} does not hold what media {mid!r} holds (picture and sound): cannot take its place")
    e.pin(path=path, sha256=info.sha256)
    e.keep(info=info.to_dict())
    new = {k: v for k, v in {**entry, **info.to_dict()}.items() if k != "offline"}  # it is online now
    e.add_media(mid, new)  # changing an entry checks every clip against it: a shorter file is refused
    ref = model.media_reference(new, e.rate) if e.format else None
    for ti in e.index.tracks.values():
        for i, cid in enumerate(ti.ids):
            if cid is not None and model.media_of(ti.items[i]) == mid and ref is not None:
                e.own(ti, i).media_reference = ref.deepcopy()
    return MediaId(mid)


def default_media_id(path: str | os.PathLike) -> str:
    """The pool id a file imported without a name gets (before any "-2" that keeps ids apart)."""
    return _slug(Path(path).stem)


def add_file(e: Edit, info: media_mod.MediaInfo, name: str | None, generation: dict | None = None) -> MediaId:
    """The pool id of a probed file: the entry that has it already, or a new one named after it."""
    pool = model.pool(e.timeline)
    for mid, entry in pool.items():
        if entry["path"] == info.path and entry["sha256"] == info.sha256:
            return MediaId(mid)
    base = name or _slug(Path(info.path).stem)
    mid, k = base, 2
    while mid in pool:
        mid, k = f"{base}-{k}", k + 1
    e.add_media(mid, model.pool_entry(info.to_dict(), name or Path(info.path).name, generation))
    return MediaId(mid)


def open_timeline(e: Edit, path: str | os.PathLike, *, sha256: str | None = None) -> None:
    """Make an ``.otio`` file written by nbedit the session's timeline. ``s.open_timeline("cut.otio")``

    The journal keeps the whole timeline, so the project reopens even if the file changes or goes away.
    """
    path = os.path.abspath(os.fspath(path))
    saved = e.saved.get("timeline") if e.replaying else None
    if saved is not None:
        e.replace_timeline(_read(saved, "the timeline kept in the journal"))
        return
    try:
        digest = media_mod.sha256_file(path)
        with open(path, "rb") as f:
            tl = model.read_otio(f.read(), path)
    except Exception as err:  # OTIO raises many kinds for one cause: not a timeline it can read
        raise ProjectError(f"cannot read {path} as an OTIO timeline: {err}") from err
    if sha256 is not None and digest != sha256:
        raise ProjectError(f"{path} is not the recorded file: its sha256 is {digest}, expected {sha256}")
    if not model.is_project(tl):
        raise ProjectError(f"{path} is not an nbedit timeline (no metadata['nbedit']['format'])")
    e.replace_timeline(tl)
    e.pin(path=path, sha256=digest)
    e.keep(timeline=tl.to_json_string())


# ---- placing clips ----------------------------------------------------------------------------------------


def new_clip(e: Edit, media: Any, track: str, src_in: Time | None, src_out: Time | None, duration: Time | None):
    """A clip of ``media`` for ``track``: from src_in to src_out, or for duration, or to the end of the media."""
    mid = e.media_id(media)
    kind = track_kind(track)
    if kind == otio.schema.TrackKind.Video:
        ensure_format(e, mid)
    rate = e.rate
    entry = e.entry(mid)
    avail = model.available_frames(entry, rate)
    first = e.opt_frames(src_in, "src_in") or 0
    if src_out is not None and duration is not None:
        raise EditError("give src_out or duration, not both")
    if src_out is not None:
        last = e.frames(src_out, "src_out")
    elif duration is not None:
        last = first + e.frames(duration, "duration")
    elif avail is None:
        last = first + round(5 * rate)  # a still lasts five seconds unless told otherwise
    else:
        last = avail
    return model.new_clip(entry, mid, e.new_id(), kind, first, last - first, rate)


def append(
    e: Edit,
    media: Any,
    track: str = "V1",
    *,
    src_in: Time | None = None,
    src_out: Time | None = None,
    duration: Time | None = None,
    audio: str | None = None,
) -> ClipId:
    """Put a clip of ``media`` at the end of ``track``.

    ``s.append("interview", track="V1", src_in=2.0, src_out=9.5)``; without src_out the clip runs to the end
    of the media (stills last five seconds, or ``duration``). ``audio="A1"`` also places the media's sound on
    A1 under it, linked: the two then move, trim, split and go together (``s.unlink`` parts them).
    """
    return _put(e, media, track, None, src_in, src_out, duration, audio, ripple=True, sound_ripple=False)


def insert(
    e: Edit,
    media: Any,
    track: str = "V1",
    *,
    at: Time,
    src_in: Time | None = None,
    src_out: Time | None = None,
    duration: Time | None = None,
    audio: str | None = None,
) -> ClipId:
    """Insert a clip at ``at`` seconds; what was there and after moves right (a clip under ``at`` is cut).

    ``s.insert("broll", track="V1", at=3.0, src_in=0.0, src_out=2.0)``; ``audio="A1"`` inserts its linked sound
    on A1 too (what is there moves right as well, so the tracks stay in sync).
    """
    return _put(e, media, track, at, src_in, src_out, duration, audio, ripple=True, sound_ripple=True)


def overwrite(
    e: Edit,
    media: Any,
    track: str = "V1",
    *,
    at: Time,
    src_in: Time | None = None,
    src_out: Time | None = None,
    duration: Time | None = None,
    audio: str | None = None,
) -> ClipId:
    """Place a clip at ``at`` seconds over whatever is there; nothing else moves.

    ``s.overwrite("broll", track="V1", at=3.0, duration=1.5)``; ``audio="A1"`` places its linked sound on A1 too.
    """
    return _put(e, media, track, at, src_in, src_out, duration, audio, ripple=False, sound_ripple=False)


def _put(e: Edit, media: Any, track: str, at: Time | None, src_in, src_out, duration, audio, *, ripple, sound_ripple):
    """A new clip of ``media`` at ``at`` (None: the end of the track), and its linked sound on ``audio``."""
    clip = new_clip(e, media, track, src_in, src_out, duration)
    frame = e.ensure_track(track).end if at is None else e.frames(at, "at")
    sound = _linked_sound(e, clip, track, audio)
    place(e, clip, track, frame, ripple=ripple)
    if sound is not None:  # appended sound goes under its picture, over whatever the audio track holds there
        place(e, sound, audio, frame, ripple=sound_ripple)
    return ClipId(model.item_id(clip))


def _linked_sound(e: Edit, clip: Any, track: str, audio: str | None) -> Any:
    """The sound of a new video clip for audio track ``audio``, linked to it (None without ``audio``)."""
    if audio is None:
        return None
    if track_kind(track) != otio.schema.TrackKind.Video or track_kind(audio) != otio.schema.TrackKind.Audio:
        raise EditError(f"audio= names an audio track (A1, A2, ...) for a clip placed on a video track, not {audio!r}")
    mid = model.media_of(clip)
    p = clip.source_range
    sound = model.new_clip(
        e.entry(mid), mid, e.new_id(), otio.schema.TrackKind.Audio, source_in(clip), round(p.duration.value), e.rate
    )
    model.nb(clip)["linked"] = [model.item_id(sound)]
    model.nb(sound)["linked"] = [model.item_id(clip)]
    return sound


# ---- changing clips -----------------------------------------------------------------------------------------


def trim(e: Edit, clip: Any, *, src_in: Time | None = None, src_out: Time | None = None, ripple: bool = True) -> ClipId:
    """Set a clip's source in and/or out point, in seconds of its media.

    ``s.trim("c3", src_in=5.0)``. With ``ripple=True`` (the default) later clips on the track move to follow
    the clip's new length; with ``ripple=False`` the clip's other edge stays put and a gap opens (or a gap
    beside it shrinks).
    """
    cid = e.clip_id(clip)
    if src_in is None and src_out is None:
        raise EditError("trim needs src_in, src_out or both")
    trim_frames(e, cid, e.opt_frames(src_in, "src_in"), e.opt_frames(src_out, "src_out"), ripple=ripple)
    return ClipId(cid)


def trim_frames(
    e: Edit, cid: str, src_in: Fraction | int | None, src_out: Fraction | int | None, *, ripple: bool, linked=True
):
    """:func:`trim` with source points in edit-rate frames (maybe fractional); linked clips move their edges by
    as many timeline frames."""
    ti, i = e.find(cid)
    item, dur = ti.items[i], ti.dur[i]
    scalar = time_scalar(item)
    old_in = source_in(item)
    old_out = source_at(item, dur)  # the end of the span it plays (exclusive)
    new_in = old_in if src_in is None else src_in
    new_out = old_out if src_out is None else src_out
    # a reversed clip plays down from its in point: its out point lies below it
    if (new_out - new_in) * (1 if scalar >= 0 else -1) <= 0:
        where = "after" if scalar >= 0 else "before (the clip plays in reverse)"
        raise TimeRangeError(f"clip {cid!r}: the out point must come {where} the in point")
    head = half_up(Fraction(new_in - old_in) / scalar)  # >0: the clip now starts later in the timeline (non-ripple)
    # at speeds other than 1 the clip keeps whole timeline frames, so an out point snaps to the nearest one
    new_dur = dur - head if src_out is None else half_up(Fraction(new_out - new_in) / scalar)
    if new_dur < 1:
        raise TimeRangeError(f"clip {cid!r}: that trim leaves less than one frame")
    tail = new_dur - (dur - head)  # >0: it now ends later
    partners = _partners(e, cid) if linked else []
    _resize(e, cid, ti, i, new_in, new_dur, head, tail, ripple)
    for other in partners:
        tj, j = e.find(other)
        them, their_dur = tj.items[j], tj.dur[j]
        if their_dur - head + tail < 1:
            raise TimeRangeError(f"clip {other!r}, linked to {cid!r}: that trim leaves it less than one frame")
        _resize(e, other, tj, j, source_at(them, head), their_dur - head + tail, head, tail, ripple)


def _resize(e: Edit, cid: str, ti: TrackIndex, i: int, new_in: Any, new_dur: int, head: int, tail: int, ripple: bool):
    """Give child i a new source in point and duration; ``head``/``tail``: how far its edges move (frames)."""
    if not ripple:
        if (head and _transition_beside(ti, i, -1)) or (tail and _transition_beside(ti, i, +1)):
            raise EditError(f"clip {cid!r} has a crossfade on that side: trim with ripple=True or delete it")
        i += _absorb(e, ti, i, -1, head)
        _absorb(e, ti, i, +1, -tail)
    e.set_source(ti, i, new_in, new_dur)
    tidy(e, ti, i - 2, i + 3)


def _partners(e: Edit, cid: str) -> list[str]:
    """The clips linked to ``cid`` (both ways: a piece an overwrite cut off keeps a one-sided link, and is not)."""
    ti, i = e.find(cid)
    out = []
    for p in model.links_of(ti.items[i]):
        if p != cid and p in e.index.where:
            tj, j = e.find(p)
            if cid in model.links_of(tj.items[j]):
                out.append(p)
    return out


def link(e: Edit, a: Any, b: Any) -> None:
    """Link two clips (a picture and its sound, say), and so the clips linked to either: they move, trim, split,
    slip, change speed and go together. ``s.link("c3", "c4")``"""
    ids = {e.clip_id(a), e.clip_id(b)}
    if len(ids) < 2:
        raise EditError("link needs two different clips")
    group = set(ids)
    for cid in ids:
        group |= set(_partners(e, cid))
    for cid in sorted(group):
        e.set_clip(cid, "linked", sorted(group - {cid}))


def unlink(e: Edit, clip: Any) -> None:
    """Part a clip from the clips linked to it; they stay where they are. ``s.unlink("c3")``"""
    cid = e.clip_id(clip)
    partners = _partners(e, cid)
    if not partners:
        raise EditError(f"clip {cid!r} is linked to no clip")
    for other in partners:
        rest = [p for p in _partners(e, other) if p != cid]
        e.set_clip(other, "linked", rest if rest else MISSING)
    e.set_clip(cid, "linked", MISSING)


def _transition_beside(ti: TrackIndex, i: int, side: int) -> bool:
    j = i + side
    return 0 <= j < len(ti) and isinstance(ti.items[j], Transition)


def _absorb(e: Edit, ti: TrackIndex, i: int, side: int, frames: int) -> int:
    """Keep the far edge still: add ``frames`` of gap beside child i (or take -frames from the gap there).

    Returns how far child i moved (1 when a gap went in before it)."""
    if frames == 0:
        return 0
    j = i + side
    neighbour = ti.items[j] if 0 <= j < len(ti) else None
    if frames > 0:
        e.insert(ti, i if side < 0 else i + 1, _gap(frames, e.rate))
        return 1 if side < 0 else 0
    if neighbour is None and side > 0:
        return 0  # growing past the end of the track needs no room
    if not isinstance(neighbour, Gap) or ti.dur[j] < -frames:
        raise EditError("no room to lengthen the clip there without ripple: trim with ripple=True")
    e.set_source(ti, j, 0, ti.dur[j] + frames)
    return 0


def split(e: Edit, clip: Any, *, at: Time) -> tuple[ClipId, ClipId]:
    """Cut a clip in two at timeline time ``at``; returns (left, right). ``s.split("c1", at=4.0)``"""
    cid = e.clip_id(clip)
    ti, i = e.find(cid)
    n = e.frames(at, "at")
    p = ti.placed(i)
    if not p.start < n < p.end:
        raise TimeRangeError(f"clip {cid!r} spans frames {p.start}..{p.end}: cannot split at {n}")
    partners = _partners(e, cid)
    rights = [split_item(e, ti, i, n - p.start)]
    for other in partners:  # linked clips are cut at the same frame, and the right pieces linked to each other
        tj, j = e.find(other)
        q = tj.placed(j)
        if q.start < n < q.end:
            rights.append(split_item(e, tj, j, n - q.start))
    for r in rights:
        e.set_clip(r, "linked", [x for x in rights if x != r] or MISSING)
    return ClipId(cid), ClipId(rights[0])


def delete(e: Edit, clip: Any, *, ripple: bool = False) -> None:
    """Remove a clip, or a list of clips: leave a gap (lift, the default) or close it (``ripple=True``).

    ``s.delete("c1", ripple=True)``, ``s.delete(["c2", "c5"])``. Crossfades touching a clip go with it, and so do
    clips linked to it.
    """
    clips = clip if isinstance(clip, list | tuple) else [clip]
    if not clips:
        raise EditError("delete takes a clip or a list of clips, not an empty list")
    gone: dict[str, None] = {}  # each clip once, though it is named and also linked to another named one
    for c in clips:
        cid = e.clip_id(c)
        gone.update(dict.fromkeys([cid, *_partners(e, cid)]))
    for each in gone:
        ti, i = e.find(each)
        p = ti.placed(i)
        k = lift_range(e, ti, p.start, p.end, ripple=ripple)
        tidy(e, ti, k - 2, k + 2)


def move(e: Edit, clip: Any, *, to: Time, track: str | None = None) -> ClipId:
    """Move a clip to timeline time ``to`` (and to another track of its kind), over what is there.

    ``s.move("c2", to=10.0, track="V2")``. The old place becomes a gap; crossfades touching it go.
    """
    cid = e.clip_id(clip)
    move_frames(e, cid, e.frames(to, "to"), track)
    return ClipId(cid)


def move_frames(e: Edit, cid: str, to: int, track: str | None, *, linked: bool = True) -> None:
    """:func:`move` to edit-rate frame ``to``; linked clips move as far, on their own tracks."""
    ti, i = e.find(cid)
    by = to - ti.starts[i]
    for other in _partners(e, cid) if linked else []:
        tj, j = e.find(other)
        if tj.starts[j] + by < 0:
            raise TimeRangeError(f"clip {other!r}, linked to {cid!r}, would start before the timeline")
        _move_one(e, other, tj.starts[j] + by, None)
    _move_one(e, cid, to, track)


def _move_one(e: Edit, cid: str, to: int, track: str | None) -> None:
    ti, i = e.find(cid)
    target = ti.name if track is None else track
    if track_kind(target) != ti.kind:
        raise EditError(f"cannot move a clip from {ti.kind} track {ti.name} to {target}")
    moved = ti.items[i].deepcopy()
    p = ti.placed(i)
    k = lift_range(e, ti, p.start, p.end, ripple=False)
    tidy(e, ti, k - 2, k + 2)
    place(e, moved, target, to, ripple=False)


def slip(e: Edit, clip: Any, *, by: Time) -> ClipId:
    """Show a later (or earlier, negative) part of the media in the same place. ``s.slip("c1", by=0.5)``"""
    cid = e.clip_id(clip)
    frames = e.frames(by, "by")
    for each in [cid, *_partners(e, cid)]:
        ti, i = e.find(each)
        e.set_source(ti, i, source_in(ti.items[i]) + frames, ti.dur[i])
    return ClipId(cid)


def roll(e: Edit, a: Any, b: Any, *, by: Time) -> tuple[ClipId, ClipId]:
    """Move the cut between neighbouring clips ``a`` and ``b`` by ``by`` seconds (later if positive): ``a`` ends
    later and ``b`` starts later in its media; nothing else moves. ``s.roll("c1", "c2", by=0.5)``"""
    a_id, b_id = e.clip_id(a), e.clip_id(b)
    ti, i = e.find(a_id)
    tj, j = e.find(b_id)
    if ti is not tj or j != i + 1:
        raise EditError(f"clips {a_id!r} and {b_id!r} must be neighbours on one track, {a_id!r} first")
    n = e.frames(by, "by")
    if n >= ti.dur[j] or -n >= ti.dur[i]:
        raise TimeRangeError(f"rolling the cut by {n} frames would leave one of the clips no frames")
    _grow_end(e, ti, i, n)
    _grow_start(e, ti, j, -n)
    return ClipId(a_id), ClipId(b_id)


def slide(e: Edit, clip: Any, *, by: Time) -> ClipId:
    """Move a clip along its track by ``by`` seconds, keeping what it shows: the clip (or gap) before it grows and
    the one after it shrinks by as much, so nothing else moves. ``s.slide("c2", by=-0.25)``"""
    cid = e.clip_id(clip)
    ti, i = e.find(cid)
    n = e.frames(by, "by")
    if n == 0:
        return ClipId(cid)
    if _transition_beside(ti, i, -1) or _transition_beside(ti, i, +1):
        raise EditError(f"clip {cid!r} has a crossfade: delete it before sliding the clip")
    before, after = i - 1, i + 1
    if before < 0 and n < 0:
        raise TimeRangeError(f"clip {cid!r} starts the track: it cannot slide earlier")
    if n < 0 and ti.dur[before] <= -n:
        raise TimeRangeError(f"the item before {cid!r} lasts {ti.dur[before]} frames: too short to slide by {n}")
    if n > 0 and after < len(ti) and ti.dur[after] <= n:
        raise TimeRangeError(f"the item after {cid!r} lasts {ti.dur[after]} frames: too short to slide by {n}")
    if after < len(ti):
        _grow_start(e, ti, after, -n)
    if before >= 0:
        _grow_end(e, ti, before, n)
    else:
        e.insert(ti, 0, _gap(n, e.rate))
    k = i + (1 if before < 0 else 0)
    tidy(e, ti, k - 2, k + 3)
    return ClipId(cid)


def _grow_end(e: Edit, ti: TrackIndex, i: int, frames: int) -> None:
    """Child i ends ``frames`` later (earlier if negative); its start and first picture stay."""
    if _transition_beside(ti, i, +1):
        raise EditError(f"{_what(ti, i)} has a crossfade at that cut: delete it first")
    e.set_source(ti, i, 0 if isinstance(ti.items[i], Gap) else source_in(ti.items[i]), ti.dur[i] + frames)


def _grow_start(e: Edit, ti: TrackIndex, i: int, frames: int) -> None:
    """Child i starts ``frames`` earlier (later if negative), showing the media that comes before (or after) there."""
    if _transition_beside(ti, i, -1):
        raise EditError(f"{_what(ti, i)} has a crossfade at that cut: delete it first")
    item = ti.items[i]
    start = 0 if isinstance(item, Gap) else source_at(item, -frames)
    e.set_source(ti, i, start, ti.dur[i] + frames)


def _what(ti: TrackIndex, i: int) -> str:
    return f"clip {ti.ids[i]!r}" if ti.ids[i] else "the gap there"


def speed(e: Edit, clip: Any, factor: float) -> ClipId:
    """Play a clip ``factor`` times as fast (0.5: slow motion, -1: in reverse); it keeps its content and later
    clips ripple.

    ``s.speed("c2", 2.0)`` records an OTIO LinearTimeWarp on the clip. A negative factor plays the same stretch
    of media backwards: the clip's first frame is the last one it showed playing forward.
    """
    ratio = Fraction(args.number(factor, "speed factor")).limit_denominator(10**4)
    if ratio == 0 or not -100 <= ratio <= 100:
        raise EditError(f"speed factor must be from -100 to 100 and not 0 (negative: reverse), not {factor!r}")
    cid = e.clip_id(clip)
    for each in [cid, *_partners(e, cid)]:
        ti, i = e.find(each)
        item = e.own(ti, i)
        old = time_scalar(item)
        span = ti.dur[i] * abs(old)  # the stretch of media the clip plays, kept as it is
        low = source_in(item) if old >= 0 else source_at(item, ti.dur[i] - 1)  # its lowest frame
        item.effects[:] = [fx for fx in item.effects if not isinstance(fx, otio.schema.LinearTimeWarp)]
        if ratio != 1:
            item.effects.append(otio.schema.LinearTimeWarp(name="speed", time_scalar=float(ratio)))
        dur = max(1, half_up(Fraction(span) / abs(ratio)))
        e.set_source(ti, i, low if ratio > 0 else low + (dur - 1) * -ratio, dur)
        tidy(e, ti, i - 2, i + 3)
    return ClipId(cid)


def crossfade(e: Edit, a: Any, b: Any, *, duration: Time = 0.5) -> None:
    """Dissolve from clip ``a`` into the next clip ``b``, centred on their cut.

    ``s.crossfade("c1", "c2", duration=0.5)``. Both clips need that much more media beyond the cut (handles).
    """
    a_id, b_id = e.clip_id(a), e.clip_id(b)
    ti_a, ia = e.find(a_id)
    ti_b, ib = e.find(b_id)
    frames = e.frames(duration, "duration")
    if ti_a is ti_b and ib == ia + 2 and isinstance(ti_a.items[ia + 1], Transition):
        raise EditError(f"clips {a_id!r} and {b_id!r} already have crossfade {ti_a.items[ia + 1].name!r}")
    if ti_a is not ti_b or ib != ia + 1:
        raise EditError(f"clips {a_id!r} and {b_id!r} must be neighbours on one track, {a_id!r} first")
    if frames < 2:
        raise TimeRangeError("a crossfade must last at least two frames")
    before = frames // 2
    _check_handles(e, ti_a, ia, ib, before, frames - before, frames)
    tr = Transition(
        name=f"{a_id}-{b_id}",
        transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
        in_offset=trange(0, before, e.rate).duration,
        out_offset=trange(0, frames - before, e.rate).duration,
    )
    e.insert(ti_a, ib, tr)


def _check_handles(e: Edit, ti: TrackIndex, ia: int, ib: int, before: int, after: int, frames: int) -> None:
    """Say in an editor's words when a clip lacks the media a crossfade mixes beyond the cut (its handles)."""
    rate, secs = e.rate, float(frames / e.rate)
    a, b = ti.items[ia], ti.items[ib]
    if time_scalar(a) < 0 or time_scalar(b) < 0:
        return  # a reversed clip's handles lie the other way: model.check says what is missing
    spare_a = model.available_frames(e.entry(model.media_of(a)), rate)
    if spare_a is not None:
        left = spare_a - source_at(a, ti.dur[ia])  # media after a's out point
        if source_at(a, ti.dur[ia] + after - 1) >= spare_a:  # the last frame it mixes, as model.check counts
            raise TimeRangeError(
                f"not enough media after clip {ti.ids[ia]!r} for a {secs:g} s crossfade: it needs "
                f"{float(after * time_scalar(a) / rate):.2f} s beyond its out point and its media has "
                f"{max(0.0, float(left / rate)):.2f} s (trim it shorter, or make the crossfade shorter)"
            )
    left = source_in(b)  # media before b's in point
    if left < before * time_scalar(b):
        raise TimeRangeError(
            f"not enough media before clip {ti.ids[ib]!r} for a {secs:g} s crossfade: it needs "
            f"{float(before * time_scalar(b) / rate):.2f} s before its in point and its media has "
            f"{max(0.0, float(left / rate)):.2f} s (trim its start later, or make the crossfade shorter)"
        )


def opacity(e: Edit, clip: Any, value: float) -> ClipId:
    """Set a video clip's opacity, 0 (invisible) to 1. ``s.opacity("c4", 0.5)``"""
    v = args.number(value, "opacity", lo=0, hi=1)
    cid = clip_of_kind(e, clip, video=True, what="opacity")
    e.set_clip(cid, "opacity", v)
    return ClipId(cid)


def transform(
    e: Edit,
    clip: Any,
    *,
    x: float = 0.0,
    y: float = 0.0,
    scale: float = 1.0,
    crop: tuple[int, int, int, int] = (0, 0, 0, 0),
) -> ClipId:
    """Place a video clip's picture: crop (left, top, right, bottom source pixels), scale, move.

    ``s.transform("c4", x=200, y=-100, scale=0.3)``. At scale 1 the picture fits the frame; x and y move its
    centre in output pixels.
    """
    cid = clip_of_kind(e, clip, video=True, what="transform")
    ti, i = e.find(cid)
    entry = e.entry(model.media_of(ti.items[i]))
    box = args.crop(crop, int(entry.get("width") or 0), int(entry.get("height") or 0))
    value = {
        "x": args.number(x, "x"),
        "y": args.number(y, "y"),
        "scale": args.number(scale, "scale", lo=1e-6, hi=args.LIMITS.max_scale),
        "crop": list(box),
    }
    e.set_clip(cid, "transform", value)
    return ClipId(cid)


def enable(e: Edit, clip: Any, on: bool = True) -> ClipId:
    """Turn a clip off (``on=False``: it stays in place, and is neither shown nor heard) or on again.

    ``s.enable("c4", False)``. It is OTIO's ``enabled``, so other editors see it disabled too.
    """
    if not isinstance(on, bool):
        raise EditError(f"on must be True or False, not {on!r}")
    cid = e.clip_id(clip)
    ti, i = e.find(cid)
    e.own(ti, i).enabled = on
    return ClipId(cid)


def gain(e: Edit, clip: Any, db: float) -> ClipId:
    """Set an audio clip's gain in decibels. ``s.gain("c5", -6.0)``"""
    v = args.number(db, "gain", lo=-100, hi=40)
    cid = clip_of_kind(e, clip, video=False, what="gain")
    e.set_clip(cid, "gain_db", v)
    return ClipId(cid)


def paste(e: Edit, clips: Any, *, at: Time, track: str | None = None) -> list[ClipId]:
    """Copies of ``clips`` placed over what is there from ``at`` seconds on, as far apart as they were; returns
    the copies' ids. ``s.paste(["c3", "c4"], at=12.0)``. Each copy goes on its clip's track, or the clips of
    ``track``'s kind all go on ``track``; copies of linked clips are linked to each other.
    """
    if isinstance(clips, str) or not isinstance(clips, tuple | list) or not clips:
        raise EditError(f"paste takes a list of clips, not {clips!r}")
    ids = [e.clip_id(c) for c in clips]
    if len(set(ids)) != len(ids):
        raise EditError("paste takes each clip once")
    frame = e.frames(at, "at")
    found = [e.find(cid) for cid in ids]
    first = min(ti.starts[i] for ti, i in found)
    kind = None if track is None else track_kind(track)
    copies: dict[str, Any] = {}
    for cid, (ti, i) in zip(ids, found, strict=True):
        item = ti.items[i].deepcopy()
        model.nb(item)["id"] = e.new_id()
        item.markers[:] = []  # markers mark one place of the edit: they stay with the original
        copies[cid] = (item, track if kind == ti.kind else ti.name, frame + ti.starts[i] - first)
    for cid, (item, _, _) in copies.items():
        partners = [copies[p][0] for p in _partners(e, cid) if p in copies]
        if partners:
            model.nb(item)["linked"] = [model.item_id(p) for p in partners]
        else:
            model.nb(item).pop("linked", None)
    for item, name, start in copies.values():
        place(e, item, name, start, ripple=False)
    return [ClipId(model.item_id(item)) for item, _, _ in copies.values()]


def clip_of_kind(e: Edit, clip: Any, *, video: bool, what: str) -> str:
    """The id of a clip that must be on a video (or audio) track for ``what``."""
    cid = e.clip_id(clip)
    ti, _ = e.find(cid)
    kind = otio.schema.TrackKind.Video if video else otio.schema.TrackKind.Audio
    if ti.kind != kind:
        raise EditError(f"clip {cid!r} is on {ti.kind} track {ti.name}: {what} applies to {kind} clips")
    return cid


# ---- tracks ---------------------------------------------------------------------------------------------------


def add_track(e: Edit, name: str) -> None:
    """Add an empty track (V1, V2, ... or A1, A2, ...). ``s.add_track("V3")``"""
    track_kind(name)
    if e.index.track(name) is not None:
        raise EditError(f"track {name} exists already")
    e.ensure_track(name)


def remove_track(e: Edit, name: str, *, force: bool = False) -> None:
    """Remove a track; one holding clips only with ``force=True``. ``s.remove_track("V3")``"""
    ti = e.track(name)
    if any(cid is not None for cid in ti.ids) and not force:
        raise EditError(f"track {name} holds clips: delete them first or pass force=True")
    e.remove_track(name)


# ---- track surgery ----------------------------------------------------------------------------------------


def _gap(frames: int, rate: Fraction) -> otio.schema.Gap:
    return Gap(source_range=trange(0, frames, rate))


def split_item(e: Edit, ti: TrackIndex, i: int, offset: int) -> str | None:
    """Split child i ``offset`` frames after its start into two that play the same; the right one's id."""
    item, dur = ti.items[i], ti.dur[i]
    if isinstance(item, OtioClip) and (_transition_beside(ti, i, -1) or _transition_beside(ti, i, +1)):
        for c in ti.cuts(i - 1, i + 2):
            if c.before.index == i and offset > dur - c.in_offset:
                raise EditError(f"cannot cut inside crossfade {c.transition.name!r}")
            if c.after.index == i and offset < c.out_offset:
                raise EditError(f"cannot cut inside crossfade {c.transition.name!r}")
    rate = e.rate
    if isinstance(item, Gap):
        e.splice(ti, i, i + 1, [_gap(offset, rate), _gap(dur - offset, rate)])
        return None
    left, right = item.deepcopy(), item.deepcopy()
    model.set_source(right, source_at(item, offset), dur - offset, rate)
    model.set_source(left, source_in(item), offset, rate)
    cut = source_at(item, offset)  # a clip's marker stays on the piece showing the picture it marks
    left.markers[:] = [m for m in left.markers if model.frames_in(m.marked_range.start_time) < cut]
    right.markers[:] = [m for m in right.markers if model.frames_in(m.marked_range.start_time) >= cut]
    model.nb(right)["id"] = rid = e.new_id()
    e.splice(ti, i, i + 1, [left, right])
    return rid


def boundary(e: Edit, ti: TrackIndex, at: int, lineage: dict | None = None) -> int:
    """Index of the child that starts at frame ``at``, splitting an item or padding with a gap to make one.

    ``lineage`` collects {new piece id: id it was split from}.
    """
    end = ti.end
    if at >= end:
        if at > end:
            e.insert(ti, len(ti), _gap(at - end, e.rate))
        return len(ti)
    i = ti.at(at)
    start = ti.starts[i]
    if start == at:
        return i
    rid = split_item(e, ti, i, at - start)
    if rid is not None and lineage is not None:
        lineage[rid] = ti.ids[i]
    return i + 1


def lift_range(e: Edit, ti: TrackIndex, start: int, end: int, *, ripple: bool) -> int:
    """Remove what lies in frames [start, end) of a track; returns the index where the range began."""
    lineage: dict[str, str] = {}
    i = boundary(e, ti, start, lineage)
    k = boundary(e, ti, end, lineage) if end < ti.end else len(ti)
    lo = i
    if k > i and i > 0 and isinstance(ti.items[i - 1], Transition):
        lo = i - 1  # a crossfade into the first lifted clip goes with it
    new = [_gap(end - start, e.rate)] if not ripple and end > start else []
    if k > lo or new:
        e.splice(ti, lo, k, new)
    _keep_ids(e, ti, lineage)
    return lo


def _keep_ids(e: Edit, ti: TrackIndex, lineage: dict[str, str]) -> None:
    """A piece whose original was removed takes the original's id, so the user's handle still finds it."""
    if not lineage:
        return
    pieces = sorted((ti.index_of(rid), rid) for rid in lineage if e.index.where.get(rid) is ti)
    for i, rid in pieces:
        root = rid
        while root in lineage:
            root = lineage[root]
        if root != rid and root not in e.index.where:
            model.nb(e.own(ti, i))["id"] = root
            e.changed(ti, i)


def tidy(e: Edit, ti: TrackIndex, lo: int = 0, hi: int | None = None) -> None:
    """Merge neighbouring gaps and drop empty and trailing ones near children [lo, hi), so equal edits give
    equal timelines."""
    rate = e.rate
    i = max(lo - 1, 0)
    hi = len(ti) if hi is None else hi
    while i < min(hi + 1, len(ti)):
        if isinstance(ti.items[i], Gap):
            if ti.dur[i] == 0:
                e.remove(ti, i)
                continue
            if i + 1 < len(ti) and isinstance(ti.items[i + 1], Gap):
                e.splice(ti, i, i + 2, [_gap(ti.dur[i] + ti.dur[i + 1], rate)])
                continue
        i += 1
    while len(ti) and isinstance(ti.items[-1], Gap):
        e.remove(ti, len(ti) - 1)


def place(e: Edit, clip: otio.schema.Clip, track_name: str, at: int, *, ripple: bool) -> None:
    """Put ``clip`` at frame ``at``: insert (ripple, later items move right) or overwrite (replace what is there)."""
    if at < 0:
        raise TimeRangeError(f"cannot place a clip before the start of the timeline (at {at} frames)")
    ti = e.ensure_track(track_name)
    dur = round(clip.source_range.duration.value)
    if ripple:
        i = boundary(e, ti, at)
        if 0 < i <= len(ti) - 1 and isinstance(ti.items[i - 1], Transition):
            raise EditError(
                f"cannot insert at the cut of crossfade {ti.items[i - 1].name!r}: delete one of its clips' "
                "crossfade first, or insert elsewhere"
            )
    else:
        i = lift_range(e, ti, at, at + dur, ripple=True)
    e.insert(ti, i, clip)
    tidy(e, ti, i - 2, i + 3)


def _read(text: str, what: str) -> Any:
    try:
        return model.read_otio(text, what)
    except Exception as err:
        raise ProjectError(f"cannot read {what}: {err}") from err


def _slug(text: str) -> str:
    out = "".join(c if c.isalnum() or c in "-_" else "-" for c in text).strip("-")
    return out or "media"
