"""Markers as recorded operations: on the timeline, or on a clip (where they stay on the picture they mark).

    m = s.add_marker(12.0, "music in", color="GREEN")        # a timeline marker at 12 s
    s.add_marker(3.5, "blink", clip="c4")                    # on clip c4's picture at timeline 3.5 s
    s.move_marker(m, to=12.5); s.change_marker(m, name="music", color="BLUE"); s.remove_marker(m)

They are OTIO markers (``timeline.tracks.markers`` and ``clip.markers``), so every format that keeps markers
exports them. A timeline marker's range is in timeline frames; a clip marker's in the clip's source frames, the way
OTIO counts an item's markers, so trims and slips leave it on the same picture.
"""

from __future__ import annotations

from typing import Any

from .. import model
from ..errors import ClipNotFoundError, EditError, TimeRangeError
from ..timeline import Time
from .context import Edit


def add_marker(
    e: Edit, at: Time, name: str = "", *, color: str = "RED", duration: Time = 0, clip: Any = None, note: str = ""
) -> str:
    """Mark timeline time ``at`` (for ``duration`` seconds), on the timeline or on ``clip``; returns its id.

    ``s.add_marker(12.0, "music in", color="GREEN")``. Colours: RED, PINK, ORANGE, YELLOW, GREEN, CYAN, BLUE,
    PURPLE, MAGENTA, WHITE, BLACK.
    """
    name, note, color = _text(name, "name"), _text(note, "note"), _color(color)
    frame, frames = e.frame_at(at, "at"), _frames(e, duration)
    mid = e.new_id("mk")
    if clip is None:
        _check_in_timeline(e, frame)
        stack = e.timeline.tracks
        e.set_markers(stack, [*stack.markers, model.new_marker(mid, name, color, frame, frames, e.rate, note)])
        return mid
    ti, i = e.find(clip)
    start = _source_point(e, ti, i, frame)
    item = e.own(ti, i)
    item.markers.append(model.new_marker(mid, name, color, start, frames, e.rate, note))
    return mid


def move_marker(e: Edit, marker: str, *, to: Time) -> str:
    """Move a marker to timeline time ``to`` (a clip's marker stays on its clip). ``s.move_marker("mk3", to=8.0)``"""
    frame = e.frame_at(to, "to")
    owner, k = _find(e, marker)
    if owner is None:
        _check_in_timeline(e, frame)
        _replace(e, None, k, lambda m: _at(m, frame, e))
    else:
        ti, i = e.find(owner)
        start = _source_point(e, ti, i, frame)
        _replace(e, owner, k, lambda m: _at(m, start, e))
    return marker


def change_marker(
    e: Edit, marker: str, *, name: str | None = None, color: str | None = None, note: str | None = None
) -> str:
    """Rename a marker, recolour it or change its note. ``s.change_marker("mk3", name="cue", color="BLUE")``"""
    if name is None and color is None and note is None:
        raise EditError("change_marker needs name, color or note")
    name = None if name is None else _text(name, "name")
    note = None if note is None else _text(note, "note")
    color = None if color is None else _color(color)
    owner, k = _find(e, marker)

    def change(m: Any) -> None:
        if name is not None:
            m.name = name
        if color is not None:
            m.color = color
        if note is not None:
            m.comment = note

    _replace(e, owner, k, change)
    return marker


def remove_marker(e: Edit, marker: str) -> None:
    """Remove a marker. ``s.remove_marker("mk3")``"""
    owner, k = _find(e, marker)
    if owner is None:
        stack = e.timeline.tracks
        e.set_markers(stack, [m for j, m in enumerate(stack.markers) if j != k])
    else:
        ti, i = e.find(owner)
        del e.own(ti, i).markers[k]


def markers(tl: Any, index: Any) -> list[dict]:
    """Every marker as plain data: id, name, color, note, the clip it is on (None: the timeline), and where it sits
    on the timeline (``at``, ``duration``, in edit-rate frames). ``s.markers()``; reads, records nothing."""
    out = timeline_markers(tl)
    for track in tl.tracks:
        for p in index.track(track.name).layout()[0]:
            out.extend(item_markers(p.item, p.start))
    return out


def timeline_markers(tl: Any) -> list[dict]:
    """The timeline's own markers, as :func:`markers` lists them."""
    return [_plain(m, None, model.frames_in(m.marked_range.start_time), m) for m in tl.tracks.markers]


def item_markers(item: Any, start: int) -> list[dict]:
    """The markers of one clip (or gap) placed at timeline frame ``start``, as :func:`markers` lists them: for a
    view that keeps them item by item."""
    out = []
    for m in getattr(item, "markers", ()):
        pos = model.source_in(item)
        offset = (model.frames_in(m.marked_range.start_time) - pos) / model.time_scalar(item)
        out.append(_plain(m, model.item_id(item), start + model.half_up(offset), m))
    return out


# ---- helpers ------------------------------------------------------------------------------------------


def _plain(m: Any, clip: str | None, at: int, marker: Any) -> dict:
    return {
        "id": model.marker_id(marker),
        "name": m.name,
        "color": m.color,
        "note": m.comment,
        "clip": clip,
        "at": int(at),
        "duration": model.frames_in(m.marked_range.duration),
    }


def _find(e: Edit, marker: Any) -> tuple[str | None, int]:
    """(clip id or None for the timeline, index in that marker list) of the marker with this id."""
    if not isinstance(marker, str):
        raise EditError(f"a marker is given by its id (like 'mk3'), not {marker!r}")
    for k, m in enumerate(e.timeline.tracks.markers):
        if model.marker_id(m) == marker:
            return None, k
    for ti in e.index.tracks.values():
        for i, cid in enumerate(ti.ids):
            if cid is None:
                continue
            for k, m in enumerate(ti.items[i].markers):
                if model.marker_id(m) == marker:
                    return cid, k
    raise ClipNotFoundError(f"no marker with id {marker!r}")


def _replace(e: Edit, owner: str | None, k: int, change: Any) -> None:
    if owner is None:
        stack = e.timeline.tracks
        copies = [m.deepcopy() for m in stack.markers]
        change(copies[k])
        e.set_markers(stack, copies)
    else:
        ti, i = e.find(owner)
        change(e.own(ti, i).markers[k])


def _at(m: Any, start: Any, e: Edit) -> None:
    m.marked_range = model.source_range(start, model.frames_in(m.marked_range.duration), e.rate)


def _source_point(e: Edit, ti: Any, i: int, frame: int) -> Any:
    p = ti.placed(i)
    if not p.start <= frame < p.end:
        raise TimeRangeError(f"clip {ti.ids[i]!r} is on screen from {p.start} to {p.end} frames, not at frame {frame}")
    return model.source_at(p.item, frame - p.start)


def _check_in_timeline(e: Edit, frame: int) -> None:
    if frame < 0:
        raise TimeRangeError("a marker cannot sit before the start of the timeline")


def _frames(e: Edit, duration: Time) -> int:
    frames = e.frames(duration, "duration")
    if frames < 0:
        raise TimeRangeError(f"a marker's duration cannot be negative, not {duration!r}")
    return frames


def _color(color: Any) -> str:
    if not isinstance(color, str) or color.upper() not in model.MARKER_COLORS:
        raise EditError(f"color must be one of {', '.join(model.MARKER_COLORS)}, not {color!r}")
    return color.upper()


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise EditError(f"a marker's {what} is text, not {value!r}")
    return value
