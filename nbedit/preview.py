"""The preview's frames: composited at preview size, JPEG-encoded, cached by content, prefetched around the playhead.

The kernel answers a playhead change with the bytes of one JPEG. A cached frame costs a dictionary lookup; an
uncached one is decoded (from a scrub proxy once one exists), composited and encoded. A background thread fills
the cache around the playhead. Cache keys name a frame by its content (``Compositor.key``), so an edit makes new
keys exactly for the frames it changed and everything else stays cached.

Playback does not ask frame by frame: ``Preview.play`` starts a :class:`Playback`, a thread that makes the frames
ahead of the front end's clock (from the same cache), in batches with the mixed sound of the span they cover, and
stays at most ``window`` frames ahead of what the front end says it has shown (``ack``). While the playhead is
still, ``Preview.snippet`` mixes a frame or two of sound at it for scrubbing, also off the kernel's main thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from . import media
from .cache import FrameCache
from .model import media_info, pool
from .proxy import Proxies
from .render import IDENTITY, SAMPLE_RATE, Compositor, Layer, Mixer, Sources

PREVIEW_WIDTH = 960
# Seconds the playhead rests before the prefetch fills around it (a drag's steps come every 16 ms or so).
SCRUB_REST = 0.08


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
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
        return self.frame(frame)

    def frame(self, frame: av.VideoFrame) -> bytes:
        """A decoded picture as JPEG bytes, without a trip through RGB when it is YUV already."""
        w, h = frame.width, frame.height
        codec = self._codecs.get((w, h))
        if codec is None:
            codec = av.CodecContext.create("mjpeg", "w")
            codec.width, codec.height, codec.pix_fmt = w, h, "yuvj420p"
            codec.time_base = Fraction(1, 25)
            codec.options = {"qmin": str(self.quality), "qmax": str(self.quality)}
            self._codecs[(w, h)] = codec
        if frame.format.name == "rgb24":
            frame = frame.reformat(format="yuvj420p")
        else:  # a fresh frame: a decoded one brings what the encoder refuses after its first still (side data)
            frame = av.VideoFrame.from_ndarray(frame.reformat(format="yuvj420p").to_ndarray(), format="yuvj420p")
        return b"".join(bytes(p) for p in codec.encode(frame))


class ProxySources(Sources):
    """Sources that read a media's scrub proxy when it exists (preview only: renders use plain Sources)."""

    def __init__(
        self,
        proxies: Proxies,
        cache: FrameCache,
        audio_cache: FrameCache | None = None,
        used: set[str] | None = None,
    ):
        super().__init__(cache, audio_cache)
        self.proxies = proxies
        self._proxied: set[str] = set()
        self.used = used if used is not None else set()  # sha256 of the media read from a proxy (shared by threads)

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
            self.used.add(sha)
        return super().reader(entry)

    def video_frame(self, entry: dict, i: int, size: tuple[int, int]) -> av.VideoFrame | None:
        """Frame i of the media's proxy as decoded, when the proxy is read and its picture is ``size``: a frame
        shown as it is then goes to the JPEG encoder in its YUV (the proxy is ours: BT.601, upright)."""
        r = self.reader(entry)
        if r is None or entry["sha256"] not in self._proxied or (r.info.width, r.info.height) != size:
            return None
        return r.video_frame(i)

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
        linger: float = 10.0,
        proxies: bool = True,
    ):
        """``ahead`` frames are made around the playhead when it rests, then the next ``linger`` seconds."""
        self.session = session
        self.max_width = max_width
        self.ahead = ahead
        self.linger = linger if ahead else 0.0
        self.jpegs = FrameCache(budget // 2, name="preview JPEGs")  # composited frames, by content key
        # decoded source frames (on the GPU when present)
        self.frames = FrameCache(budget // 2, device="auto", name="preview frames")
        self.proxies = Proxies(Path(session.path) / "proxies", max_width=max_width)
        self.use_proxies = proxies
        self._encode = JpegEncoder()
        self.proxied: set[str] = set()  # sha256 of the media some preview thread reads from its proxy by now
        self._sources = self.sources()
        self._comp: Compositor | None = None
        self._want: int | None = None
        self._rest = 0.0  # when the prefetch may start on the last want
        self._step = 1  # the direction and stride of the last want: prefetch goes that way
        self._making: set = set()  # keys of frames some thread is composing now (the others wait or skip them)
        self._made = threading.Condition()
        self.playback: Playback | None = None
        self._snippet: tuple[int, int, Callable] | None = None
        self._snippets: threading.Thread | None = None
        self._snip_cv = threading.Condition()
        self._wake = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._prefetch, name="nbedit-prefetch", daemon=True)
        self._thread.start()
        self.refresh_proxies()

    def sources(self, audio_cache: FrameCache | None = None) -> ProxySources:
        """Decoders for one more thread (they are not shared), reading proxies once they are ready."""
        return ProxySources(self.proxies, self.frames, audio_cache, self.proxied)

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

    def mixer(self, sources: Sources, old: Mixer | None = None) -> tuple[Mixer, int]:
        """A Mixer of the current timeline (``old`` again when the timeline did not change) and its version."""
        s = self.session
        with s.mutex:
            version = s.version
            if old is None or old.timeline is not s.timeline or getattr(old, "version", None) != version:
                old = Mixer(s.timeline, sources)
                old.version = version
        return old, version

    def jpeg(self, n: int) -> bytes:
        """The preview frame n as JPEG bytes (from the cache when its content was seen before)."""
        self._comp = comp = self._compositor(self._sources, self._comp)
        n = min(max(n, 0), max(comp.length - 1, 0))
        hit = self.cached(comp, self._encode, n)
        self.want(n, rest=SCRUB_REST)
        return hit.tobytes()

    def cached(self, comp: Compositor, encode: JpegEncoder, n: int, wait: bool = True) -> np.ndarray | None:
        """Frame n's JPEG from the cache, else made (by this thread, or by the one making it now: with ``wait``
        False, None rather than wait for it)."""
        key = comp.key(n)
        deadline = None
        while True:
            hit = self.jpegs.get(key)
            if hit is not None:
                return hit
            with self._made:
                mine = key not in self._making
                if not mine:
                    if not wait:
                        return None
                    deadline = deadline or time.monotonic() + 0.25
                    if time.monotonic() < deadline:  # never wait long: make it too rather than risk a stall
                        self._made.wait(0.05)
                        continue
                self._making.add(key)
            try:
                return self.jpegs.put(key, np.frombuffer(picture(comp, encode, n), np.uint8))
            finally:
                if mine:
                    with self._made:
                        self._making.discard(key)
                        self._made.notify_all()

    def want(self, n: int, step: int = 1, rest: float = 0.0) -> None:
        """Prefetch around frame n (ahead of it first, in the direction of ``step``: playback goes that way), once
        no other want came for ``rest`` seconds: a drag along the ruler moves faster than frames around each of its
        stops could be made, and making them would take the CPU from the frames the drag shows."""
        with self._wake:
            self._want = n
            self._step = step
            self._rest = time.monotonic() + rest
            self._wake.notify()

    def play(self, start: int, step: int, send: Callable[[dict, list], None], token: str = "", **kw) -> Playback:
        """Stream frames start, start + step, ... with their sound through ``send`` (stopping any stream before)."""
        self.stop()
        self.playback = Playback(self, start, step, send, token, **kw)
        return self.playback

    def stop(self) -> None:
        p, self.playback = self.playback, None
        if p is not None:
            p.stop()

    def snippet(self, n: int, send: Callable[[dict, list], None], frames: int = 2) -> None:
        """Mix ``frames`` frames of sound from frame n and ``send`` them as a "scrub_audio" message, in a thread
        (the latest request wins; nothing is sent for a silent timeline)."""
        with self._snip_cv:
            self._snippet = (n, frames, send)
            if self._snippets is None:
                self._snippets = threading.Thread(target=self._snip, name="nbedit-scrub-audio", daemon=True)
                self._snippets.start()
            self._snip_cv.notify()

    def _snip(self) -> None:
        sources = Sources(self.frames, self.session.sources.audio_cache)
        mixer = None
        while True:
            with self._snip_cv:
                while self._snippet is None and not self._closed:
                    self._snip_cv.wait()
                if self._closed:
                    return
                (n, frames, send), self._snippet = self._snippet, None
            try:
                mixer, _ = self.mixer(sources, mixer)
                if not mixer.parts:
                    continue
                a, b = mixer._s(n), mixer._s(n + frames)
                with self.session.mutex:
                    pcm = mixer.samples(a, b - a)
                msg = {"type": "scrub_audio", "n": n, "sample": a, "count": b - a, "rate": SAMPLE_RATE}
                send(msg, [pcm_bytes(pcm)])
            except Exception:  # best effort: a scrub without sound
                mixer = None

    def close(self) -> None:
        self.stop()
        with self._wake:
            self._closed = True
            self._wake.notify()
        with self._snip_cv:
            self._snip_cv.notify()
        self.proxies.close()

    def _around(self, n: int, length: int, step: int = 1) -> Iterator[int]:
        sign = 1 if step > 0 else -1
        for k in range(1, self.ahead + 1):
            if 0 <= n + step * k < length:
                yield n + step * k
            if k <= self.ahead // 4 and 0 <= n - sign * k < length:
                yield n - sign * k

    def _prefetch(self) -> None:
        sources = self.sources()
        encode = JpegEncoder()
        comp = None
        while True:
            with self._wake:
                while not self._closed and (self._want is None or self._rest > time.monotonic()):
                    self._wake.wait(None if self._want is None else self._rest - time.monotonic())
                if self._closed:
                    sources.close()
                    return
                n, self._want = self._want, None
                step = self._step
            try:
                comp = self._compositor(sources, comp)
                for m in self._around(n, comp.length, step):
                    if self._want is not None or self._closed:
                        break  # the playhead moved: start again around it
                    self.cached(comp, encode, m, wait=False)
                # while the playhead rests, on through the next seconds: a play from here then finds them made
                far = round(self.linger * float(comp.rate))
                for k in range(self.ahead + 1, far + 1):
                    m = n + step * k
                    if self._want is not None or self._closed or not 0 <= m < comp.length:
                        break
                    self.cached(comp, encode, m, wait=False)
            except Exception:  # prefetching is best effort; the frame itself is made on demand
                comp = None


def picture(comp: Compositor, encode: JpegEncoder, n: int) -> bytes:
    """Frame n as JPEG bytes. A frame that is one proxy frame shown whole, at the preview's size, skips RGB and
    the canvas: decoded YUV straight to the encoder, half the work of a composited frame."""
    plan = comp.plan(n)
    layer = plan[0] if len(plan) == 1 else None
    if isinstance(layer, Layer) and isinstance(comp.sources, ProxySources) and layer.index is not None:
        entry = layer.entry
        w, h = int(entry.get("width") or 0), int(entry.get("height") or 0)
        plain = layer.transform == IDENTITY and layer.opacity >= 1 and not layer.effects and layer.blend == "normal"
        if plain and w * comp.height == h * comp.width:  # fills the canvas as it is, no bars
            frame = comp.sources.video_frame(entry, layer.index, comp.canvas)
            if frame is not None:
                return encode.frame(frame)
    return encode(comp.frame(n))


def pcm_bytes(pcm: np.ndarray) -> bytes:
    """(2, count) samples as the front end reads them: float32, little-endian, planar (left, then right)."""
    return np.ascontiguousarray(pcm, dtype="<f4").tobytes()


class Playback:
    """One playback: edit-rate frames ``start + step * k`` for k = 0, 1, ... (step -4..4, not 0), sent as batches.

    A thread makes each batch (``batch`` frames, through the preview's cache) and sends it as ``{"type": "batch",
    "token", "first": k0, "count": c, "ks": [...], "ns": [...], "audio": {...} | None}`` with one JPEG buffer per
    entry of ``ks``/``ns`` (play index, timeline frame), then the batch's sound: samples ``sample`` to ``sample +
    count`` of the timeline's mix (48 kHz stereo, float32 planar), reversed when playing backwards, to be played at
    ``speed`` times the rate, starting ``at`` seconds after the play's index 0. It stays within ``window`` frames of
    the last index the front end reports shown (``ack``), skips frames the front end is already past, and ends
    with ``{"type": "play_end", "token", "last": k}`` at either end of the timeline. ``stop`` ends it within a
    frame's work; nothing is sent after it.
    """

    def __init__(
        self,
        preview: Preview,
        start: int,
        step: int,
        send: Callable[[dict, list], None],
        token: str = "",
        *,
        batch: int | None = None,
        window: int | None = None,
        sound: bool = True,
    ):
        if step == 0:
            raise ValueError("step must not be 0")
        self.preview = preview
        self.start, self.step, self.send, self.token = int(start), int(step), send, token
        fps = float(preview.session.fps) if preview.session.format else 24.0
        self.fps = fps
        self.batch = batch or max(2, round(fps / 6))
        self.window = window or self.batch + max(8, round(fps / 2))
        self.sound = sound
        self.acked = -1  # the last play index the front end showed
        self.made = 0  # play indices made and sent so far
        self.sent_batches = 0
        self.skipped = 0  # frames left unmade because the front end was already past them
        self.stopped = False
        self.error: str | None = None
        self._cond = threading.Condition()
        self.thread = threading.Thread(target=self._run, name="nbedit-playback", daemon=True)
        self.thread.start()

    def ack(self, k: int) -> None:
        with self._cond:
            self.acked = max(self.acked, int(k))
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self.stopped = True
            self._cond.notify_all()

    def frame(self, k: int) -> int:
        return self.start + self.step * k

    def position(self, mixer: Mixer, k: int) -> int:
        """The sample where play index k's sound starts: frame k's start going forwards, its end going back."""
        n = self.frame(k)
        return max(0, mixer._s(n if self.step > 0 else n + 1))

    def _run(self) -> None:
        p = self.preview
        sources = p.sources(p.session.sources.audio_cache)
        encode = JpegEncoder(p._encode.quality)
        comp = mixer = None
        k = 0
        try:
            while True:
                with self._cond:
                    while not self.stopped and k > self.acked + self.window:
                        self._cond.wait(0.5)
                    if self.stopped:
                        return
                    acked = self.acked
                comp = p._compositor(sources, comp)
                length = comp.length
                k1 = k + self.batch
                last = None  # the play's last index, when this batch reaches an end of the timeline
                for j in range(k, k1):
                    if not 0 <= self.frame(j) < length:
                        last, k1 = j - 1, j
                        break
                ks, ns, jpegs = [], [], []
                for j in range(k, k1):
                    if self.stopped:
                        return
                    if j <= max(acked, self.acked):  # shown by now on the front end's clock: too late to send
                        self.skipped += 1
                        continue
                    n = self.frame(j)
                    jpegs.append(p.cached(comp, encode, n).tobytes())
                    ks.append(j)
                    ns.append(n)
                p.want(self.frame(k1 + self.batch), self.step)  # the prefetch thread works beyond the next batch
                audio, buffers = None, list(jpegs)
                if self.sound and k1 > k:
                    mixer, _ = p.mixer(sources, mixer)
                    if mixer.parts:
                        a, b = self.position(mixer, k), self.position(mixer, k1)
                        lo, hi = min(a, b), max(a, b)
                        with p.session.mutex:
                            pcm = mixer.samples(lo, hi - lo)
                        if self.step < 0:
                            pcm = pcm[:, ::-1]
                        speed = abs(self.step)
                        at = abs(a - self.position(mixer, 0)) / SAMPLE_RATE / speed
                        audio = {"sample": lo, "count": hi - lo, "rate": SAMPLE_RATE, "speed": speed, "at": at}
                        audio["reverse"] = self.step < 0
                        buffers.append(pcm_bytes(pcm))
                if self.stopped:
                    return
                msg = {"type": "batch", "token": self.token, "first": k, "count": k1 - k, "ks": ks, "ns": ns}
                msg["audio"] = audio
                self.send(msg, buffers)
                self.sent_batches += 1
                self.made = k = k1
                if last is not None:
                    self.send({"type": "play_end", "token": self.token, "last": last}, [])
                    return
        except Exception as e:  # say so, and end the play, rather than stop silently
            self.error = f"{type(e).__name__}: {e}"
            if not self.stopped:
                self.send({"type": "play_end", "token": self.token, "last": k - 1, "error": self.error}, [])
        finally:
            sources.close()

    def wait(self, timeout: float = 30.0) -> bool:
        """Wait for the thread to end (tests): True when it did."""
        self.thread.join(timeout)
        return not self.thread.is_alive()
