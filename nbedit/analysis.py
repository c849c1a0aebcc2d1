"""The edit as data for analysis: xarray views of what each frame is made of, and of the frames themselves.

    ds = s.to_xarray()                      # (frame, track): clip, media, source frame, opacity, seed, ...
    ds.clip_id.sel(track="V1").values       # which clip is on V1 at every frame
    px = s.frames(0.0, 2.0)                 # lazy (time, y, x, channel) uint8, rendered chunk by chunk (dask)
    px.astype("float32").mean(("y", "x", "channel")).compute()

Both read a snapshot of the timeline taken when they are called: later edits do not change them.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np
import opentimelineio as otio

from . import args
from .errors import EditError, TimeRangeError
from .model import edit_rate, media_entry, nb, source_in, time_scalar
from .timeline import Time, as_seconds, frame_at, layout, timeline_end

CHANNELS = ("R", "G", "B")


def _timecodes(frames: np.ndarray, rate: Fraction) -> np.ndarray:
    """HH:MM:SS:FF for each frame number (drop-frame for 29.97 and 59.94, as OTIO writes it)."""
    if rate.denominator == 1:  # plain arithmetic: OTIO one call per frame is slow on long timelines
        fps = rate.numerator
        ff, s = frames % fps, frames // fps
        return np.array(
            [
                f"{h:02d}:{m:02d}:{sec:02d}:{f:02d}"
                for h, m, sec, f in zip(s // 3600, s // 60 % 60, s % 60, ff, strict=True)
            ]
        )
    r = float(rate)
    try:
        return np.array([otio.opentime.to_timecode(otio.opentime.RationalTime(int(n), r), r) for n in frames])
    except Exception:  # a rate OTIO has no timecode for: frame numbers say the same
        return np.array([str(int(n)) for n in frames])


def _rate(tl: otio.schema.Timeline) -> Fraction:
    if not nb(tl).get("format") or not timeline_end(tl):
        raise EditError("the timeline is empty: there is nothing to analyse")
    return edit_rate(tl)


def to_xarray(tl: otio.schema.Timeline, fps: int | float | str | None = None) -> Any:
    """Per frame (at the edit rate, or sampled at ``fps``) and per track: what plays there.

    Variables (dims ``frame``, ``track``): ``clip_id`` and ``media_id`` ("" where nothing plays), ``source_time``
    (seconds into the media) and ``source_frame`` (that time in frames at the media's own rate; -1 where nothing
    plays or for audio), ``speed``, ``opacity`` (video), ``gain_db`` (audio), ``seed`` (a generated clip's seed,
    -1 if none), ``transition`` (a crossfade's name where one plays) and ``mix`` (the weight of the later clip
    there). Coordinates: ``time`` (seconds), ``timecode``, ``edit_frame``; ``kind`` per track.
    """
    import xarray as xr

    rate = _rate(tl)
    end = timeline_end(tl)
    sample = rate if fps is None else args.rate(fps)
    count = math.ceil(Fraction(end) / rate * sample - Fraction(1, 10**6))
    k = np.arange(count, dtype=np.int64)
    # the edit frame on screen at k / sample seconds, in exact integer arithmetic
    ratio = rate / sample
    edit_frames = (k * ratio.numerator) // ratio.denominator
    tracks = list(tl.tracks)
    shape = (count, len(tracks))
    data: dict[str, np.ndarray] = {
        "clip_id": np.full(shape, "", dtype=object),
        "media_id": np.full(shape, "", dtype=object),
        "source_time": np.full(shape, np.nan),
        "source_frame": np.full(shape, -1, dtype=np.int64),
        "speed": np.full(shape, np.nan),
        "opacity": np.full(shape, np.nan),
        "gain_db": np.full(shape, np.nan),
        "seed": np.full(shape, -1, dtype=np.int64),
        "transition": np.full(shape, "", dtype=object),
        "mix": np.full(shape, np.nan),
    }
    for j, track in enumerate(tracks):
        placed, cuts = layout(track)
        video = track.kind == otio.schema.TrackKind.Video
        for p in placed:
            if not isinstance(p.item, otio.schema.Clip):
                continue
            rows = np.nonzero((edit_frames >= p.start) & (edit_frames < p.end))[0]
            if not len(rows):
                continue
            _fill(data, tl, p, rows, edit_frames, j, rate, video)
        for c in cuts:
            rows = np.nonzero((edit_frames >= c.start) & (edit_frames < c.end))[0]
            data["transition"][rows, j] = c.transition.name or "crossfade"
            data["mix"][rows, j] = (edit_frames[rows] - c.start + 0.5) / (c.end - c.start)
    dims = ("frame", "track")
    for name in ("clip_id", "media_id", "transition"):
        data[name] = data[name].astype(str)
    ds = xr.Dataset(
        {name: (dims, v) for name, v in data.items()},
        coords={
            "frame": np.arange(count),
            "track": [t.name for t in tracks],
            "kind": ("track", [t.kind for t in tracks]),
            "time": ("frame", k / float(sample)),
            "timecode": ("frame", _timecodes(np.arange(count), sample)),
            "edit_frame": ("frame", edit_frames),
        },
        attrs={"name": tl.name, "fps": str(sample), "edit_rate": str(rate), **_size(tl)},
    )
    return ds


def _fill(data: dict, tl: Any, p: Any, rows: np.ndarray, edit_frames: np.ndarray, j: int, rate: Fraction, video: bool):
    clip = p.item
    meta = nb(clip)
    entry = media_entry(tl, meta["media"])
    offsets = edit_frames[rows] - p.start
    # source_at() in floats: exact fractions per frame are slow, and seconds as floats are what numpy holds
    src = (float(source_in(clip)) + offsets * float(time_scalar(clip))) / float(rate)
    data["clip_id"][rows, j] = meta["id"]
    data["media_id"][rows, j] = meta["media"]
    data["source_time"][rows, j] = src
    data["speed"][rows, j] = float(time_scalar(clip))
    fps = entry.get("fps")
    if video and entry.get("kind") == "image":
        data["source_frame"][rows, j] = 0
    elif video and fps:
        data["source_frame"][rows, j] = np.floor(src * float(Fraction(fps)) + 1e-6).astype(np.int64)
    if video:
        data["opacity"][rows, j] = float(meta.get("opacity", 1.0))
    else:
        data["gain_db"][rows, j] = float(meta.get("gain_db", 0.0))
    seed = (meta.get("generation") or {}).get("seed")
    if isinstance(seed, int) and not isinstance(seed, bool):
        data["seed"][rows, j] = seed


def _size(tl: otio.schema.Timeline) -> dict:
    fmt = nb(tl)["format"]
    return {"width": int(fmt["width"]), "height": int(fmt["height"])}


def frames(tl: otio.schema.Timeline, start: Time | None = None, end: Time | None = None, *, chunk: int = 16) -> Any:
    """The composited frames on screen from ``start`` until ``end`` seconds, lazily, as an xarray DataArray.

    Dims (time, y, x, channel), uint8; coordinates ``time`` (seconds), ``frame`` and ``timecode``. Each chunk of
    ``chunk`` frames renders with its own decoders over a snapshot of the timeline, so dask may compute chunks
    in parallel threads.
    """
    import dask
    import dask.array as da
    import xarray as xr

    rate = _rate(tl)
    length = timeline_end(tl)
    first = 0 if start is None else frame_at(start, rate, what="start")
    last = length if end is None else math.ceil(as_seconds(end, what="end") * rate - Fraction(1, 10**6))
    if not 0 <= first < last <= length:
        raise TimeRangeError(f"frames {start}..{end} is empty or outside the timeline (0 to {float(length / rate)} s)")
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise EditError(f"chunk must be a positive whole number of frames, not {chunk!r}")
    snapshot = tl.deepcopy()
    size = _size(snapshot)
    h, w = size["height"], size["width"]
    blocks = []
    for a in range(first, last, chunk):
        b = min(a + chunk, last)
        block = dask.delayed(_render_block, pure=True)(snapshot, a, b)
        blocks.append(da.from_delayed(block, shape=(b - a, h, w, 3), dtype=np.uint8))
    pixels = da.concatenate(blocks, axis=0)
    numbers = np.arange(first, last)
    return xr.DataArray(
        pixels,
        dims=("time", "y", "x", "channel"),
        coords={
            "time": numbers / float(rate),
            "frame": ("time", numbers),
            "timecode": ("time", _timecodes(numbers, rate)),
            "channel": list(CHANNELS),
        },
        name="frames",
        attrs={"fps": str(rate), "name": snapshot.name},
    )


def _render_block(tl: otio.schema.Timeline, a: int, b: int) -> np.ndarray:
    """Frames a..b-1, with decoders of its own (the session's are not shared between threads)."""
    from .render import Compositor, Sources

    sources = Sources()
    try:
        compositor = Compositor(tl, sources)
        return np.stack([compositor.frame(n) for n in range(a, b)])
    finally:
        sources.close()
