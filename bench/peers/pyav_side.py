"""Raw PyAV contenders: the floor (decode the V1 frames, encode them, no compositing) and the floor plus the
crossfades and the PiP composited in numpy, the way nbedit composites them (RGB, float32 mix, bicubic resize).

Both write the same A1 sound (each cut's own, hard cuts) as AAC 192k, interleaved with the picture.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from .edit import Spec

RATE = 48000
AAC_FRAME = 1024


class Reader:
    """Frames of one source by index, decoded forward; seeks only when asked to jump back or far ahead."""

    def __init__(self, path: str, fps: int):
        self.container = av.open(path)
        self.stream = self.container.streams.video[0]
        self.stream.thread_type = "AUTO"
        self.fps = fps
        self.start = self.stream.start_time or 0
        self.frames = None
        self.last: tuple[int, av.VideoFrame] | None = None

    def index(self, frame: av.VideoFrame) -> int:
        return round((frame.pts - self.start) * self.stream.time_base * self.fps)

    def frame(self, i: int) -> av.VideoFrame:
        if self.last is not None and self.last[0] == i:
            return self.last[1]
        if self.last is None or i < self.last[0] or i > self.last[0] + 60:
            self.container.seek(self.start + int(Fraction(i, self.fps) / self.stream.time_base), stream=self.stream)
            self.frames = self.container.decode(self.stream)
        for frame in self.frames:
            k = self.index(frame)
            if k >= i:
                self.last = (k, frame)
                return frame
        raise EOFError(f"frame {i} is past the end of {self.container.name}")

    def close(self) -> None:
        self.container.close()


class Sound:
    """The A1 track: each segment's own sound, cut hard, encoded in AAC frames as the picture advances."""

    def __init__(self, spec: Spec, out: av.container.OutputContainer):
        self.spec = spec
        self.out = out
        self.stream = out.add_stream("aac", rate=RATE, layout="stereo")
        self.stream.bit_rate = 192_000
        self.pcm = self._pcm()
        self.buffer = np.zeros((2, 0), np.float32)
        self.done = 0

    def _pcm(self):
        for seg in self.spec.segments:
            first = round(Fraction(seg.src_in, self.spec.fps) * RATE)
            want = round(Fraction(seg.frames, self.spec.fps) * RATE)
            with av.open(self.spec.sources[seg.source]) as src:
                stream = src.streams.audio[0]
                src.seek(int(Fraction(first, RATE) / stream.time_base), stream=stream)
                for frame in src.decode(stream):
                    at = round(frame.pts * stream.time_base * RATE)
                    pcm = frame.to_ndarray()[:, max(0, first - at) :]
                    at = max(at, first)
                    if at >= first + want:
                        break
                    pcm = pcm[:, : first + want - at]
                    yield pcm
                    want -= pcm.shape[1]
                    first += pcm.shape[1]
                    if want <= 0:
                        break

    def until(self, frames: int, *, final: bool = False) -> None:
        upto = round(Fraction(frames, self.spec.fps) * RATE)
        while self.done + self.buffer.shape[1] < upto:
            chunk = next(self.pcm, None)
            if chunk is None:
                break
            self.buffer = np.concatenate([self.buffer, chunk], axis=1)
        while self.buffer.shape[1] >= AAC_FRAME or (final and self.buffer.shape[1]):
            pcm, self.buffer = self.buffer[:, :AAC_FRAME], self.buffer[:, AAC_FRAME:]
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm), format="fltp", layout="stereo")
            frame.sample_rate, frame.pts = RATE, self.done
            self.out.mux(self.stream.encode(frame))
            self.done += pcm.shape[1]
        if final:
            self.out.mux(self.stream.encode(None))


def video_stream(out: av.container.OutputContainer, spec: Spec):
    """The bench's picture stream in ``out``: libx264 crf 18 veryfast, no macroblock tree, GOP of two seconds."""
    v = out.add_stream("libx264", rate=spec.fps)
    v.width, v.height, v.pix_fmt = spec.width, spec.height, "yuv420p"
    v.options = {"crf": "18", "preset": "veryfast", "x264-params": "mbtree=0"}
    v.codec_context.gop_size = 2 * spec.fps
    return v


def _render(spec: Spec, path: Path, picture) -> int:
    readers: dict[tuple, Reader] = {}

    def frame(role: tuple, source: int, i: int) -> av.VideoFrame:
        if role not in readers:
            readers[role] = Reader(spec.sources[source], spec.fps)
        return readers[role].frame(i)

    try:
        with av.open(str(path), "w") as out:
            v = video_stream(out, spec)
            sound = Sound(spec, out)
            for n in range(spec.frames):
                img = picture(spec, n, frame)
                img.pts, img.time_base = n, Fraction(1, spec.fps)
                out.mux(v.encode(img))
                sound.until(n + 1)
            out.mux(v.encode(None))
            sound.until(spec.frames, final=True)
    finally:
        for r in readers.values():
            r.close()
    return spec.frames


def _v1(spec: Spec, k: int, n: int, frame) -> av.VideoFrame:
    seg = spec.segments[k]
    # alternate decoders along V1, so both sides of a crossfade decode forward
    return frame(("v1", seg.source, k % 2), seg.source, seg.src_in + n - seg.start)


def floor_picture(spec: Spec, n: int, frame) -> av.VideoFrame:
    return _v1(spec, spec.segment_at(n), n, frame).reformat(format="yuv420p")


def composited_picture(spec: Spec, n: int, frame) -> av.VideoFrame:
    fade = spec.fading(n)
    pip = spec.pip
    on_pip = pip is not None and pip.start <= n < pip.start + pip.frames
    if fade is None and not on_pip:
        return floor_picture(spec, n, frame)
    if fade is None:
        canvas = _v1(spec, spec.segment_at(n), n, frame).to_ndarray(format="rgb24")
    else:
        k, w = fade
        a = _v1(spec, k, n, frame).to_ndarray(format="rgb24").astype(np.float32)
        b = _v1(spec, k + 1, n, frame).to_ndarray(format="rgb24").astype(np.float32)
        canvas = np.rint(a + (b - a) * np.float32(w)).astype(np.uint8)
    if on_pip:
        src = frame(("pip",), pip.source, pip.src_in + n - pip.start)
        part = src.reformat(width=pip.width, height=pip.height, format="rgb24", interpolation="BICUBIC")
        below = canvas[pip.y : pip.y + pip.height, pip.x : pip.x + pip.width].astype(np.float32)
        mixed = below + (part.to_ndarray().astype(np.float32) - below) * np.float32(pip.opacity)
        canvas[pip.y : pip.y + pip.height, pip.x : pip.x + pip.width] = np.rint(mixed).astype(np.uint8)
    return av.VideoFrame.from_ndarray(canvas, format="rgb24").reformat(format="yuv420p")


def floor(spec: Spec, path: Path) -> int:
    """Decode the frames V1 shows and encode them, as a plain transcode would: no compositing at all."""
    return _render(spec, path, floor_picture)


def composited(spec: Spec, path: Path) -> int:
    """The floor, plus the crossfades and the PiP composited in numpy on the frames that need them."""
    return _render(spec, path, composited_picture)
