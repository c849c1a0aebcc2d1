"""The preview's frames: composited at preview size, JPEG-encoded, cached by content, prefetched around the playhead.

The kernel answers a playhead change with the bytes of one JPEG. A cached frame costs a dictionary lookup; an
uncached one is decoded (from a scrub proxy once one exists), composited and encoded. A background thread fills
the cache around the playhead. Cache keys name a frame by its content (``Compositor.key``), so an edit makes new
keys exactly for the frames it changed and everything else stays cached.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from . import media
from .cache import FrameCache
from .model import media_info, pool
from .proxy import Proxies
from .render import Compositor, Sources

PREVIEW_WIDTH = 960


def preview_size(width: int, height: int, max_width: int = PREVIEW_WIDTH) -> tuple[int, int]:
    if width <= max_width:
        return width, height
    return max_width, max(2, round(height * max_width / width / 2) * 2)


class JpegEncoder:
    """One reusable MJPEG encoder per picture size (creating one per frame costs more than encoding)."""

    def __init__(self, quality: int = 4):
        self.quality = quality
        self._codecs: dict[tuple[int, int], av.CodecContext] = {}

    def __call__(self, img: np.ndarray) -> bytes:
        h, w = img.shape[:2]
        codec = self._codecs.get((w, h))
        if codec is None:
            codec = av.CodecContext.create("mjpeg", "w")
            codec.width, codec.height, codec.pix_fmt = w, h, "yuvj420p"
            codec.time_base = Fraction(1, 25)
            codec.options = {"qmin": str(self.quality), "qmax": str(self.quality)}
            self._codecs[(w, h)] = codec
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24").reformat(format="yuvj420p")
        return b"".join(bytes(p) for p in codec.encode(frame))


class ProxySources(Sources):
    """Sources that read a media's scrub proxy when it exists (preview only: renders use plain Sources)."""

    def __init__(self, proxies: Proxies, cache: FrameCache):
        super().__init__(cache)
        self.proxies = proxies
        self._proxied: set[str] = set()

    def reader(self, entry: dict) -> media.VideoReader | None:
        sha = entry["sha256"]
        if sha not in self._proxied and (path := self.proxies.ready(sha)) is not None:
            old = self._readers.pop(entry["path"], None)
            if old is not None:
                old.close()
            with media.VideoReader(path) as probe:  # frame times equal the media's, so indices agree
                w, h = probe.info.width, probe.info.height
            info = replace(media_info(entry), path=str(path), rotation=0, width=w, height=h)
            self._readers[entry["path"]] = media.VideoReader(path, info=info)
            self._proxied.add(sha)
        return super().reader(entry)

    def frame(self, entry: dict, i: int) -> np.ndarray | None:
        self.reader(entry)  # switch to the proxy as soon as it is ready
        proxied = entry["sha256"] in self._proxied
        key = (entry["sha256"], i, "proxy" if proxied else "full")
        img = self.cache.get(key)
        if img is None:
            r = super().reader(entry)
            if r is None:
                return None
            img = self.cache.put(key, r.frame(i))
        return img


class Preview:
    """JPEG frames of a session's timeline for the widgets, cached and prefetched.

    ``preview.jpeg(n)`` gives the bytes for edit-rate frame ``n`` of the current timeline.
    """

    def __init__(
        self,
        session,
        *,
        max_width: int = PREVIEW_WIDTH,
        budget: int = 256 * 2**20,
        ahead: int = 24,
        proxies: bool = True,
    ):
        self.session = session
        self.max_width = max_width
        self.ahead = ahead
        self.jpegs = FrameCache(budget // 2)  # composited frames, by content key
        self.frames = FrameCache(budget // 2, device="auto")  # decoded source frames (on the GPU when present)
        self.proxies = Proxies(Path(session.path) / "proxies", max_width=max_width)
        self.use_proxies = proxies
        self._encode = JpegEncoder()
        self._sources = ProxySources(self.proxies, self.frames)
        self._comp: Compositor | None = None
        self._want: int | None = None
        self._wake = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._prefetch, name="nbedit-prefetch", daemon=True)
        self._thread.start()
        self.refresh_proxies()

    def refresh_proxies(self) -> None:
        if self.use_proxies:
            self.proxies.request(list(pool(self.session.timeline).values()))

    @property
    def size(self) -> tuple[int, int]:
        fmt = self.session.format
        return preview_size(fmt["width"], fmt["height"], self.max_width) if fmt else (self.max_width, 540)

    def _compositor(self, sources: Sources, old: Compositor | None) -> Compositor:
        s = self.session
        if old is None or old.version != s.version or old.timeline is not s.timeline or old.canvas != self.size:
            with s.mutex:  # the prefetch thread reads the timeline while the kernel may be editing it
                old = Compositor(s.timeline, sources, size=self.size, version=s.version, index=s.index, reuse=old)
        return old

    def jpeg(self, n: int) -> bytes:
        """The preview frame n as JPEG bytes (from the cache when its content was seen before)."""
        self._comp = comp = self._compositor(self._sources, self._comp)
        n = min(max(n, 0), max(comp.length - 1, 0))
        key = comp.key(n)
        hit = self.jpegs.get(key)
        if hit is None:
            hit = self.jpegs.put(key, np.frombuffer(self._encode(comp.frame(n)), np.uint8))
        self.want(n)
        return hit.tobytes()

    def want(self, n: int) -> None:
        """Prefetch around frame n (ahead of it first, as playback and forward scrubbing go that way)."""
        with self._wake:
            self._want = n
            self._wake.notify()

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify()
        self.proxies.close()

    def _around(self, n: int, length: int) -> Iterator[int]:
        for k in range(1, self.ahead + 1):
            if n + k < length:
                yield n + k
            if k <= self.ahead // 4 and n - k >= 0:
                yield n - k

    def _prefetch(self) -> None:
        sources = ProxySources(self.proxies, self.frames)  # decoders are not shared between threads
        encode = JpegEncoder()
        comp = None
        while True:
            with self._wake:
                while self._want is None and not self._closed:
                    self._wake.wait()
                if self._closed:
                    sources.close()
                    return
                n, self._want = self._want, None
            try:
                comp = self._compositor(sources, comp)
                for m in self._around(n, comp.length):
                    if self._want is not None or self._closed:
                        break  # the playhead moved: start again around it
                    key = comp.key(m)
                    if self.jpegs.get(key) is None:
                        self.jpegs.put(key, np.frombuffer(encode(comp.frame(m)), np.uint8))
            except Exception:  # prefetching is best effort; the frame itself is made on demand
                comp = None
