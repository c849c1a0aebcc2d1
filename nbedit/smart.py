"""Smart render: whole GOPs of source frames shown unchanged are copied as they were compressed.

Where the output shows a source's frames one after another, untouched (no transform, effect, opacity or
transition), from an H.264 source whose stream matches the output (size, yuv420p, frame rate, no rotation), each
closed GOP the output shows whole (from an IDR picture up to the frame before the next IDR) goes to the file as
the source's own packets. Only the pieces between them (around cuts, transitions, effects, GOP fragments) are
decoded, composited and encoded, with the settings a full render uses; sound is always mixed and encoded anew.

    >>> smart.render(timeline, "out.mp4", settings)        # copies what it can, encodes the rest
    >>> smart.why_not(timeline, "out.mov", settings)       # None, or the reason nothing can be copied

A copied GOP decodes to the source's own pictures, so it is identical to a full render's only when the full
render passes those frames through unchanged; the pieces match a full render frame for frame in what they show.
Parameter sets go in-band where they change: the source's (from its avcC) before a copied GOP's IDR that follows
an encoded piece or another source, the encoder's (it writes them in-band, there being no global header) before
each IDR of the pieces. One encoder makes all the pieces, an IDR forced at the start of each.
"""

from __future__ import annotations

import functools
import os
import queue
import re
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from . import folder, identity
from .cache import FrameCache
from .errors import MediaError, RenderError
from .model import edit_rate, media_info, nb
from .render import (
    AAC_FRAME,
    AUDIO_WINDOW,
    CHANNELS,
    RENDER_AUDIO_WINDOWS,
    RENDER_CACHE_FRAMES,
    SAMPLE_RATE,
    Compositor,
    Layer,
    Mixer,
    RenderSettings,
    Sources,
    check_target,
    output_frames,
    partial_file,
    publish,
    resize,
)
from .render import render as full_render
from .timeline import audio_tracks

# containers whose H.264 samples are length-prefixed NAL units described by an avcC record, as the sources' are
CONTAINERS = (".mp4", ".m4v", ".mov", ".mkv")
NAL_IDR, NAL_SPS, NAL_PPS = 5, 7, 8
MIX_BLOCK = 47  # AAC frames of sound mixed at once: about a second
HELD_BYTES = 64 * 2**20  # copied packets waiting for the encoder's last packets of the piece before them


# ---- what a source's packets say -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Gop:
    """A closed GOP: source frames ``first`` to ``end`` (presentation order), decodable without any other."""

    first: int
    end: int
    key_dts: int  # where to seek to read it
    delay: int  # most frames a packet is decoded ahead of its place in presentation order


@dataclass(frozen=True)
class Stream:
    """A source's video stream as a smart render copies from it."""

    path: str
    gops: tuple[Gop, ...]  # the closed ones, by first frame
    index_of: dict  # packet pts -> presentation index
    time_base: Fraction
    length_size: int  # bytes of each NAL unit's length prefix
    parameter_sets: tuple[bytes, ...]  # SPS and PPS NAL units of its avcC

    def gop_at(self, first: int) -> Gop | None:
        lo, hi = 0, len(self.gops)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.gops[mid].first < first:
                lo = mid + 1
            else:
                hi = mid
        return self.gops[lo] if lo < len(self.gops) else None


def avcc(extradata: bytes) -> tuple[int, tuple[bytes, ...]]:
    """(length prefix size, SPS and PPS NAL units) of an AVCDecoderConfigurationRecord."""
    if len(extradata) < 7 or extradata[0] != 1:
        raise ValueError("not an avcC record")
    length_size = (extradata[4] & 3) + 1
    units, pos = [], 5
    for mask in (0x1F, 0xFF):  # the SPS count is in 5 bits, the PPS count in 8
        count, pos = extradata[pos] & mask, pos + 1
        for _ in range(count):
            n = int.from_bytes(extradata[pos : pos + 2], "big")
            units.append(bytes(extradata[pos + 2 : pos + 2 + n]))
            pos += 2 + n
    return length_size, tuple(units)


def nal_units(data: bytes, length_size: int) -> Iterator[bytes]:
    """The NAL units of a length-prefixed sample."""
    pos = 0
    while pos + length_size <= len(data):
        n = int.from_bytes(data[pos : pos + length_size], "big")
        yield data[pos + length_size : pos + length_size + n]
        pos += length_size + n


def prefixed(units, length_size: int) -> bytes:
    return b"".join(len(u).to_bytes(length_size, "big") + u for u in units)


_START_CODE = re.compile(b"\x00\x00\x01")


def annexb_units(data: bytes) -> list[bytes]:
    """The NAL units of an Annex B stream (start codes; a zero byte before one belongs to the start code)."""
    parts = _START_CODE.split(data)
    return [p.rstrip(b"\x00") if k < len(parts) - 1 else p for k, p in enumerate(parts) if k and p]


@functools.lru_cache(maxsize=16)
def stream_of(path: str, sha256: str) -> Stream | str:
    """The closed GOPs of a source's H.264 stream, found by reading its packets (no decoding); or why none.

    Cached by content: one look at each file per process."""
    try:
        with av.open(path) as c:
            vs = next(iter(c.streams.video), None)
            if vs is None or vs.codec_context.name != "h264":
                return "it is not H.264"
            try:
                length_size, sets = avcc(bytes(vs.codec_context.extradata or b""))
            except ValueError:
                return "its H.264 has no avcC record (an Annex B stream)"
            packets = []  # decode order: (pts, dts, keyframe is an IDR)
            for p in c.demux(vs):
                if not p.size:
                    continue
                if p.pts is None or p.dts is None:
                    return "its packets have no timestamps"
                idr = p.is_keyframe and any(u and u[0] & 0x1F == NAL_IDR for u in nal_units(bytes(p), length_size))
                packets.append((p.pts, p.dts, idr))
            time_base = vs.time_base
    except (av.FFmpegError, OSError) as e:
        return f"it cannot be read ({e})"
    order = sorted(pts for pts, _, _ in packets)
    index_of = {pts: i for i, pts in enumerate(order)}
    keys = [k for k, (_, _, idr) in enumerate(packets) if idr] + [len(packets)]
    gops = []
    for a, b in zip(keys, keys[1:], strict=False):
        shown = [index_of[packets[k][0]] for k in range(a, b)]
        first = shown[0]
        # closed: the IDR is shown first and the GOP shows exactly the frames up to the next IDR's
        if min(shown) == first and max(shown) == first + (b - a) - 1 and len(set(shown)) == b - a:
            delay = max(i - (q - first) for i, q in enumerate(shown))
            gops.append(Gop(first, first + b - a, packets[a][1], delay))
    return Stream(path, tuple(gops), index_of, time_base, length_size, sets)


# ---- the plan -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    """Output frames ``start`` to ``end``: copied from one source GOP, or (``gop`` None) composited and encoded."""

    start: int
    end: int
    stream: Stream | None = None
    gop: Gop | None = None


def why_not(timeline, path: str | os.PathLike, settings: RenderSettings) -> str | None:
    """Why these output settings rule out copying any frame (None: they allow it)."""
    fmt = nb(timeline).get("format") or {}
    if settings.codec != "libx264":
        return f"the output codec is {settings.codec}, not libx264"
    if Path(path).suffix.lower() not in CONTAINERS:
        return f"{Path(path).suffix or 'a file without a suffix'} is not one of {', '.join(CONTAINERS)}"
    if (settings.width, settings.height) != (int(fmt.get("width", 0)), int(fmt.get("height", 0))):
        return f"the output size {settings.width}x{settings.height} is not the timeline's"
    if settings.fps != edit_rate(timeline):
        return f"the output rate {settings.fps} fps is not the timeline's {edit_rate(timeline)} fps"
    return None


def source_mismatch(entry: dict, settings: RenderSettings) -> str | None:
    """Why a source's stream is not the output's (None: it is): size, pixel format, rotation, rate."""
    info = media_info(entry)
    name = Path(entry["path"]).name
    if info.kind != "video":
        return f"{name} is not a video"
    if (info.width, info.height) != (settings.width, settings.height):
        return f"{name} is {info.width}x{info.height}, the output {settings.width}x{settings.height}"
    if info.pix_fmt != "yuv420p":
        return f"{name} is {info.pix_fmt}, not yuv420p"
    if info.rotation:
        return f"{name} is shown rotated"
    if info.vfr or info.fps != settings.fps:
        return f"{name} runs at {info.fps} fps{' (variable)' if info.vfr else ''}, the output at {settings.fps}"
    return None


def copyable(entry: dict, settings: RenderSettings) -> Stream | str:
    """A source's stream to copy GOPs from, or why it cannot be."""
    if why := source_mismatch(entry, settings):
        return why
    name = Path(entry["path"]).name
    if not os.path.exists(entry["path"]) or not identity.same(entry["path"], entry["sha256"]):
        return f"{name} is offline or was replaced"
    s = stream_of(entry["path"], entry["sha256"])
    return f"{name}: {s}" if isinstance(s, str) else s


def plan(timeline, settings: RenderSettings, comp: Compositor) -> tuple[list[Piece], list[str]]:
    """The pieces of the output, in order, and why the sources that could not be copied from could not."""
    numbers = list(output_frames(settings, edit_rate(timeline)))
    streams: dict[str, Stream | str] = {}
    shown = []  # per output frame: (stream, source frame) or None
    for n in numbers:
        plain = comp.untouched(n)
        if plain is None:
            layers = comp.plan(n)  # one source, changed: say so when its stream is not the output's
            if len(layers) == 1 and isinstance(layers[0], Layer) and layers[0].entry["sha256"] not in streams:
                if why := source_mismatch(layers[0].entry, settings):
                    streams[layers[0].entry["sha256"]] = why
            shown.append(None)
            continue
        entry, i = plain
        s = streams.get(entry["sha256"])
        if s is None:
            s = streams[entry["sha256"]] = copyable(entry, settings)
        shown.append(None if isinstance(s, str) else (s, i))
    pieces: list[Piece] = []
    k = 0
    while k < len(shown):
        copied = _gop_from(shown, k)
        if copied is not None:
            pieces.append(Piece(k, k + copied[1].end - copied[1].first, *copied))
            k = pieces[-1].end
            continue
        if pieces and pieces[-1].gop is None:
            pieces[-1] = Piece(pieces[-1].start, k + 1)
        else:
            pieces.append(Piece(k, k + 1))
        k += 1
    return pieces, sorted({s for s in streams.values() if isinstance(s, str)})


# The pieces are encoded by one encoder fed by one decoding thread, about twice a full render's time per frame
# (bench/smart_render.py; the peer edit of python -m bench copies 6 % and took 1.8x the full render): below this
# share of copied frames the default renders in full. smart=True copies whatever it can.
AUTO_SHARE = 0.5


def copied_share(pieces: list[Piece]) -> float:
    """The share of output frames that come from copied GOPs."""
    total = sum(p.end - p.start for p in pieces)
    return sum(p.end - p.start for p in pieces if p.gop is not None) / total if total else 0.0


def _gop_from(shown: list, k: int) -> tuple[Stream, Gop] | None:
    """The GOP starting at output frame k when the output shows all of it from there, in order."""
    if shown[k] is None:
        return None
    s, i = shown[k]
    gop = s.gop_at(i)
    if gop is None or gop.first != i or k + gop.end - gop.first > len(shown):
        return None
    for j in range(gop.end - gop.first):
        if shown[k + j] is None or shown[k + j][0] is not s or shown[k + j][1] != i + j:
            return None
    return s, gop


# ---- writing -------------------------------------------------------------------------------------------------


def render(
    timeline,
    path: str | os.PathLike,
    settings: RenderSettings,
    *,
    smart: bool | None = None,
    progress: bool | Callable[[int, int], None] = True,
    tags: dict[str, str] | None = None,
) -> Path:
    """Render copying what can be copied: ``s.render("out.mp4", smart=True)``.

    ``smart``: None copies when the settings and sources allow it and at least ``AUTO_SHARE`` of the frames
    come from copied GOPs, and renders in full otherwise; True copies or raises RenderError saying why it cannot;
    False always renders in full (render.render).
    """
    if smart is False:
        return full_render(timeline, path, settings, progress=progress, tags=tags)
    why = why_not(timeline, path, settings)
    pieces: list[Piece] = []
    if why is None:
        comp = Compositor(timeline, Sources())
        pieces, reasons = plan(timeline, settings, comp)
        comp.sources.close()
        if not any(p.gop is not None for p in pieces):
            why = "no whole GOP of a matching source is shown unchanged" + (
                f" ({'; '.join(reasons)})" if reasons else " (cuts, effects or transitions touch every GOP)"
            )
        elif smart is None and copied_share(pieces) < AUTO_SHARE:
            why = "too few frames to copy for it to pay"
    if why is not None:
        if smart:
            raise RenderError(f"cannot smart render {Path(path).name}: {why}; render with smart=False")
        return full_render(timeline, path, settings, progress=progress, tags=tags)
    return write(timeline, path, settings, pieces, progress=progress, tags=tags)


def write(
    timeline,
    path: str | os.PathLike,
    settings: RenderSettings,
    pieces: list[Piece],
    *,
    progress=True,
    tags: dict[str, str] | None = None,
) -> Path:
    """Write the pieces to ``path`` (through a temporary file, renamed only on success)."""
    from tqdm.auto import tqdm

    path = check_target(timeline, path)
    tmp = partial_file(path)
    total = pieces[-1].end
    report = progress if callable(progress) else None
    bar = tqdm(total=total, unit="frame", desc=f"smart render {path.name}", disable=not progress or bool(report))
    readers: dict[str, _GopReader] = {}
    made = _Frames(timeline, settings, pieces)
    try:
        with av.open(str(tmp), "w") as out:
            out.metadata.update(tags or {})  # the recipe, as a full render writes it
            sound = None

            def done(piece: Piece) -> None:  # all of it is in the file: its sound goes in too
                if sound is not None:
                    sound.upto(piece.end, final=piece is pieces[-1])
                bar.update(piece.end - piece.start)
                if report is not None:
                    report(piece.end, total)

            w = _Writer(out, settings, pieces, done)
            sound = _Sound(out, timeline, settings, total) if settings.audio and audio_tracks(timeline) else None
            out.start_encoding()
            if sound is not None:
                sound.start()
            try:
                for piece in pieces:
                    if piece.gop is not None:
                        reader = readers.get(piece.stream.path)
                        if reader is None:
                            reader = readers[piece.stream.path] = _GopReader(piece.stream)
                        w.copy(piece, reader.packets(piece.gop))
                    else:
                        w.encode(piece, made.take(piece.end - piece.start))
                w.finish()
            finally:  # the sound's thread stops before the file it encodes for is closed
                if sound is not None:
                    sound.close()
    except (av.FFmpegError, OSError, ValueError, MediaError) as e:
        tmp.unlink(missing_ok=True)
        raise RenderError(f"rendering {path.name} failed: {folder.why(e) if isinstance(e, OSError) else e}") from e
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        bar.close()
        made.close()
        for reader in readers.values():
            reader.close()
    return publish(tmp, path)


class _Frames:
    """The frames of the encoded pieces, in order, decoded and composited on a thread of their own while the
    encoder works on the frames before them (as a full render makes its frames)."""

    def __init__(self, timeline, settings: RenderSettings, pieces: list[Piece]):
        self.made: queue.Queue = queue.Queue(maxsize=4)
        self.stop = threading.Event()
        args = (timeline, settings, pieces)
        self.thread = threading.Thread(target=self._make, args=args, name="nbedit-smart-frames", daemon=True)
        self.thread.start()

    def _make(self, timeline, settings: RenderSettings, pieces: list[Piece]) -> None:
        # a few frames: each source frame is read once, in order (freezes come from the reader's last frame)
        sources = Sources(FrameCache(RENDER_CACHE_FRAMES * settings.width * settings.height * 3, name="render frames"))
        try:
            comp = Compositor(timeline, sources)
            numbers = list(output_frames(settings, edit_rate(timeline)))
            for piece in pieces:
                for k in range(piece.start, piece.end) if piece.gop is None else ():
                    if self.stop.is_set():
                        return
                    self._put(_frame(comp, numbers[k], settings))
        except BaseException as e:  # raised where the frames are taken
            self._put(e)
        finally:
            sources.close()

    def _put(self, item) -> None:
        while not self.stop.is_set():
            try:
                self.made.put(item, timeout=0.1)
                return
            except queue.Full:
                pass

    def take(self, count: int) -> Iterator[av.VideoFrame]:
        for _ in range(count):
            while True:
                try:
                    item = self.made.get(timeout=1)
                    break
                except queue.Empty:
                    if not self.thread.is_alive():
                        raise ValueError("the frames of the encoded pieces ended early") from None
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        self.stop.set()
        self.thread.join()


def _frame(comp: Compositor, n: int, settings: RenderSettings) -> av.VideoFrame:
    """Output frame of edit frame n, made as a full render makes it."""
    plain = comp.untouched(n)
    if plain is not None:
        return comp.sources.reader(plain[0]).video_frame(plain[1]).reformat(format="yuv420p")
    img = resize(comp.frame(n), settings.width, settings.height)
    return av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuv420p")


class _GopReader:
    """Packets of one source's GOPs, read in decode order; reading on from the GOP before does not seek."""

    def __init__(self, stream: Stream):
        self.stream = stream
        self.container = av.open(stream.path)
        self.video = self.container.streams.video[0]
        self.next_dts: int | None = None  # dts of the packet after the last one read
        self._packets: Iterator[av.Packet] | None = None

    def packets(self, gop: Gop) -> list[av.Packet]:
        if self._packets is None or self.next_dts != gop.key_dts:
            self.container.seek(gop.key_dts, stream=self.video, backward=True, any_frame=False)
            self._packets = (p for p in self.container.demux(self.video) if p.size)
        got = []
        for p in self._packets:
            if not got and p.dts < gop.key_dts:
                continue  # the seek landed on an earlier keyframe
            if not got and p.dts != gop.key_dts:
                raise MediaError(f"cannot find the keyframe at frame {gop.first} of {self.stream.path}")
            got.append(p)
            if len(got) == gop.end - gop.first:
                break
        if len(got) != gop.end - gop.first:
            raise MediaError(f"the GOP at frame {gop.first} of {self.stream.path} ends early")
        self.next_dts = None
        nxt = self.stream.gop_at(gop.end)
        if nxt is not None and nxt.first == gop.end:
            self.next_dts = nxt.key_dts
        return got

    def close(self) -> None:
        self.container.close()


class _Writer:
    """The output's video stream: copied GOPs and encoded pieces on one timeline of frames, muxed in order.

    Every packet gets pts = its output frame and dts = its place in decode order less a delay that covers the
    reordering of every piece, so dts grows by one frame per packet across pieces and never passes pts.

    One encoder makes every piece, each begun with a forced IDR (its frames refer to none before it; x264 ends
    the piece before with a P-frame, the GOP being closed): a fresh encoder per piece costs half as much again,
    its threads and lookahead starting empty each time. Its packets come out a few frames late, so the copied
    GOPs after a piece wait (as packets) until the piece is out; past HELD_BYTES of them the encoder is flushed.
    """

    def __init__(self, out, settings: RenderSettings, pieces: list[Piece], done: Callable[[Piece], None]):
        self.out = out
        self.settings = settings
        self.done = done  # called with each piece once all of it is in the file
        template = next(p.stream for p in pieces if p.gop is not None)
        with av.open(template.path) as c:
            self.video = out.add_stream_from_template(c.streams.video[0])
        self.length_size = template.length_size
        fps = settings.fps
        ticks = max(1, -(-90000 // fps.numerator))  # a time base of at least 1/90000 s, whole ticks a frame
        # packets are timed in this base; the muxer may pick its own (Matroska's milliseconds) and rescales
        self.time_base = self.video.time_base = Fraction(1, fps.numerator * ticks)
        self.tick = fps.denominator * ticks
        self.delay = max([encoder_delay(settings)] + [p.gop.delay for p in pieces if p.gop is not None])
        self.decoded = 0  # packets written: the decode position of the next one
        self.sets = template.parameter_sets  # the parameter sets in force: the file's header has the template's
        self.waiting: deque[_Waiting] = deque()  # pieces given, in order, not yet all in the file
        self.held = 0  # bytes of copied packets waiting
        self.enc: av.VideoCodecContext | None = None
        self.fed: list[int] = []  # output frame of each frame given to the encoder, by its pts there

    def copy(self, piece: Piece, packets: list[av.Packet]) -> None:
        self.waiting.append(_Waiting(piece, packets, len(packets)))
        self.held += sum(p.size for p in packets)
        self._drain()
        if self.held > HELD_BYTES and self.enc is not None:
            self._flush()

    def encode(self, piece: Piece, frames: Iterator[av.VideoFrame]) -> None:
        if self.enc is None:
            self.enc = encoder(self.settings)
            self.fed = []
        self.waiting.append(_Waiting(piece, [], piece.end - piece.start))
        for k, frame in enumerate(frames):
            frame.pts, frame.time_base = len(self.fed), 1 / self.settings.fps
            frame.pict_type = av.video.frame.PictureType.I if k == 0 else av.video.frame.PictureType.NONE
            self.fed.append(piece.start + k)
            self._take(self.enc.encode(frame))

    def finish(self) -> None:
        if self.enc is not None:
            self._flush()
        if self.waiting:
            raise ValueError(f"output frames {self.waiting[0].piece.start} on never came out of the encoder")

    def _flush(self) -> None:
        self._take(self.enc.encode(None))
        self.enc = None

    def _take(self, packets: list[av.Packet]) -> None:
        """Hand the encoder's packets (in decode order) to the pieces they belong to, oldest first."""
        for p in packets:
            w = next((w for w in self.waiting if w.piece.gop is None and len(w.packets) < w.count), None)
            frame = self.fed[p.pts]
            if w is None or not w.piece.start <= frame < w.piece.end:
                raise ValueError(f"the encoder gave output frame {frame} out of its piece")
            w.packets.append(p)
        self._drain()

    def _drain(self) -> None:
        """Mux what the oldest waiting pieces have, in order; a piece is done when all of it is muxed."""
        while self.waiting:
            w = self.waiting[0]
            for p in w.packets[w.muxed :]:
                if w.piece.gop is not None:
                    self._mux_copied(w, p)
                else:
                    units = annexb_units(bytes(p))
                    self._mux(prefixed(units, self.length_size), self.fed[p.pts], p.is_keyframe)
                    self.sets = None  # the encoder's, in-band
                w.muxed += 1
            if w.piece.gop is not None:
                self.held -= sum(p.size for p in w.packets)
                w.packets.clear()
            if w.muxed < w.count:
                return
            self.waiting.popleft()
            self.done(w.piece)

    def _mux_copied(self, w: _Waiting, p: av.Packet) -> None:
        s, gop = w.piece.stream, w.piece.gop
        data = bytes(p)
        if s.length_size != self.length_size:
            data = prefixed(nal_units(data, s.length_size), self.length_size)
        first = w.muxed == 0
        if first and self.sets != s.parameter_sets:  # an encoded piece or another source came before
            data = prefixed(s.parameter_sets, self.length_size) + data
        self._mux(data, w.piece.start + s.index_of[p.pts] - gop.first, first)
        self.sets = s.parameter_sets

    def _mux(self, data: bytes, frame: int, key: bool) -> None:
        packet = av.Packet(data)
        packet.stream = self.video
        packet.time_base = self.time_base
        packet.pts = frame * self.tick
        packet.dts = (self.decoded - self.delay) * self.tick
        packet.duration = self.tick
        packet.is_keyframe = key
        self.out.mux(packet)
        self.decoded += 1


@dataclass
class _Waiting:
    """A piece given to the writer and not yet all in the file."""

    piece: Piece
    packets: list
    count: int  # packets it has in all
    muxed: int = 0


def encoder(settings: RenderSettings) -> av.VideoCodecContext:
    """A fresh libx264 encoder with a full render's settings, writing its parameter sets in-band (Annex B)."""
    enc = av.CodecContext.create("libx264", "w")
    enc.width, enc.height, enc.pix_fmt = settings.width, settings.height, "yuv420p"
    enc.time_base = 1 / settings.fps
    enc.framerate = settings.fps
    enc.gop_size = max(1, round(float(settings.fps) * 2))
    # as render.render sets them: mbtree=0 keeps the output a pure function of the frames
    enc.options = {"crf": str(settings.crf), "preset": settings.preset, "x264-params": "mbtree=0", "forced-idr": "1"}
    return enc


@functools.lru_cache(maxsize=8)
def _delay_of(preset: str, crf: int, fps: Fraction) -> int:
    # x264 shows its B-frame delay (its settings', not the pictures') as the first packet's pts - dts, once it
    # has been given more frames than it may hold back; 40 is more than the longest run of B-frames (16) allows
    enc = encoder(RenderSettings(64, 64, fps, 0, 1, crf=crf, preset=preset))
    black = av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), format="rgb24").reformat(format="yuv420p")
    packets = []
    for k in range(40):
        black.pts, black.time_base = k, 1 / fps
        packets += enc.encode(black)
    packets += enc.encode(None)
    reorder = max(i - p.pts for i, p in enumerate(packets))
    return max(reorder, int(packets[0].pts - packets[0].dts))


def encoder_delay(settings: RenderSettings) -> int:
    """Most frames x264 decodes a picture ahead of its place, with these settings."""
    return _delay_of(settings.preset, settings.crf, settings.fps)


class _Sound:
    """The output's sound: mixed and encoded on a thread of its own while the pictures are made (encoding the
    whole length as AAC costs about as much as the pieces), muxed up to each piece's end as the pieces go in.

    What is muxed when depends only on sample positions, never on how far the thread got: same file, same bytes.
    """

    def __init__(self, out, timeline, settings: RenderSettings, frames: int):
        self.out = out
        self.stream = out.add_stream("aac", rate=SAMPLE_RATE, layout="stereo")
        self.stream.bit_rate = settings.audio_bitrate
        # the windows of the clips sounding now, as a full render keeps them
        windows = FrameCache(RENDER_AUDIO_WINDOWS * AUDIO_WINDOW * CHANNELS * 4, name="render audio")
        self.mixer = Mixer(timeline, Sources(FrameCache(0, name="render frames"), windows))
        self.fps = settings.fps
        self.sample0 = round(Fraction(settings.start) / edit_rate(timeline) * SAMPLE_RATE)
        self.total = frames  # of the output: the sound lasts as long
        self.encoded: queue.Queue = queue.Queue()  # (samples encoded after, packets), then None, or an error
        self.stop = threading.Event()
        self.pending: tuple | None = None
        self.thread = threading.Thread(target=self._encode, name="nbedit-smart-sound", daemon=True)

    def start(self) -> None:
        """Start encoding; the file's header, which opens the encoder, must be written first (on this thread)."""
        self.thread.start()

    def _encode(self) -> None:
        try:
            end = round(Fraction(self.total) / self.fps * SAMPLE_RATE)
            done = 0
            while done < end and not self.stop.is_set():
                # mixed a second at a time (the same samples as frame by frame: the mix is a function of the
                # sample position), which spares the mixer's work per call that a full render pays every frame
                n = min(MIX_BLOCK * AAC_FRAME, end - done)
                pcm = self.mixer.samples(self.sample0 + done, n)
                for i in range(0, n, AAC_FRAME):
                    part = np.ascontiguousarray(pcm[:, i : i + AAC_FRAME])
                    aac = av.AudioFrame.from_ndarray(part, format="fltp", layout="stereo")
                    aac.sample_rate = SAMPLE_RATE
                    aac.pts = done + i
                    self.encoded.put((done + i + part.shape[1], self.stream.encode(aac)))
                done += n
            self.encoded.put((end, self.stream.encode(None)))
            self.encoded.put(None)
        except BaseException as e:  # raised where the pieces are written
            self.encoded.put(e)

    def upto(self, frame: int, *, final: bool) -> None:
        """Mux the sound of whole AAC frames up to output frame ``frame`` (all the rest when final)."""
        upto = round(Fraction(frame) / self.fps * SAMPLE_RATE)
        while True:
            item = self.pending if self.pending is not None else self.encoded.get()
            self.pending = None
            if isinstance(item, BaseException):
                raise item
            if item is None:
                return
            if item[0] > upto and not final:
                self.pending = item
                return
            self.out.mux(item[1])

    def close(self) -> None:
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join()
