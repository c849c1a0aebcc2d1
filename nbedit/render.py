"""Frames and sound of a timeline: compositing, audio mixing, and the render pipeline to a file.

A frame is a pure function of (timeline, frame number, media): nothing here keeps state between frames except
open decoders and the content-keyed cache, which only make it faster.
"""

from __future__ import annotations

import bisect
import functools
import math
import os
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import opentimelineio as otio

from . import folder, identity, media, model
from .cache import FrameCache
from .errors import MediaError, RenderError
from .index import TimelineIndex, TrackIndex
from .model import blend_of, edit_rate, heard, media_entry, media_info, nb, source_at, source_in, time_scalar
from .planes import overlaps
from .timeline import Cut, Placed, audio_tracks, layout, timeline_end, video_tracks
from .tools import effects
from .tools.camera import reframe_crop
from .tools.keyframes import value_at

SAMPLE_RATE = 48000
CHANNELS = 2
# The Mixer reads sound by windows of this many samples (5.5 s, 2 MiB of stereo float32), each decoded and
# cached on its own: what a long timeline holds is the windows it plays, not whole files.
AUDIO_WINDOW = 2**18


# ---- sources ----------------------------------------------------------------------------------------------


# A reader that gave a frame within this many frame requests is showing something now: another view of its file
# gets a decoder of its own rather than seeking it away.
BUSY = 8


class Sources:
    """Open decoders for one thread, backed by a (shareable) content-keyed cache.

    ``pool`` decoders per file at most: when two clips on screen show the same file at different points (an
    inset of the clip below, a crossfade between two parts of one take), each reads forward in a decoder of its
    own instead of seeking the other's away every frame. A scrub gains nothing from more, so 1 is the default.
    """

    def __init__(
        self,
        cache: FrameCache | None = None,
        audio_cache: FrameCache | None = None,
        *,
        pool: int = 1,
        hwaccel: str | None = None,
    ):
        self.cache = cache if cache is not None else FrameCache()
        self.audio_cache = audio_cache if audio_cache is not None else FrameCache(1024 * 2**20, name="audio")
        self._readers: dict[str, media.VideoReader] = {}
        self._twins: dict[str, list[media.VideoReader]] = {}  # by the first reader's path: more decoders of it
        self._used: dict[int, int] = {}  # id of a reader -> when it last gave a frame
        self._tick = 0
        self.pool = max(1, int(pool))
        self.changed: set[str] = set()  # media files found replaced since import (shown offline)
        self.hwaccel = hwaccel  # FFmpeg's device type for decoding ("cuda": NVDEC), None: software decoders

    def reader(self, entry: dict) -> media.VideoReader | None:
        path = entry["path"]
        r = self._readers.get(path)
        if r is None:
            if not os.path.exists(path):
                return None  # offline: shown as a slate, never a crash
            if not identity.same(path, entry["sha256"]):
                self.changed.add(path)
                return None  # replaced since import: its pictures are not the ones the edit was made with
            r = media.VideoReader(path, info=media_info(entry), hwaccel=self.hwaccel)
            self._readers[path] = r
        return r

    def index(self, entry: dict, t: float) -> int | None:
        """The source frame shown at media time t (None when the media is offline)."""
        r = self.reader(entry)
        return None if r is None else r.index_at(t)

    @property
    def decoders(self) -> list[media.VideoReader]:
        """Every reader open now (a file's first, then the pool's others), for tests and profiling."""
        return [*self._readers.values(), *(t for twins in self._twins.values() for t in twins)]

    def decoder(self, entry: dict, i: int) -> media.VideoReader | None:
        """The reader of the media's file that reaches frame ``i`` soonest: one reading forward near it; else
        one no clip on screen is reading (the one left unused longest) seeks; else a new one while the pool has
        room (None when the media is offline)."""
        first = self.reader(entry)
        if first is None or self.pool == 1:
            return first
        readers = [first, *self._twins.get(first.path, ())]
        best = min(readers, key=lambda r: r.cost(i))
        if best.cost(i) >= best.seek_cost(i):  # every reader would seek: keep the places of those in use
            last = min(readers, key=lambda r: self._used.get(id(r), -1))
            if self._tick - self._used.get(id(last), -BUSY) < BUSY and len(readers) < self.pool:
                last = first.twin()
                self._twins.setdefault(first.path, []).append(last)
            best = last
        self._tick += 1
        self._used[id(best)] = self._tick
        return best

    def frame(self, entry: dict, i: int) -> np.ndarray | None:
        key = (entry["sha256"], i)
        img = self.cache.get(key)
        if img is None:
            r = self.decoder(entry, i)
            if r is None:
                return None
            img = self.cache.put(key, r.frame(i))
        return img

    def video_frame(self, entry: dict, i: int) -> av.VideoFrame | None:
        """Source frame ``i`` as decoded (its own pixel format, not cached): what a render composites in YUV."""
        r = self.decoder(entry, i)
        return None if r is None else r.video_frame(i)

    def audio_span(self, entry: dict, lo: int, hi: int) -> np.ndarray | None:
        """Samples ``lo`` to ``hi`` of a media's sound (silence outside the file), from cached windows of it."""
        if not os.path.exists(entry["path"]):
            return None
        out = np.zeros((CHANNELS, max(0, hi - lo)), np.float32)
        end = (float(entry.get("duration") or 0) + 1) * SAMPLE_RATE  # no window is decoded past the media
        for k in range(max(lo, 0) // AUDIO_WINDOW, max(hi - 1, 0) // AUDIO_WINDOW + 1):
            first = k * AUDIO_WINDOW
            if first >= end or first >= hi:
                break
            window = self._audio_window(entry, k)
            a, b = max(lo, first), min(hi, first + AUDIO_WINDOW)
            if b > a:
                out[:, a - lo : b - lo] = window[:, a - first : b - first]
        return out

    def _audio_window(self, entry: dict, k: int) -> np.ndarray:
        key = (entry["sha256"], "audio", SAMPLE_RATE, CHANNELS, AUDIO_WINDOW, k)
        pcm = self.audio_cache.get(key)
        if pcm is None:
            path, info = entry["path"], media_info(entry)
            start = k * AUDIO_WINDOW
            pcm = media.read_audio(
                path, rate=SAMPLE_RATE, channels=CHANNELS, info=info, start=start, count=AUDIO_WINDOW
            )
            pcm = self.audio_cache.put(key, pcm)
        return pcm

    def close(self) -> None:
        for r in self.decoders:
            r.close()
        self._readers.clear()
        self._twins.clear()
        self._used.clear()


@functools.lru_cache(maxsize=32)
def offline_slate(width: int, height: int, name: str = "") -> np.ndarray:
    """Diagonal red stripes with OFFLINE and the media's name: media that cannot be found is shown, not hidden."""
    import cv2

    y, x = np.mgrid[0:height, 0:width]
    stripes = ((x + y) // max(8, height // 12)) % 2 == 0
    img = np.empty((height, width, 3), np.uint8)
    img[:] = (40, 0, 0)
    img[stripes] = (200, 30, 30)
    lines = ["OFFLINE", name] if name else ["OFFLINE"]
    scale = max(0.3, height / 360)
    for k, text in enumerate(lines):
        (w, h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, max(1, round(2 * scale)))
        org = ((width - w) // 2, height // 2 + round((k - (len(lines) - 1) / 2) * h * 2.2) + h // 2)
        cv2.rectangle(img, (org[0] - 8, org[1] - h - 8), (org[0] + w + 8, org[1] + 8), (20, 0, 0), -1)
        cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), max(1, round(2 * scale)))
    img.flags.writeable = False  # cached and shared: a copy is made before anything draws on it
    return img


def to_png(img: np.ndarray) -> bytes:
    """PNG bytes of an (H, W, 3) uint8 RGB or (H, W, 4) RGBA picture, for notebooks and widgets."""
    fmt = "rgba" if img.shape[2] == 4 else "rgb24"
    codec = av.CodecContext.create("png", "w")
    codec.width, codec.height, codec.pix_fmt = img.shape[1], img.shape[0], fmt
    packets = codec.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format=fmt))
    packets += codec.encode(None)
    return b"".join(bytes(p) for p in packets)


# ---- geometry -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Geometry:
    crop: tuple[int, int, int, int]  # left, top, right, bottom edges of the source region used
    width: int  # size it is scaled to
    height: int
    x: int  # top-left corner on the canvas
    y: int

    def covers(self, w: int, h: int) -> bool:
        return self.x <= 0 and self.y <= 0 and self.x + self.width >= w and self.y + self.height >= h


def geometry(src_w: int, src_h: int, canvas_w: int, canvas_h: int, transform: dict) -> Geometry:
    """Fit the (cropped) source inside the canvas keeping its aspect, then scale and move it."""
    cl, ct, cr, cb = (int(v) for v in transform.get("crop", (0, 0, 0, 0)))
    box = (cl, ct, src_w - cr, src_h - cb)
    w, h = box[2] - box[0], box[3] - box[1]
    fit = min(canvas_w / w, canvas_h / h) * float(transform.get("scale", 1.0))
    rw, rh = max(1, round(w * fit)), max(1, round(h * fit))
    x = round((canvas_w - rw) / 2 + float(transform.get("x", 0)))
    y = round((canvas_h - rh) / 2 + float(transform.get("y", 0)))
    return Geometry(box, rw, rh, x, y)


def resize(img: np.ndarray, width: int, height: int) -> np.ndarray:
    if img.shape[1] == width and img.shape[0] == height:
        return img
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
    return frame.reformat(width=width, height=height, interpolation="BICUBIC").to_ndarray()


def paste(canvas: np.ndarray, img: np.ndarray, g: Geometry, opacity: float) -> np.ndarray:
    """Put ``img`` (already the right size) over ``canvas`` at g.x, g.y with the given opacity, in place."""
    H, W = canvas.shape[:2]
    x0, y0 = max(g.x, 0), max(g.y, 0)
    x1, y1 = min(g.x + g.width, W), min(g.y + g.height, H)
    if x1 <= x0 or y1 <= y0 or opacity <= 0:
        return canvas
    part = img[y0 - g.y : y1 - g.y, x0 - g.x : x1 - g.x]
    if opacity >= 1:
        canvas[y0:y1, x0:x1] = part
    else:
        below = canvas[y0:y1, x0:x1].astype(np.float32)
        mixed = below + (part.astype(np.float32) - below) * np.float32(opacity)
        canvas[y0:y1, x0:x1] = np.rint(mixed).astype(np.uint8)
    return canvas


def mix(a: np.ndarray, b: np.ndarray, w: float) -> np.ndarray:
    af = a.astype(np.float32)
    return np.rint(af + (b.astype(np.float32) - af) * np.float32(w)).astype(np.uint8)


# ---- compositing in YUV 4:2:0 (renders) ---------------------------------------------------------------
# A render's pictures come from the decoders in YUV 4:2:0 and go to the encoder in it; a dissolve or an inset's
# opacity is a weighted sum, which commutes with the (affine) colour conversion, so mixing the planes as they are
# gives the picture mixing RGB would, at half the bytes and without two conversions a frame.


def yuv_planes(frame: av.VideoFrame) -> list[np.ndarray]:
    """The Y, U and V planes of a yuv420p frame as (rows, columns) uint8 views of its own buffers (no copy)."""
    return [np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, : p.width] for p in frame.planes]


def paste_yuv(canvas: list[np.ndarray], part: list[np.ndarray], g: Geometry, opacity: float) -> None:
    """Put YUV 4:2:0 planes (already the right size) over a canvas's at g.x, g.y with the given opacity, in
    place; chroma goes at half the offsets (an odd offset shifts it by half a chroma pixel, as an overlay does)."""
    import cv2

    if opacity <= 0:
        return
    for dst, src, (inside, within) in overlaps(canvas, part, g.x, g.y):
        piece = src[within]
        if opacity >= 1:
            dst[inside] = piece
        else:
            region = dst[inside]
            cv2.addWeighted(piece, opacity, region, 1.0 - opacity, 0.0, dst=region)  # written in place


def mix_yuv(out: list[np.ndarray], a: list[np.ndarray], b: list[np.ndarray], w: float) -> None:
    """``out`` = a dissolved into b at weight w, plane by plane (rounded to nearest; out may be a or b)."""
    import cv2

    for dst, x, y in zip(out, a, b, strict=True):
        cv2.addWeighted(x, 1.0 - w, y, w, 0.0, dst=dst)  # into the output frame's own buffer: no second copy


class YuvBackend:
    """The arithmetic of compositing in YUV 4:2:0 on numpy planes (cv2, libswscale): what a render uses on the
    CPU. Another backend (nbedit.composite_torch) keeps the same methods over planes of its own kind:

    ``canvas`` (the output frame, if it has one, and its planes), ``source`` (a decoded frame's planes at a size),
    ``under`` (planes to lay a layer on: a copy of the canvas, or new ones when the layer hides it), ``paste``,
    ``mix`` and ``finish`` (the output frame).
    """

    name = "numpy"

    def canvas(self, width: int, height: int, *, black: bool) -> tuple[av.VideoFrame, list[np.ndarray]]:
        out = av.VideoFrame(width, height, "yuv420p")
        planes = yuv_planes(out)  # written in place: the frame's own buffers
        if black:
            planes[0][:] = 16  # black, as the RGB path's empty canvas converts
            planes[1][:] = planes[2][:] = 128
        return out, planes

    def source(self, frame: av.VideoFrame, width: int, height: int) -> list[np.ndarray]:
        if frame.format.name != "yuv420p" or (frame.width, frame.height) != (width, height):
            shrink = width < frame.width
            frame = frame.reformat(width, height, "yuv420p", interpolation="AREA" if shrink else "BICUBIC")
        return yuv_planes(frame)

    def under(self, canvas: list[np.ndarray], *, fresh: bool) -> list[np.ndarray]:
        return [np.empty_like(p) if fresh else p.copy() for p in canvas]

    def paste(self, canvas: list[np.ndarray], part: list[np.ndarray], g: Geometry, opacity: float) -> None:
        paste_yuv(canvas, part, g, opacity)

    def mix(self, out: list[np.ndarray], a: list[np.ndarray], b: list[np.ndarray], w: float) -> None:
        mix_yuv(out, a, b, w)

    def finish(self, out: av.VideoFrame, canvas: list[np.ndarray]) -> av.VideoFrame:
        return out


NUMPY = YuvBackend()


# ---- compositing --------------------------------------------------------------------------------------


class _Track:
    def __init__(self, track: otio.schema.Track, ti: TrackIndex | None = None):
        placed, cuts = layout(track) if ti is None else ti.layout()
        # a disabled clip shows nothing: the tracks below show through, as in other editors
        self.placed = [p for p in placed if isinstance(p.item, otio.schema.Clip) and p.item.enabled]
        self.starts = [p.start for p in self.placed]
        self.cuts = cuts
        self.key: tuple | None = None  # (track, index version) it was made from, when made from an index
        blend = blend_of(track)
        self.mode = str(blend.get("mode", "normal"))
        self._opacity = blend.get("opacity", 1.0)  # a number, or keys by timeline frame

    def opacity(self, n: int) -> float:
        return value_at(self._opacity, n)

    def at(self, n: int) -> tuple[Placed | None, Cut | None]:
        for c in self.cuts:
            if c.start <= n < c.end:
                return None, c
        i = bisect.bisect_right(self.starts, n) - 1
        if i >= 0 and n < self.placed[i].end:
            return self.placed[i], None
        return None, None


IDENTITY = (0.0, 0.0, 1.0, (0, 0, 0, 0))


def _sides(item: Layer | Mix) -> tuple[Layer, ...]:
    return (item.a, item.b) if isinstance(item, Mix) else (item,)


@dataclass(frozen=True)
class Layer:
    """One source frame placed on the canvas: what a clip contributes to a timeline frame."""

    entry: dict = field(compare=False, hash=False)
    sha256: str
    index: int | None  # source frame; None when the media is offline
    transform: tuple  # x, y, scale, crop (left, top, right, bottom): a reframed clip's crop at this frame
    opacity: float  # the clip's, its blend node's and its track's, multiplied
    covers: bool  # opaque and filling the canvas: nothing below shows
    effects: tuple = ()  # the clip's effect stack with every parameter's value at this frame (effects.Node)
    blend: str = "normal"  # how it is laid over what is below: the clip's blend node, else its track's mode
    masks: tuple = field(default=(), compare=False, hash=False)  # pool entry of each node's mask (or None)


@dataclass(frozen=True)
class Mix:
    """A crossfade: layer ``a`` dissolving into layer ``b`` at weight ``w``."""

    a: Layer
    b: Layer
    w: float

    @property
    def covers(self) -> bool:
        return self.a.covers and self.b.covers


class Compositor:
    """Frames of one timeline state: ``frame(n)`` is the picture at edit-rate frame ``n``.

    ``plan(n)`` says what frame n is made of (source frames, placements, weights), so ``key(n)`` can name a
    composited frame by its content: an edit changes the key of exactly the frames it changed.
    ``size`` renders a smaller canvas (a preview) with the same layout.
    """

    def __init__(
        self,
        timeline: otio.schema.Timeline,
        sources: Sources,
        size: tuple[int, int] | None = None,
        *,
        version: int | None = None,
        index: TimelineIndex | None = None,
        reuse: Compositor | None = None,
    ):
        """``index`` (the session's) gives each track's layout without walking it; ``reuse`` is an earlier
        Compositor of the same timeline whose tracks are kept where the index says they did not change."""
        self.timeline = timeline
        self.version = version  # the session's version it was made for (its items never change after)
        self.sources = sources
        fmt = nb(timeline).get("format") or {}
        self.format = (int(fmt.get("width", 0)), int(fmt.get("height", 0)))
        self.width, self.height = size or self.format
        self.rate = edit_rate(timeline) if fmt else Fraction(24)
        # the index knows where each track ends; walking 5,000 clips through the bindings costs ~100 ms
        self.length = (index.end() if index is not None else timeline_end(timeline)) if fmt else 0
        self.tracks = [self._track(t, index, reuse) for t in video_tracks(timeline) if t.enabled]

    @staticmethod
    def _track(track: otio.schema.Track, index: TimelineIndex | None, reuse: Compositor | None) -> _Track:
        ti = None if index is None else index.track(track.name)
        if ti is None or ti.track is not track:
            return _Track(track)
        key = (id(track), ti.version)
        for old in reuse.tracks if reuse is not None else ():
            if old.key == key:
                return old
        made = _Track(track, ti)
        made.key = key
        return made

    def _layer(self, p: Placed, n: int, track: _Track) -> Layer:
        """What clip ``p`` shows at timeline frame n (n may lie in a crossfade's handle)."""
        data = nb(p.item)
        entry = media_entry(self.timeline, data["media"])
        pos = source_at(p.item, n - p.start)  # keyframes of clip parameters are set at source positions
        index = self.sources.index(entry, float(pos / self.rate))
        tf = data.get("transform")
        transform = IDENTITY if tf is None else (float(tf["x"]), float(tf["y"]), float(tf["scale"]), tuple(tf["crop"]))
        if "reframe" in data:
            size = (int(entry.get("width") or self.format[0]), int(entry.get("height") or self.format[1]))
            transform = (*transform[:3], reframe_crop(data["reframe"], pos, *size))
        nodes, masks = self._effects(data.get("effects", ()), pos)
        mode, node_opacity = effects.blend_of(nodes)
        mode = mode or track.mode
        opacity = float(data.get("opacity", 1.0)) * node_opacity * track.opacity(n)
        opaque = opacity >= 1 and mode == "normal" and not any(nd.kind in effects.ALPHA_KINDS for nd in nodes)
        g = self._geometry(entry, transform)
        covers = opaque and g.covers(*self.canvas)
        return Layer(entry, entry["sha256"], index, transform, opacity, covers, nodes, mode, masks)

    def _effects(self, stack, pos: Fraction) -> tuple[tuple, tuple]:
        """A clip's effect nodes at source position ``pos``, and the pool entry of each one's mask."""
        nodes, masks = [], []
        for stored in stack:
            kind, params = effects.resolve(stored, pos)
            mask = entry = None
            if stored.get("mask"):
                entry = media_entry(self.timeline, stored["mask"])
                i = self._mask_index(entry, pos)
                mask = (entry["sha256"], i, bool(stored.get("invert", False)), float(stored.get("feather", 0.0)))
            nodes.append(effects.Node(kind, params, mask))
            masks.append(entry)
        return tuple(nodes), tuple(masks)

    def _mask_index(self, entry: dict, pos: Fraction) -> int | None:
        """The frame of mask media for source position ``pos`` of the clip it masks (None: offline).

        A mask made by ``s.mask`` holds one frame per source frame from its "start" (media seconds) on; any
        other video used as a mask is read from its beginning.
        """
        start = float(entry.get("generation", {}).get("start", 0.0))
        return self.sources.index(entry, max(0.0, float(pos / self.rate) - start))

    @property
    def canvas(self) -> tuple[int, int]:
        return self.width, self.height

    def _geometry(self, entry: dict, transform: tuple) -> Geometry:
        x, y, scale, crop = transform
        k = self.width / self.format[0] if self.format[0] else 1.0  # moves are in output pixels
        w, h = int(entry.get("width") or self.format[0]), int(entry.get("height") or self.format[1])
        return geometry(w, h, self.width, self.height, {"x": x * k, "y": y * k, "scale": scale, "crop": crop})

    def plan(self, n: int) -> list[Layer | Mix]:
        """The layers of frame n, bottom to top, leaving out what an opaque full-frame layer hides."""
        layers: list[Layer | Mix] = []
        for track in self.tracks:
            p, cut = track.at(n)
            if p is not None:
                layers.append(self._layer(p, n, track))
            elif cut is not None:
                w = (n - cut.start + 0.5) / (cut.end - cut.start)
                layers.append(Mix(self._layer(cut.before, n, track), self._layer(cut.after, n, track), w))
            else:
                continue
            if layers[-1].covers:
                layers = layers[-1:]
        return layers

    def key(self, n: int) -> tuple:
        """A name for frame n's content (hashable): equal keys, equal pictures."""
        return (self.canvas, *self.plan(n))

    def untouched(self, n: int, plan: list[Layer | Mix] | None = None) -> tuple[dict, int] | None:
        """(media entry, source frame) when frame ``n`` is one source frame shown exactly as it is.

        Such frames can go to the encoder as decoded, skipping the trip through RGB. ``plan``: frame n's, when
        the caller has it already.
        """
        plan = self.plan(n) if plan is None else plan
        if len(plan) != 1 or not isinstance(plan[0], Layer):
            return None
        layer = plan[0]
        entry = layer.entry
        size = (int(entry.get("width") or 0), int(entry.get("height") or 0))
        plain = layer.transform == IDENTITY and layer.opacity >= 1 and not entry.get("rotation")
        plain = plain and not layer.effects and layer.blend == "normal"
        if plain and layer.index is not None and entry["kind"] == "video" and size == self.canvas:
            return entry, layer.index
        return None

    def yuv_frame(
        self, n: int, plan: list[Layer | Mix] | None = None, backend: YuvBackend | None = None
    ) -> av.VideoFrame | None:
        """Frame n composited in YUV 4:2:0 from the decoded planes, for a render at the canvas size; None when
        something on it needs RGB (an effect, a blend mode, a crop, a rotation, offline media): then
        :meth:`frame` makes it. Dissolves and opacity mix the planes; an inset is scaled by libswscale.

        ``backend`` does the arithmetic (:class:`YuvBackend`, numpy and libswscale by default; the torch one,
        nbedit.composite_torch, on a GPU): this plan decides what goes where either way."""
        be = NUMPY if backend is None else backend
        plan = self.plan(n) if plan is None else plan
        if not all(self._yuv_ready(ly) for item in plan for ly in _sides(item)):
            return None
        out, canvas = be.canvas(self.width, self.height, black=not (plan and plan[0].covers))
        for item in plan:
            if isinstance(item, Mix):
                a, b = self._yuv_side(item.a, canvas, be), self._yuv_side(item.b, canvas, be)
                if a is None or b is None:
                    return None
                be.mix(canvas, a, b, item.w)
            elif self._yuv_side(item, canvas, be, into=True) is None:
                return None
        return be.finish(out, canvas)

    def _yuv_ready(self, layer: Layer) -> bool:
        e = layer.entry
        plain = not layer.effects and layer.blend == "normal" and not e.get("rotation")
        return plain and layer.index is not None and tuple(layer.transform[3]) == (0, 0, 0, 0)

    def _yuv_side(self, layer: Layer, canvas: list, be: YuvBackend, *, into: bool = False) -> list | None:
        """Planes of ``layer`` laid over ``canvas`` (in it when ``into``; else the source's own planes when the
        layer alone fills the canvas, or a copy of the canvas it is laid on)."""
        frame = self.sources.video_frame(layer.entry, layer.index)
        if frame is None:
            return None
        g = self._geometry(layer.entry, layer.transform)
        part = be.source(frame, g.width, g.height)
        whole = layer.covers and (g.x, g.y, g.width, g.height) == (0, 0, self.width, self.height)
        if whole and not into:
            return part  # read as decoded: nothing below shows
        under = canvas if into else be.under(canvas, fresh=layer.covers)
        be.paste(under, part, g, layer.opacity)
        return under

    def frame(self, n: int) -> np.ndarray:
        canvas = np.zeros((self.height, self.width, 3), np.uint8)
        for layer in self.plan(n):
            if isinstance(layer, Mix):
                canvas = mix(self._draw(layer.a, canvas.copy()), self._draw(layer.b, canvas.copy()), layer.w)
            else:
                canvas = self._draw(layer, canvas)
        return canvas

    def _draw(self, layer: Layer, canvas: np.ndarray) -> np.ndarray:
        entry = layer.entry
        img = None if layer.index is None else self.sources.frame(entry, layer.index)
        if img is None:
            size = int(entry.get("width") or self.format[0]), int(entry.get("height") or self.format[1])
            img = offline_slate(*size, f"{entry.get('name', '')} ({Path(entry['path']).name})")
        g = self._geometry(entry, layer.transform)
        # the picture may be a smaller proxy of the media: crop in its own pixels
        sx = img.shape[1] / int(entry.get("width") or img.shape[1])
        sy = img.shape[0] / int(entry.get("height") or img.shape[0])
        left, top, right, bottom = g.crop
        box = (slice(round(top * sy), round(bottom * sy)), slice(round(left * sx), round(right * sx)))
        if not layer.effects and layer.blend == "normal":
            return paste(canvas, resize(img[box], g.width, g.height), g, layer.opacity)
        # the stack paints the whole source picture (masks are aligned with it), then it is cut and placed
        masks = [self._mask_picture(e, node, img.shape) for e, node in zip(layer.masks, layer.effects, strict=True)]
        rgb, alpha = effects.apply(img, layer.effects, masks, px=sx)
        part = resize(np.rint(rgb[box]).astype(np.uint8), g.width, g.height)
        a = alpha[box]
        if a.shape != (g.height, g.width):
            import cv2

            a = cv2.resize(a, (g.width, g.height), interpolation=cv2.INTER_LINEAR)
        return effects.blend_onto(canvas, part.astype(np.float32), a, g.x, g.y, layer.blend, layer.opacity)

    def overlay(self, n: int) -> np.ndarray | None:
        """Where the masks made from the clips on screen at frame n lie on the canvas, (H, W) float32 0-1 (None:
        no such masks). For the preview's mask overlay; never part of a frame."""
        out = None
        for track in self.tracks:
            p, cut = track.at(n)
            for q in [p] if p is not None else [cut.before, cut.after] if cut is not None else []:
                for mid in nb(q.item).get("masks", ()):
                    if out is None:
                        out = np.zeros((self.height, self.width), np.float32)
                    self._overlay_mask(out, q, n, track, media_entry(self.timeline, mid))
        return out

    def _overlay_mask(self, out: np.ndarray, p: Placed, n: int, track: _Track, entry: dict) -> None:
        """Add one mask to the overlay where its clip's picture lies (cut and placed the same way)."""
        import cv2

        pos = source_at(p.item, n - p.start)
        i = self._mask_index(entry, pos)
        pic = None if i is None else self.sources.frame(entry, i)
        if pic is None:
            return
        layer = self._layer(p, n, track)
        g = self._geometry(layer.entry, layer.transform)
        sx = pic.shape[1] / int(layer.entry.get("width") or pic.shape[1])
        sy = pic.shape[0] / int(layer.entry.get("height") or pic.shape[0])
        left, top, right, bottom = g.crop
        part = pic[round(top * sy) : round(bottom * sy), round(left * sx) : round(right * sx), 0]
        part = cv2.resize(part.astype(np.float32) / 255, (g.width, g.height), interpolation=cv2.INTER_LINEAR)
        x0, y0 = max(g.x, 0), max(g.y, 0)
        x1, y1 = min(g.x + g.width, self.width), min(g.y + g.height, self.height)
        if x1 > x0 and y1 > y0:
            region = part[y0 - g.y : y1 - g.y, x0 - g.x : x1 - g.x]
            out[y0:y1, x0:x1] = np.maximum(out[y0:y1, x0:x1], region)

    def _mask_picture(self, entry: dict | None, node: effects.Node, shape: tuple) -> np.ndarray | None:
        """A node's mask as float32 0-1 at the picture's size (None: no mask, or its media is offline)."""
        if entry is None or node.mask is None or node.mask[1] is None:
            return None
        pic = self.sources.frame(entry, node.mask[1])
        if pic is None:
            return None
        m = pic[..., 0].astype(np.float32) / 255
        if m.shape != shape[:2]:
            import cv2

            m = cv2.resize(m, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
        return m


# ---- audio --------------------------------------------------------------------------------------------


class Mixer:
    """Sound of one timeline state at 48 kHz stereo: ``samples(start, count)`` mixes every audio track."""

    def __init__(self, timeline: otio.schema.Timeline, sources: Sources):
        self.timeline = timeline
        self.sources = sources
        self.rate = edit_rate(timeline) if nb(timeline).get("format") else Fraction(24)
        self.parts = []  # (first sample, last sample, clip start sample, fade in span, fade out span, placed)
        for track in heard(audio_tracks(timeline)):
            placed, cuts = layout(track)
            for p in placed:
                if not isinstance(p.item, otio.schema.Clip) or not p.item.enabled:
                    continue
                fade_in = next(((c.start, c.end) for c in cuts if c.after.index == p.index), None)
                fade_out = next(((c.start, c.end) for c in cuts if c.before.index == p.index), None)
                first = fade_in[0] if fade_in else p.start
                last = fade_out[1] if fade_out else p.end
                self.parts.append((self._s(first), self._s(last), fade_in, fade_out, p))

    def _s(self, frame: int) -> int:
        return round(Fraction(frame) * SAMPLE_RATE / self.rate)

    def samples(self, start: int, count: int) -> np.ndarray:
        out = np.zeros((CHANNELS, count), np.float32)
        for first, last, fade_in, fade_out, p in self.parts:
            lo, hi = max(first, start), min(last, start + count)
            if hi <= lo:
                continue
            clip = p.item
            data = nb(clip)
            j = np.arange(lo, hi, dtype=np.int64)
            scalar = time_scalar(clip)
            src0 = source_in(clip) / self.rate * SAMPLE_RATE
            if scalar == 1:  # whole samples: a sub-sample shift is inaudible, and copying is exact and fast
                pos = (j - self._s(p.start) + round(src0)).astype(np.float64)
            else:
                pos = float(src0) + (j - self._s(p.start)).astype(np.float64) * float(scalar)
            first_sample = math.floor(pos.min())  # the span of the source these samples read, and no more
            pcm = self.sources.audio_span(
                media_entry(self.timeline, data["media"]), first_sample, math.ceil(pos.max()) + 2
            )
            if pcm is None:
                continue
            chunk = _read(pcm, pos - first_sample)
            gain = np.float32(10 ** (float(data.get("gain_db", 0.0)) / 20))
            env = np.ones(hi - lo, np.float32) * gain
            for span, rising in ((fade_in, True), (fade_out, False)):
                if span:
                    a, b = self._s(span[0]), self._s(span[1])
                    ramp = np.clip((j - a + 0.5) / (b - a), 0, 1).astype(np.float32)
                    env *= ramp if rising else 1 - ramp
            out[:, lo - start : hi - start] += chunk * env
        return np.clip(out, -1, 1)


def _read(pcm: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Samples of ``pcm`` at fractional positions (linear), silence outside it."""
    n = pcm.shape[1]
    whole = np.all(pos == np.floor(pos))
    if whole:
        idx = pos.astype(np.int64)
        ok = (idx >= 0) & (idx < n)
        out = np.zeros((pcm.shape[0], len(pos)), np.float32)
        out[:, ok] = pcm[:, idx[ok]]
        return out
    # interpolate over the stretch of samples these positions span only, not the whole file
    lo = max(0, math.floor(pos.min()))
    hi = min(n, math.ceil(pos.max()) + 2)
    if hi <= lo:
        return np.zeros((pcm.shape[0], len(pos)), np.float32)
    grid = np.arange(lo, hi, dtype=np.float64)
    return np.stack([np.interp(pos, grid, ch[lo:hi], left=0, right=0).astype(np.float32) for ch in pcm])


# ---- rendering to a file ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderSettings:
    width: int
    height: int
    fps: Fraction
    start: int  # edit-rate frames
    end: int
    crf: int = 18
    preset: str = "medium"
    codec: str = "libx264"
    audio: bool = True
    audio_bitrate: int = 192_000
    # output frames [a, b) of the range only, as a file of their own (a segment of a distributed render,
    # nbedit.distributed): its first frame is an IDR, as every encode's is
    frames: tuple[int, int] | None = None
    # encoder threads (None: x264's choice from the machine's cores); x264's bytes depend on the count
    threads: int | None = None
    # "auto": NVENC and compositing in torch on CUDA where this machine has them, else the CPU exactly as "cpu";
    # "cuda" insists on both (a RenderError, before any file is made, where they are absent). See engines().
    hardware: str = "auto"
    # "cuda" decodes sources with NVDEC (FFmpeg's hwaccel; frames come back to memory): off unless asked, as a
    # render's decoding was not measured to gain from it. bench/gpu_render.py measures it.
    decode: str = "cpu"


# Repeats of one source frame (a freeze, slow motion) come from the reader's last frame; these few cover the
# layers and crossfades of the frames being made.
RENDER_CACHE_FRAMES = 4
# and windows of sound: two for each of a few clips sounding at once (each window is mixed from then left behind)
RENDER_AUDIO_WINDOWS = 8
# Decoders per file: a crossfade between two parts of one file and an inset of the clip below each read forward.
RENDER_DECODERS = 3
# AAC frames the sound thread may encode ahead of the muxer (1.4 s): bounded, so memory stays flat.
RENDER_AUDIO_AHEAD = 64


HARDWARE = ("auto", "cpu", "cuda")
NVENC_OF = {"libx264": "h264_nvenc", "libx265": "hevc_nvenc"}  # the hardware encoder of each CPU one
NVENC_PRESET = "p5"


@dataclass(frozen=True)
class Engines:
    """What a render runs on: its encoder and options, the YUV compositing backend, the decoders' hwaccel."""

    codec: str
    options: dict[str, str]
    backend: YuvBackend
    hwaccel: str | None = None  # FFmpeg device type for the decoders ("cuda"), None: software decoding

    @property
    def hardware(self) -> bool:
        return self.codec in NVENC_OF.values() or self.backend is not NUMPY or self.hwaccel is not None


def engines(settings: RenderSettings) -> Engines:
    """The encoder, compositing backend and decoding a render with ``settings`` uses here (RenderError when
    ``hardware`` or ``decode`` asks for what this machine lacks, see ``nbedit.hardware()``).

    On the CPU (``hardware="cpu"``, or "auto" without NVENC): ``settings.codec`` with crf and preset, as always,
    so the bytes are those of any earlier render. With NVENC (h264_nvenc for libx264, hevc_nvenc for libx265):
    constant quality (``rc=vbr``, ``cq`` = crf, 1 at least as cq 0 means "encoder's choice", no bitrate cap),
    preset p5, no B-frames (``bf=0``: every frame is shown in the order it is coded, as with x264's
    ``mbtree=0`` settings the timing is that of the frames alone), the same GOP as x264's. NVENC's bytes depend
    on the GPU and driver, not only the frames: a recipe's check compares decoded pictures, and a render made
    on another machine is the same edit within the encoder's loss, not the same file.

    A segment of a distributed render (``settings.frames``) encodes on the CPU under "auto": the segments of
    one file, made on different workers, must share their parameter sets to be joined.
    """
    from . import machine

    if settings.hardware not in HARDWARE:
        raise RenderError(f"hardware must be one of {', '.join(HARDWARE)}, not {settings.hardware!r}")
    if settings.decode not in ("cpu", "cuda"):
        raise RenderError(f"decode must be 'cpu' or 'cuda', not {settings.decode!r}")
    hwaccel = None
    if settings.decode == "cuda":
        if not (found := machine.nvdec()).present:
            raise RenderError(f"decode='cuda' needs NVDEC, which is {found}; use decode='cpu'")
        hwaccel = "cuda"
    codec, options, backend = settings.codec, cpu_options(settings), NUMPY
    if settings.hardware == "cpu" or (settings.hardware == "auto" and settings.frames is not None):
        return Engines(codec, options, backend, hwaccel)
    nvenc = NVENC_OF.get(settings.codec)
    found = machine.nvenc(nvenc) if nvenc else machine.Found(f"NVENC for {settings.codec}", False, "there is none")
    torch_found = machine.cuda_torch()
    if settings.hardware == "cuda":
        for f in (found, torch_found):
            if not f.present:
                raise RenderError(f"hardware='cuda' needs {f.name}, which is {f}; render with hardware='cpu'")
    if found.present:
        codec, options = nvenc, nvenc_options(settings)
    if torch_found.present:
        from .composite_torch import TorchBackend

        backend = TorchBackend("cuda")
    return Engines(codec, options, backend, hwaccel)


def cpu_options(settings: RenderSettings) -> dict[str, str]:
    options = {"crf": str(settings.crf), "preset": settings.preset}
    if settings.codec == "libx264":
        # x264's macroblock-tree rate control gave different bytes under CPU load here (seen in a one-thread
        # encode); without it the output is a pure function of the frames
        options["x264-params"] = "mbtree=0"
    if settings.threads:
        options["threads"] = str(settings.threads)
    return options


def nvenc_options(settings: RenderSettings) -> dict[str, str]:
    return {"preset": NVENC_PRESET, "tune": "hq", "rc": "vbr", "cq": str(max(1, settings.crf)), "bf": "0"}


def output_frames(s: RenderSettings, rate: Fraction) -> Iterator[int]:
    """Edit-rate frame shown at each output frame (output rate may differ from the edit rate)."""
    first = Fraction(s.start) / rate
    count = int((Fraction(s.end - s.start) / rate) * s.fps)
    for k in range(count):
        yield min(s.end - 1, int((first + Fraction(k) / s.fps) * rate))


def render(
    timeline: otio.schema.Timeline,
    path: str | os.PathLike,
    settings: RenderSettings,
    *,
    cache: FrameCache | None = None,
    progress: bool | Callable[[int, int], None] = True,
    tags: dict[str, str] | None = None,
) -> Path:
    """Composite, mix and encode to ``path`` (written to a temporary file, renamed only on success).

    ``tags``: the container's metadata (the recipe, see provenance.render_tags).

    ``progress``: a bar in the notebook (True), none (False), or a function called with (frames done, frames in
    all) after each frame is encoded.
    Frames shown as they are go to the encoder as decoded; dissolves, opacity and insets are composited in the
    decoders' YUV 4:2:0 (:meth:`Compositor.yuv_frame`); only what needs RGB (effects, blend modes, crops,
    rotation) goes through it, and those decoded frames go to ``cache``, by default one of its own holding a few
    output frames: a render reads each source frame once, in order, so a larger cache would only grow with the
    timeline and hold nothing reused. Each file gets a few decoders (an inset of the clip below reads forward in
    its own), and the sound is mixed and encoded on a thread of its own, muxed in a fixed order.
    """

    from tqdm.auto import tqdm

    run = engines(settings)  # what this machine lacks is said before any file is made
    path = check_target(timeline, path)
    tmp = partial_file(path)
    rate = edit_rate(timeline)
    numbers = list(output_frames(settings, rate))
    if settings.frames is not None:
        numbers = numbers[settings.frames[0] : settings.frames[1]]
    if not numbers:
        tmp.unlink()
        raise RenderError("nothing to render: the range is empty")
    if cache is None:
        cache = FrameCache(RENDER_CACHE_FRAMES * settings.width * settings.height * 3, name="render frames")
    frames: queue.Queue = queue.Queue(maxsize=4)
    stop = threading.Event()

    def produce() -> None:
        # decode + composite + colour conversion here; the encoder works on the previous frames meanwhile
        sources = Sources(cache, pool=RENDER_DECODERS, hwaccel=run.hwaccel)
        try:
            comp = Compositor(timeline, sources)
            same_size = (comp.width, comp.height) == (settings.width, settings.height)
            for n in numbers:
                if stop.is_set():
                    return
                frame = None
                if same_size:
                    plan = comp.plan(n)
                    plain = comp.untouched(n, plan)
                    if plain is not None:
                        frame = sources.video_frame(*plain).reformat(format="yuv420p")
                    else:
                        frame = comp.yuv_frame(n, plan, run.backend)
                if frame is None:
                    img = resize(comp.frame(n), settings.width, settings.height)
                    frame = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuv420p")
                frames.put(frame)
            frames.put(None)
        except BaseException as e:  # handed to the encoding thread, which raises it
            frames.put(e)
        finally:
            sources.close()

    worker = threading.Thread(target=produce, name="nbedit-render", daemon=True)
    worker.start()
    sound: queue.Queue = queue.Queue(maxsize=RENDER_AUDIO_AHEAD)
    sounder = None
    report = progress if callable(progress) else None  # (frames done, frames in all), after each frame
    bar = tqdm(total=len(numbers), unit="frame", desc=f"render {path.name}", disable=not progress or report is not None)
    try:
        with av.open(str(tmp), "w") as out:
            out.metadata.update(tags or {})
            try:
                v = out.add_stream(run.codec, rate=settings.fps)
                v.width, v.height, v.pix_fmt = settings.width, settings.height, "yuv420p"
                v.options = run.options
                v.codec_context.gop_size = max(1, round(float(settings.fps) * 2))
                a = None
                sample0 = round(Fraction(settings.start) / rate * SAMPLE_RATE)
                total = round(Fraction(len(numbers)) / settings.fps * SAMPLE_RATE)
                if settings.audio and audio_tracks(timeline):
                    a = out.add_stream("aac", rate=SAMPLE_RATE, layout="stereo")
                    a.bit_rate = settings.audio_bitrate
                    # the windows of the clips sounding now; a render plays each once, in order
                    windows = FrameCache(RENDER_AUDIO_WINDOWS * AUDIO_WINDOW * CHANNELS * 4, name="render audio")
                    mixer = Mixer(timeline, Sources(cache, windows))
                    # mixed and AAC-encoded on a thread of its own, a little ahead; muxed here, in a fixed order
                    sounder = threading.Thread(
                        target=_sound, args=(a, mixer, sample0, total, sound, stop), name="nbedit-sound", daemon=True
                    )
                    sounder.start()
                done = 0
                for k in range(len(numbers)):
                    item = frames.get()
                    if isinstance(item, BaseException):
                        raise item
                    item.pts, item.time_base = k, 1 / settings.fps
                    out.mux(v.encode(item))
                    bar.update(1)
                    if report is not None:
                        report(k + 1, len(numbers))
                    if a is not None:  # the sound up to this frame's end, so the file's bytes never depend on timing
                        done = _mux_sound(
                            out, sound, done, min(total, round(Fraction(k + 1) / settings.fps * SAMPLE_RATE))
                        )
                out.mux(v.encode(None))
                if a is not None:
                    _mux_sound(out, sound, done, total + 1)  # the encoder's flush comes last
            except BaseException:
                stop.set()  # the sound thread ends before the file it encodes for closes
                if sounder is not None:
                    _drain(sound, sounder)
                raise
    except (av.FFmpegError, OSError, ValueError, MediaError) as e:
        stop.set()
        tmp.unlink(missing_ok=True)
        raise RenderError(f"rendering {path.name} failed: {folder.why(e) if isinstance(e, OSError) else e}") from e
    except BaseException:
        stop.set()
        tmp.unlink(missing_ok=True)
        raise
    finally:
        bar.close()
        _drain(frames, worker)
        if sounder is not None:
            _drain(sound, sounder)
    return publish(tmp, path)


def check_target(timeline: otio.schema.Timeline, path: str | os.PathLike) -> Path:
    """The absolute path a render may write, or a RenderError saying why not (no folder, a folder, a source)."""
    path = Path(path).absolute()
    if not path.parent.is_dir():
        raise RenderError(f"cannot render to {path}: folder {path.parent} does not exist")
    if path.is_dir():
        raise RenderError(f"cannot render to {path}: it is a folder")
    refuse_sources(timeline, path)
    return path


def partial_file(path: Path) -> Path:
    """A new empty temporary file beside ``path`` that a render writes before :func:`publish` renames it; the
    partial files of renders here that were killed go first."""
    import tempfile

    folder.clean_stale(path.parent, depth=0)
    fd, name = tempfile.mkstemp(prefix=folder.temp_prefix(path), suffix=f".partial{path.suffix}", dir=path.parent)
    os.close(fd)
    return Path(name)


def publish(tmp: Path, path: Path) -> Path:
    """Put a finished render in place, with the permissions any file of the user's gets (mkstemp makes 0600)."""
    os.chmod(tmp, 0o666 & ~folder.umask())
    os.replace(tmp, path)
    return path


def refuse_sources(timeline: otio.schema.Timeline, path: Path) -> None:
    """Refuse to write over any media the timeline reads (through symlinks too): a render never eats its source."""
    if why := model.overwrites_source(timeline, path):
        raise RenderError(f"cannot render to {path}: {why}; choose another name")


AAC_FRAME = 1024
MIX_FRAMES = 16  # AAC frames of sound mixed in one call (a third of a second)


def _sound(stream, mixer: Mixer, sample0: int, total: int, sound: queue.Queue, stop: threading.Event) -> None:
    """Mix and encode the render's sound in AAC frames: (samples done, packets) on ``sound``, then the flush
    as (total + 1, packets); an error goes on it instead, for the muxing thread to raise."""
    try:
        done = 0
        block, first = np.zeros((CHANNELS, 0), np.float32), 0  # mixed a few AAC frames at a time: each sample is
        while done < total:  # a pure function of its number, so blocks change nothing
            if stop.is_set():
                return
            n = min(AAC_FRAME, total - done)
            if done + n > first + block.shape[1]:
                first, block = done, mixer.samples(sample0 + done, min(AAC_FRAME * MIX_FRAMES, total - done))
            pcm = block[:, done - first : done - first + n]
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm), format="fltp", layout="stereo")
            frame.sample_rate = SAMPLE_RATE
            frame.pts = done
            done += n
            sound.put((done, stream.encode(frame)))
        sound.put((total + 1, stream.encode(None)))
    except BaseException as e:
        sound.put(e)


def _mux_sound(out, sound: queue.Queue, done: int, upto: int) -> int:
    """Mux the encoded sound until sample ``upto`` is in (waiting for the sound thread where it is behind)."""
    while done < upto:
        item = sound.get()
        if isinstance(item, BaseException):
            raise item
        done, packets = item
        out.mux(packets)
    return done


def _drain(frames: queue.Queue, worker: threading.Thread) -> None:
    while worker.is_alive():
        try:
            frames.get(timeout=0.05)
        except queue.Empty:
            pass
