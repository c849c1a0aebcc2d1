"""Scrub proxies: all-intra, reduced-size copies of long-GOP media, made in the background for the preview only.

A frame-exact seek in a long-GOP file decodes up to a whole GOP (a median 261 ms for 1080p H.264 with GOP 250);
in an all-intra proxy every frame is a keyframe, so any frame decodes on its own. Proxies keep the source's frame
times, so frame i of the proxy is frame i of the media. Renders never read them.
"""

from __future__ import annotations

import os
import threading
import time
from fractions import Fraction
from pathlib import Path

import av

from . import media

MAX_WIDTH = 640
TIME_BASE = 90000


def proxy_size(width: int, height: int, max_width: int = MAX_WIDTH) -> tuple[int, int]:
    """Fit inside ``max_width`` keeping the aspect; even sizes for yuv420p."""
    if width <= max_width:
        return width // 2 * 2, height // 2 * 2
    return max_width, max(2, round(height * max_width / width / 2) * 2)


def needs_proxy(reader: media.VideoReader, max_width: int = MAX_WIDTH) -> bool:
    """Worth a proxy: a long GOP (slow seeks) or a picture much larger than the preview shows."""
    return len(reader) > 1 and (reader.keyframes * 4 < len(reader) or reader.info.width > 2 * max_width)


def build(source: str, target: Path, *, max_width: int = MAX_WIDTH, stop: threading.Event | None = None) -> bool:
    """Write an all-intra H.264 proxy of ``source`` to ``target`` (atomically); False if stopped first."""
    tmp = target.with_name(f".{target.name}.partial")
    with media.VideoReader(source) as reader:
        w, h = proxy_size(reader.info.width, reader.info.height, max_width)
        with av.open(str(tmp), "w", format="mp4") as out:
            stream = out.add_stream("libx264", rate=24)
            stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
            stream.time_base = Fraction(1, TIME_BASE)
            # g=1: every frame a keyframe; fastdecode: no CABAC or deblocking, cheap to decode
            stream.options = {"g": "1", "preset": "ultrafast", "tune": "fastdecode", "crf": "23"}
            for i in range(len(reader)):
                if stop is not None and stop.is_set():
                    break
                frame = av.VideoFrame.from_ndarray(reader.frame(i), format="rgb24")
                frame = frame.reformat(width=w, height=h, format="yuv420p")
                frame.pts = round(reader.frame_times[i] * TIME_BASE)
                frame.time_base = Fraction(1, TIME_BASE)
                out.mux(stream.encode(frame))
            out.mux(stream.encode(None))
    if stop is not None and stop.is_set():
        tmp.unlink(missing_ok=True)
        return False
    os.replace(tmp, target)
    return True


class Proxies:
    """Proxy files of a project's media, built one at a time in a background thread."""

    def __init__(self, folder: Path, *, max_width: int = MAX_WIDTH):
        self.folder = folder
        self.max_width = max_width
        self.skipped: dict[str, str] = {}  # sha256 -> why there is no proxy
        self._queue: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def path(self, sha256: str) -> Path:
        return self.folder / f"{sha256[:20]}-{self.max_width}.mp4"

    def ready(self, sha256: str) -> Path | None:
        p = self.path(sha256)
        return p if p.exists() else None

    def request(self, entries: list[dict]) -> None:
        """Queue proxies for these pool entries (video media only; done ones and duplicates are skipped)."""
        with self._lock:
            for e in entries:
                sha = e["sha256"]
                if e.get("kind") != "video" or self.path(sha).exists() or sha in self.skipped:
                    continue
                if all(q[0] != sha for q in self._queue):
                    self._queue.append((sha, e["path"]))
            if self._queue and self._thread is None:
                self._thread = threading.Thread(target=self._run, name="nbedit-proxies", daemon=True)
                self._thread.start()
            self._wake.notify()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the queue is empty (for tests and benchmarks); False on timeout."""
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                if not self._queue and not self._busy:
                    return True
            if end is not None and time.monotonic() > end:
                return False
            time.sleep(0.02)

    _busy = False

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            self._wake.notify()

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                while not self._queue and not self._stop.is_set():
                    self._wake.wait()
                if self._stop.is_set():
                    return
                sha, source = self._queue[0]
                self._busy = True
            try:
                if os.path.exists(source):
                    with media.VideoReader(source) as r:
                        wanted = needs_proxy(r, self.max_width)
                    if wanted:
                        self.folder.mkdir(parents=True, exist_ok=True)
                        build(source, self.path(sha), max_width=self.max_width, stop=self._stop)
                    else:
                        self.skipped[sha] = "not needed: short GOP and small picture"
            except Exception as e:  # a proxy is an optimisation: the preview falls back to the media itself
                self.skipped[sha] = f"failed: {e!r}"
            finally:
                with self._lock:
                    self._queue.pop(0)
                    self._busy = False
