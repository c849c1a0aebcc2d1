"""Media files: probing, frame-exact video access, audio decoding and generated test sources.

Media time convention used everywhere in nbedit: media time 0.0 is the presentation time of the first video
frame (for audio-only files, of the first audio sample). A file whose stream starts at pts 10 s has its first
frame at media time 0.

    >>> from nbedit import media
    >>> path = media.testsrc("/tmp/clip.mp4", seconds=2, size=(320, 240))
    >>> info = media.probe(path)
    >>> info.fps, info.frame_count
    (Fraction(24, 1), 48)
    >>> with media.VideoReader(path, info=info) as reader:
    ...     media.read_counter(reader.frame_at(1.0))
    24
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import math
import os
import stat
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from typing import Any

import av
import numpy as np

from .args import LIMITS
from .errors import MediaError, TimeRangeError

__all__ = [
    "MediaInfo",
    "VideoReader",
    "draw_counter",
    "probe",
    "read_audio",
    "read_counter",
    "sha256_file",
    "testsrc",
    "tone",
]

# Frame times within this many seconds of a requested time count as "at" that time (float round-off).
_TIME_TOLERANCE = 1e-9
# Decoding a few frames forward is cheaper than a seek plus decoding from the keyframe.
_FORWARD_WINDOW = 16
# What a seek costs in frames decoded, beside those from the keyframe on (flushing and refilling the decoder).
SEEK_COST = 4
# Demuxers that hand a single picture file to a decoder (png_pipe, jpeg_pipe, image2...).
_IMAGE_FORMATS = ("image2", "image2pipe")


# ----------------------------------------------------------------------------------------------------
# Probing


@dataclass(frozen=True)
class MediaInfo:
    """What nbedit needs to know about one media file.

    ``rotation`` is the clockwise rotation (0, 90, 180 or 270) a player applies to the decoded picture for
    display; it is the value of the legacy ``rotate`` tag (a portrait phone video has 90). ``width`` and
    ``height`` are the displayed size, after that rotation.

        >>> info = probe("clip.mp4")
        >>> info.kind, info.width, info.height, str(info.fps)
        ('video', 320, 240, '24')
        >>> MediaInfo.from_dict(info.to_dict()) == info
        True
    """

    path: str
    kind: str
    sha256: str
    duration: float | None
    fps: Fraction | None
    width: int | None
    height: int | None
    pix_fmt: str | None
    rotation: int
    frame_count: int | None
    vfr: bool
    start_time: float
    audio_rate: int | None
    audio_channels: int | None
    audio_layout: str | None

    @property
    def has_video(self) -> bool:
        """True for video files and still images."""
        return self.kind in ("video", "image")

    @property
    def has_audio(self) -> bool:
        return self.audio_rate is not None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (fps as a ``"30000/1001"`` string)."""
        d = asdict(self)
        d["fps"] = None if self.fps is None else f"{self.fps.numerator}/{self.fps.denominator}"
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MediaInfo:
        """Inverse of :meth:`to_dict`."""
        d = dict(d)
        if d.get("fps") is not None:
            d["fps"] = Fraction(d["fps"])
        return cls(**d)


@dataclass
class _FrameIndex:
    """Video packet timestamps in presentation order, found by demuxing only."""

    pts: np.ndarray  # int64, sorted, in time_base units
    key_pts: list[int]  # sorted pts of keyframes
    time_base: Fraction
    durations: np.ndarray = field(repr=False)  # int64 packet durations matching pts (0 when unknown)

    def times(self) -> np.ndarray:
        """Seconds of each frame relative to the first one."""
        rel = (self.pts - self.pts[0]).astype(np.float64)
        return rel * self.time_base.numerator / self.time_base.denominator


def sha256_file(path: str | os.PathLike[str], chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks so large files need little memory.

    >>> len(sha256_file("clip.mp4"))
    64
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            h.update(chunk)
    return h.hexdigest()


def probe(path: str | os.PathLike[str]) -> MediaInfo:
    """Describe a media file (video, still image or audio) without decoding more than its first frame.

    Raises :class:`MediaError` naming the file when it is missing, unreadable or has no audio or video.

    >>> info = probe("clip.mp4")
    >>> info.kind, info.duration, info.audio_layout
    ('video', 4.0, 'stereo')
    """
    return _scan(path, with_hash=True)[0]


def _abspath(path: str | os.PathLike[str]) -> str:
    p = os.path.abspath(os.fspath(path))
    try:
        mode = os.stat(p).st_mode
    except FileNotFoundError:
        raise MediaError(f"media file not found: {p}") from None
    except OSError as e:  # a symlink loop, a name too long, no permission to look
        raise MediaError(f"cannot open media file {p}: {e.strerror or e}") from None
    if stat.S_ISDIR(mode):
        raise MediaError(f"{p} is a folder, not a media file: name a file in it")
    if stat.S_ISFIFO(mode):  # opening one would wait for a writer; decoding needs a file it can seek in
        raise MediaError(f"{p} is a pipe (FIFO), not a media file: nbedit reads files it can seek in")
    if not stat.S_ISREG(mode):
        raise MediaError(f"{p} is a device or socket, not a media file")
    return p


def ffmpeg_words(e: BaseException) -> str:
    """What FFmpeg's error means to an editor, without its error numbers or function names."""
    if isinstance(e, av.error.InvalidDataError):
        return "its data is not a picture, video or sound nbedit can read (damaged, cut short, or of another kind)"
    if isinstance(e, av.FFmpegError | OSError) and getattr(e, "strerror", None):
        return str(e.strerror)
    return str(e)


def _open(path: str, hwaccel: str | None = None) -> av.container.InputContainer:
    if os.path.getsize(path) == 0:
        raise MediaError(f"cannot open media file {path}: it is empty (0 bytes)")
    try:
        if hwaccel is not None:  # a stream the device cannot decode (a still image) falls back to software
            from av.codec.hwaccel import HWAccel

            return av.open(path, "r", hwaccel=HWAccel(hwaccel, allow_software_fallback=True))
        return av.open(path, "r")
    except (av.FFmpegError, OSError) as e:
        raise MediaError(f"cannot open media file {path}: {ffmpeg_words(e)}") from e


def _pick_streams(container: av.container.InputContainer) -> tuple[Any, Any]:
    """First real video stream (cover art is not video) and first audio stream, either may be None."""
    video = next((s for s in container.streams.video if not s.disposition & av.stream.Disposition.attached_pic), None)
    audio = next(iter(container.streams.audio), None)
    return video, audio


def _seconds(ts: int, time_base: Fraction) -> float:
    return float(ts * time_base)


def _display_rotation(frame: av.VideoFrame) -> int:
    # frame.rotation is FFmpeg's counter-clockwise angle of the display matrix; players undo it by turning the
    # picture clockwise by the opposite angle (FFmpeg's autorotate: -90 -> transpose=clock).
    return (-round(frame.rotation / 90) * 90) % 360


def _scan(path: str | os.PathLike[str], *, with_hash: bool) -> tuple[MediaInfo, _FrameIndex | None]:
    """One demux pass over the file: MediaInfo plus the video frame index (None for audio-only)."""
    p = _abspath(path)
    container = _open(p)
    try:
        try:
            return _scan_container(p, container, with_hash=with_hash)
        except av.FFmpegError as e:
            raise MediaError(f"cannot read media file {p}: {ffmpeg_words(e)}") from e
    finally:
        container.close()


@dataclass
class _Demuxed:
    """What one pass over the packets found (plus the first decoded frame of each stream)."""

    vpts: list[int] = field(default_factory=list)
    vdur: list[int] = field(default_factory=list)
    vkey: list[int] = field(default_factory=list)
    aend: int | None = None  # end of the last audio packet, in the audio time base
    first_vframe: av.VideoFrame | None = None
    first_aframe: av.AudioFrame | None = None


def _demux(p: str, container: av.container.InputContainer, vstream: Any, astream: Any) -> _Demuxed:
    d = _Demuxed()
    for packet in container.demux([s for s in (vstream, astream) if s is not None]):
        if packet.stream is vstream:
            if packet.size:
                ts = packet.pts if packet.pts is not None else packet.dts
                if ts is None:
                    raise MediaError(f"video packets without timestamps in {p}: cannot index frames")
                d.vpts.append(ts)
                d.vdur.append(packet.duration or 0)
                if packet.is_keyframe:
                    d.vkey.append(ts)
            # Decode only until the first frame: it carries the display rotation and the real picture size.
            if d.first_vframe is None:
                d.first_vframe = next(iter(vstream.decode(packet)), None)
        else:
            if packet.size and packet.pts is not None:
                end = packet.pts + (packet.duration or 0)
                d.aend = end if d.aend is None else max(d.aend, end)
            if d.first_aframe is None:
                d.first_aframe = next(iter(astream.decode(packet)), None)
    return d


def _scan_container(
    p: str, container: av.container.InputContainer, *, with_hash: bool
) -> tuple[MediaInfo, _FrameIndex | None]:
    vstream, astream = _pick_streams(container)
    if vstream is None and astream is None:
        raise MediaError(f"no audio or video stream in media file {p}")
    if vstream is not None:  # before decoding anything: a huge picture costs gigabytes to decode
        w, h = vstream.codec_context.width or 0, vstream.codec_context.height or 0
        if w * h > LIMITS.max_pixels:
            raise MediaError(
                f"{p} is a {w}x{h} picture ({w * h / 1e6:.0f} megapixels): the limit is "
                f"{LIMITS.max_pixels / 1e6:.0f} (nbedit.args.LIMITS.max_pixels)"
            )
    d = _demux(p, container, vstream, astream)

    audio: dict[str, Any] = {"audio_rate": None, "audio_channels": None, "audio_layout": None}
    if astream is not None:
        layout = astream.codec_context.layout
        name = layout.name
        if name.endswith(" channels"):
            # WAV and raw PCM leave the channel order unspecified; report the usual layout for the count.
            name = av.AudioLayout(_layout_name(layout.nb_channels)).name
        audio = {
            "audio_rate": astream.codec_context.sample_rate,
            "audio_channels": layout.nb_channels,
            "audio_layout": name,
        }
    sha = sha256_file(p) if with_hash else ""

    if vstream is not None and d.vpts:
        if d.first_vframe is None:
            raise MediaError(f"no decodable video frame in media file {p}")
        order = np.argsort(np.asarray(d.vpts, dtype=np.int64), kind="stable")
        index = _FrameIndex(
            pts=np.asarray(d.vpts, dtype=np.int64)[order],
            key_pts=sorted(d.vkey) or [min(d.vpts)],
            time_base=vstream.time_base,
            durations=np.asarray(d.vdur, dtype=np.int64)[order],
        )
        is_image = len(index.pts) == 1 and (
            container.format.name in _IMAGE_FORMATS or container.format.name.endswith("_pipe")
        )
        video = _video_fields(vstream, index, d.first_vframe, is_image)
        return MediaInfo(path=p, kind="image" if is_image else "video", sha256=sha, **video, **audio), index

    if astream is None:
        raise MediaError(f"no video frames and no audio stream in media file {p}")
    if d.first_aframe is None or d.aend is None:
        raise MediaError(f"no decodable audio in media file {p}")
    # The decoder drops encoder priming samples, so the first decoded frame (not packet) is the true start.
    first = d.first_aframe
    start = float(first.pts * first.time_base) if first.pts is not None and first.time_base else 0.0
    return MediaInfo(
        path=p,
        kind="audio",
        sha256=sha,
        duration=max(0.0, _seconds(d.aend, astream.time_base) - start),
        fps=None,
        width=None,
        height=None,
        pix_fmt=None,
        rotation=0,
        frame_count=None,
        vfr=False,
        start_time=start,
        **audio,
    ), None


def _video_fields(vstream: Any, index: _FrameIndex, first: av.VideoFrame, is_image: bool) -> dict[str, Any]:
    rotation = _display_rotation(first)
    w, h = (first.height, first.width) if rotation in (90, 270) else (first.width, first.height)
    fields: dict[str, Any] = {
        "width": w,
        "height": h,
        "pix_fmt": first.format.name,
        "rotation": rotation,
        "frame_count": len(index.pts),
    }
    if is_image:
        return {**fields, "duration": None, "fps": None, "vfr": False, "start_time": 0.0}
    steps = np.diff(index.pts)
    # Muxers round each timestamp to their time base: steps of a constant rate may differ by a tick.
    vfr = bool(len(steps) > 1 and steps.max() - steps.min() > 1)
    last = int(index.durations[-1]) or (int(np.median(steps)) if len(steps) else 0)
    # a variable-rate clip (a phone's, in low light) reports its nominal rate, as editors conform it to that:
    # its average (225/13 fps, say) is a rate no other editor uses; frames are still found by their times
    rate = (vstream.guessed_rate or vstream.average_rate) if vfr else (vstream.average_rate or vstream.guessed_rate)
    if rate:
        rate = Fraction(rate).limit_denominator(1001)
    return {
        **fields,
        "duration": _seconds(int(index.pts[-1]) + last - int(index.pts[0]), index.time_base),
        "fps": Fraction(rate) if rate else None,
        "vfr": vfr,
        "start_time": _seconds(int(index.pts[0]), index.time_base),
    }


# ----------------------------------------------------------------------------------------------------
# Video frames


class VideoReader:
    """Frame-exact random access to one video (or still image) file.

    Frames are found by their presentation timestamps, indexed up front by demuxing (no decoding), so access
    is exact with B-frames, variable frame rate and non-zero start times. Reading forward does not seek.

        >>> reader = VideoReader("clip.mp4")     # testsrc defaults: 4 s at 24 fps
        >>> len(reader), reader.frame_times[1]
        (96, 0.041666666666666664)
        >>> img = reader.frame_at(2.0)           # (H, W, 3) uint8 RGB, display rotation applied
        >>> reader.close()                       # or use it as a context manager

    ``frame_pts`` holds the same start times exactly, as integer ticks of ``time_base`` from the first frame
    (to copy a file's timing without float round-off):

        >>> reader.frame_pts[1], reader.time_base
        (3750, Fraction(1, 90000))

    ``seeks`` counts container seeks and ``decoded`` decoded frames, for tests and profiling.

    ``hwaccel="cuda"`` decodes on the GPU (NVDEC) where FFmpeg can: the frames come back to memory in the
    device's format (nv12 for 8-bit 4:2:0), the same pictures as software decoding gives.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        threads: int = 0,
        info: MediaInfo | None = None,
        hwaccel: str | None = None,
    ):
        p = _abspath(path)
        if info is None:
            info, index = _scan(p, with_hash=True)
        else:
            index = _scan(p, with_hash=False)[1]
        if index is None or not info.has_video:
            raise MediaError(f"no video stream in media file {p}")
        self._setup(p, info, index, threads, hwaccel)

    def _setup(self, p: str, info: MediaInfo, index: _FrameIndex, threads: int, hwaccel: str | None = None) -> None:
        self.info: MediaInfo = info
        self.path = p
        self.frame_times: np.ndarray = index.times()
        self.frame_pts: np.ndarray = index.pts - index.pts[0]
        self.time_base: Fraction = index.time_base
        self.seeks = 0
        self.decoded = 0
        self._index = index
        self._threads = threads
        self.hwaccel = hwaccel
        self._pos_of = {int(ts): i for i, ts in enumerate(index.pts)}
        self._rot_k = -(info.rotation // 90)  # np.rot90 turns counter-clockwise for positive k
        self._container: av.container.InputContainer | None = None
        self._frames: Generator[av.VideoFrame, None, None] | None = None
        # Presentation index of the last decoded frame; -1 = fresh container, None = unknown (seek first).
        self._pos: int | None = None
        self._last: tuple[int, av.VideoFrame] | None = None
        self._reopen()

    def twin(self) -> VideoReader:
        """A second reader of the same file with a decoder of its own, sharing this one's frame index (no
        second scan): two views of one file, each read forward, never seek each other away.

            >>> inset = reader.twin()
        """
        other = VideoReader.__new__(VideoReader)
        other._setup(self.path, self.info, self._index, self._threads, self.hwaccel)
        return other

    def cost(self, i: int) -> int:
        """About how many frames this reader decodes to give frame ``i`` from where it stands: the frames
        between when it reads forward, else the seek plus the frames from the keyframe before ``i``.

            >>> reader.cost(reader.position + 1)
            1
        """
        if self._last is not None and self._last[0] == i:
            return 0
        pos = self._pos
        if pos is not None and pos < i and (i - pos <= _FORWARD_WINDOW or not self._keyframe_between(pos, i)):
            return i - pos
        return self.seek_cost(i)

    def seek_cost(self, i: int) -> int:
        """What reaching frame ``i`` by a seek costs, in the units of :meth:`cost`: reading forward costs less."""
        k = bisect.bisect_right(self._index.key_pts, int(self._index.pts[i])) - 1
        key = self._pos_of.get(int(self._index.key_pts[max(k, 0)]), 0)
        return SEEK_COST + max(0, i - key)

    @property
    def position(self) -> int | None:
        """Presentation index of the frame decoded last (-1: none yet, None: unknown until the next seek)."""
        return self._pos

    def __len__(self) -> int:
        return len(self.frame_times)

    @property
    def keyframes(self) -> int:
        """How many frames are keyframes: far fewer than ``len(self)`` means slow random access (long GOP)."""
        return len(self._index.key_pts)

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the file; the reader cannot be used afterwards."""
        if self._frames is not None:
            self._frames.close()
            self._frames = None
        if self._container is not None:
            self._container.close()
            self._container = None
        self._last = None

    def index_at(self, t: float) -> int:
        """Index of the frame displayed at media time ``t``: the last frame starting at or before ``t``.

        Times past the end give the last frame.

            >>> reader.index_at(0.05)   # 24 fps: frame 1 shows from 0.0417 s to 0.0833 s
            1
        """
        t = float(t)
        if not t >= -_TIME_TOLERANCE:  # also rejects NaN
            raise TimeRangeError(f"media time {t} is before the start of {self.path}")
        i = int(np.searchsorted(self.frame_times, t + _TIME_TOLERANCE, side="right")) - 1
        return min(max(i, 0), len(self) - 1)

    def frame_at(self, t: float) -> np.ndarray:
        """The frame displayed at media time ``t`` as (H, W, 3) uint8 RGB.

        >>> reader.frame_at(1.0).shape
        (240, 320, 3)
        """
        return self.frame(self.index_at(t))

    def frame(self, i: int) -> np.ndarray:
        """Frame ``i`` (presentation order) as (H, W, 3) uint8 RGB with the display rotation applied.

        >>> img = reader.frame(10)
        """
        arr = self.video_frame(i).to_ndarray(format="rgb24")
        if self._rot_k:
            arr = np.ascontiguousarray(np.rot90(arr, self._rot_k))
        return arr

    def video_frame(self, i: int) -> av.VideoFrame:
        """Frame ``i`` as it was decoded (source pixel format, no rotation), to hand to an encoder untouched.

        >>> reader.video_frame(10).format.name
        'yuv420p'
        """
        if isinstance(i, bool) or not isinstance(i, int | np.integer):
            raise TypeError(f"frame index must be an int, not {type(i).__name__}")
        i = int(i)
        if not 0 <= i < len(self):
            raise TimeRangeError(f"frame {i} out of range 0..{len(self) - 1} in {self.path}")
        if self._container is None:
            raise MediaError(f"reader for {self.path} is closed")
        if self._last is not None and self._last[0] == i:
            return self._last[1]  # still images and repeated frames: decode once
        frame = self._decode(i)
        self._last = (i, frame)
        return frame

    # -- decoding ------------------------------------------------------------------------------------------

    def _decode(self, i: int) -> av.VideoFrame:
        pos = self._pos
        if pos is not None and pos < i and (i - pos <= _FORWARD_WINDOW or not self._keyframe_between(pos, i)):
            frame = self._decode_forward(i, just_sought=False)
            if frame is None:
                raise MediaError(f"cannot decode frame {i} of {self.path}")
            return frame
        return self._seek_and_decode(i)

    def _keyframe_between(self, pos: int, i: int) -> bool:
        """Is there a keyframe after frame ``pos``, at or before frame ``i``? Then seeking beats decoding."""
        lo = self._index.pts[pos] if pos >= 0 else self._index.pts[0] - 1
        k = bisect.bisect_right(self._index.key_pts, int(lo))
        return k < len(self._index.key_pts) and self._index.key_pts[k] <= self._index.pts[i]

    def _seek_and_decode(self, i: int) -> av.VideoFrame:
        target = int(self._index.pts[i])
        k = bisect.bisect_right(self._index.key_pts, target) - 1
        # If the demuxer lands after the target (MP4 seeks by dts, some indexes are coarse), try the keyframe
        # before; if that fails too, decode from the very beginning (None), which cannot overshoot.
        for key in (k, k - 1, None):
            if key is not None and key < 0:
                continue
            if key is None:
                self._reopen()
                self.seeks += 1
            else:
                self._seek(self._index.key_pts[key])
            frame = self._decode_forward(i, just_sought=True)
            if frame is not None:
                return frame
        raise MediaError(f"cannot reach frame {i} (pts {target}) of {self.path}")

    def _decode_forward(self, i: int, *, just_sought: bool) -> av.VideoFrame | None:
        """Decode until frame ``i`` comes out; None when a fresh seek already overshot it."""
        assert self._frames is not None
        target = int(self._index.pts[i])
        first = just_sought
        for frame in self._frames:
            self.decoded += 1
            ts = frame.pts if frame.pts is not None else frame.dts
            if ts is None:
                raise MediaError(f"decoded frame without timestamp in {self.path}")
            if ts > target:
                self._pos = self._pos_of.get(ts)
                if first:
                    return None
                raise MediaError(f"frame {i} (pts {target}) of {self.path} did not decode")
            first = False
            if ts in self._pos_of:
                self._pos = self._pos_of[ts]
            if ts == target:
                return frame
        self._pos = None  # end of stream: the decoder must be reset by a seek
        if just_sought and first:
            return None
        raise MediaError(f"frame {i} (pts {target}) of {self.path} did not decode before the end of the file")

    def _seek(self, ts: int) -> None:
        assert self._container is not None
        self._drop_frames()
        try:
            self._container.seek(ts, stream=self._stream, backward=True)
        except av.FFmpegError as e:
            raise MediaError(f"cannot seek in {self.path}: {ffmpeg_words(e)}") from e
        self.seeks += 1
        self._frames = self._frame_iter()
        self._pos = None

    def _reopen(self) -> None:
        self._drop_frames()
        if self._container is not None:
            self._container.close()
        self._container = _open(self.path, self.hwaccel)
        self._stream = _pick_streams(self._container)[0]
        if self._stream is None:
            raise MediaError(f"no video stream in media file {self.path}")
        self._stream.codec_context.thread_count = self._threads
        if self._threads != 1:
            self._stream.thread_type = "AUTO"
        self._frames = self._frame_iter()
        self._pos = -1

    def _drop_frames(self) -> None:
        if self._frames is not None:
            self._frames.close()
            self._frames = None

    def _frame_iter(self) -> Generator[av.VideoFrame, None, None]:
        assert self._container is not None
        try:
            # demux() ends with an empty packet per stream, which flushes the decoder's delayed frames.
            for packet in self._container.demux(self._stream):
                yield from packet.decode()
        except av.FFmpegError as e:
            raise MediaError(f"cannot decode {self.path}: {ffmpeg_words(e)}") from e


# ----------------------------------------------------------------------------------------------------
# Audio


def _layout_name(channels: int) -> str:
    if channels < 1:
        raise ValueError(f"channels must be >= 1, not {channels}")
    return {1: "mono", 2: "stereo"}.get(channels, f"{channels}c")


def read_audio(
    path: str | os.PathLike[str],
    *,
    rate: int = 48000,
    channels: int = 2,
    info: MediaInfo | None = None,
    start: int = 0,
    count: int | None = None,
) -> np.ndarray:
    """Decode the first audio stream as float32 (channels, samples), resampled to ``rate``/``channels``.

    Sample 0 is media time 0 (the first video frame, or the first audio sample for audio-only files): audio
    that starts later is padded with silence in front, audio that starts earlier is cut.

        >>> pcm = read_audio("clip.mp4", rate=48000, channels=2)
        >>> pcm.shape, pcm.dtype                # 4 s, plus the AAC encoder's padding of its last frame
        ((2, 192512), dtype('float32'))

    With ``count``, only samples ``start`` to ``start + count`` (silence where the file has none): the decoder
    seeks near ``start`` and stops after the window, so a long file is never decoded whole.

        >>> read_audio("clip.mp4", start=48000, count=4800).shape
        (2, 4800)
    """
    p = _abspath(path)
    if info is None:
        info = _scan(p, with_hash=False)[0]
    if not info.has_audio:
        raise MediaError(f"no audio stream in media file {p}")
    if count is not None and count < 0:
        raise ValueError(f"count must not be negative, not {count}")
    seek = count is not None and start / rate - _AUDIO_PREROLL > 0
    try:
        pos0, pcm = _decode_audio(p, info, rate, channels, start if seek else None, count)
    except _Overshot:  # a coarse index, or no timestamps to say where the seek landed: from the top
        pos0, pcm = _decode_audio(p, info, rate, channels, None, None if count is None else start + count)
    if count is None:
        start, count = 0, max(0, (pos0 or 0) + pcm.shape[1])
    out = np.zeros((channels, count), np.float32)
    if pos0 is not None:
        lo, hi = max(start, pos0), min(start + count, pos0 + pcm.shape[1])
        if hi > lo:
            out[:, lo - start : hi - start] = pcm[:, lo - pos0 : hi - pos0]
    return out


# Decoding starts this long before a window: an AAC frame needs the one before it to decode right.
_AUDIO_PREROLL = 0.2


class _Overshot(Exception):
    """A seek landed after the window it was for, or somewhere its frames do not say."""


def _decode_audio(
    p: str, info: MediaInfo, rate: int, channels: int, seek_to: int | None, count: int | None
) -> tuple[int | None, np.ndarray]:
    """(position of the first sample in media samples, samples) from ``seek_to`` (None: the top) to past
    ``seek_to + count`` (None: the end). The position is None when nothing decoded."""
    resampler = av.AudioResampler(format="fltp", layout=_layout_name(channels), rate=rate)
    chunks: list[np.ndarray] = []
    pos0: int | None = None
    done = 0
    container = _open(p)
    try:
        astream = _pick_streams(container)[1]
        if astream is None:
            raise MediaError(f"no audio stream in media file {p}")
        if seek_to is not None:
            t = seek_to / rate - _AUDIO_PREROLL + info.start_time
            container.seek(int(Fraction(t).limit_denominator(10**9) / astream.time_base), stream=astream)
        # a little past the window: the resampler holds back a few samples of what it was given
        end = None if count is None else (seek_to or 0) + count + rate // 10
        for frame in container.decode(astream):
            if pos0 is None:
                if seek_to is not None and frame.pts is None:
                    raise _Overshot
                first = float(frame.pts * frame.time_base) if frame.pts is not None else info.start_time
                pos0 = round((first - info.start_time) * rate)
                if seek_to is not None and pos0 > seek_to:
                    raise _Overshot
            for f in resampler.resample(frame):
                chunks.append(f.to_ndarray())
                done += f.samples
            if end is not None and pos0 + done >= end:
                break
        else:
            chunks.extend(f.to_ndarray() for f in resampler.resample(None))
    except av.FFmpegError as e:
        raise MediaError(f"cannot decode audio of {p}: {ffmpeg_words(e)}") from e
    finally:
        container.close()
    pcm = np.concatenate(chunks, axis=1) if chunks else np.zeros((channels, 0), np.float32)
    return pos0, np.ascontiguousarray(pcm, dtype=np.float32)


# ----------------------------------------------------------------------------------------------------
# Seven-segment frame counter


# Segments a..g: top, top-right, bottom-right, bottom, bottom-left, top-left, middle.
_DIGITS = {
    0: "abcdef",
    1: "bc",
    2: "abdeg",
    3: "abcdg",
    4: "bcfg",
    5: "acdfg",
    6: "acdefg",
    7: "abc",
    8: "abcdefg",
    9: "abcdfg",
}
_PATTERNS = {frozenset(v): k for k, v in _DIGITS.items()}
_MAX_DIGITS = 5
# Segment rectangles in units of the stroke width t, inside a 5t x 9t digit cell: (row0, row1, col0, col1).
_SEGMENT_BOXES = {
    "a": (0, 1, 0, 5),
    "b": (0, 5, 4, 5),
    "c": (4, 9, 4, 5),
    "d": (8, 9, 0, 5),
    "e": (4, 9, 0, 1),
    "f": (0, 5, 0, 1),
    "g": (4, 5, 0, 5),
}
# Where to sample each segment (row, col in units of t): its middle, away from the joints.
_SEGMENT_CENTRES = {
    "a": (0.5, 2.5),
    "b": (2.5, 4.5),
    "c": (6.5, 4.5),
    "d": (8.5, 2.5),
    "e": (6.5, 0.5),
    "f": (2.5, 0.5),
    "g": (4.5, 2.5),
}
_HOLES = ((2.5, 2.5), (6.5, 2.5))  # inside the two loops of an 8: never lit


def _counter_geometry(height: int, width: int) -> tuple[int, list[tuple[int, int]]]:
    """Stroke width and the top-left corner of each digit cell, scaled with the frame size."""
    # The box spans 36t x 12t; keep it inside the frame and big enough to survive lossy compression.
    t = max(1, min(min(height, width) // 40, (width - 1) // 37, (height - 1) // 13))
    return t, [(2 * t, 2 * t + 7 * t * k) for k in range(_MAX_DIGITS)]


def draw_counter(img: np.ndarray, n: int) -> None:
    """Draw ``n`` (0..99999) in place as white seven-segment digits on a black box at the top left.

    >>> img = np.zeros((240, 320, 3), np.uint8)
    >>> draw_counter(img, 42)
    >>> read_counter(img)
    42
    """
    if not 0 <= n < 10**_MAX_DIGITS:
        raise ValueError(f"counter {n} out of range 0..{10**_MAX_DIGITS - 1}")
    t, cells = _counter_geometry(img.shape[0], img.shape[1])
    img[t : 12 * t, t : 36 * t] = 0
    digits = str(n).rjust(_MAX_DIGITS)
    for (y, x), ch in zip(cells, digits, strict=True):
        if ch == " ":
            continue
        for seg in _DIGITS[int(ch)]:
            r0, r1, c0, c1 = _SEGMENT_BOXES[seg]
            img[y + r0 * t : y + r1 * t, x + c0 * t : x + c1 * t] = 255


def read_counter(img: np.ndarray) -> int:
    """Read back the number drawn by :func:`draw_counter`, also after lossy encoding and decoding.

    Raises ValueError when the box does not hold a valid number.

    >>> read_counter(reader.frame(17))
    17
    """
    t, cells = _counter_geometry(img.shape[0], img.shape[1])
    luma = img.astype(np.float32).mean(axis=2) if img.ndim == 3 else img.astype(np.float32)
    r = max(0, t // 4)

    def lit(y: float, x: float) -> bool:
        cy, cx = int(y), int(x)
        return float(luma[cy - r : cy + r + 1, cx - r : cx + r + 1].mean()) > 128

    text = ""
    for y, x in cells:
        if any(lit(y + hy * t, x + hx * t) for hy, hx in _HOLES):
            raise ValueError("no frame counter found (counter box is not dark)")
        segs = frozenset(s for s, (sy, sx) in _SEGMENT_CENTRES.items() if lit(y + sy * t, x + sx * t))
        if not segs:
            if text:
                raise ValueError("gap inside the frame counter")
            continue
        if segs not in _PATTERNS:
            raise ValueError(f"unreadable digit (segments {''.join(sorted(segs))})")
        text += str(_PATTERNS[segs])
    if not text:
        raise ValueError("no frame counter found (no digits)")
    return int(text)


# ----------------------------------------------------------------------------------------------------
# Generated sources


def _fine_time_base(fps: Fraction) -> tuple[Fraction, int]:
    """A time base of at least 1/90000 s in which one frame lasts a whole number of ticks."""
    k = max(1, math.ceil(90000 / fps.numerator))
    return Fraction(1, fps.numerator * k), fps.denominator * k


def _background(height: int, width: int, variant: int) -> np.ndarray:
    """Vertical colour bars (hues set by ``variant``) darkening towards the bottom; scrolled per frame."""
    x = np.arange(width) / width
    hue = (np.floor(x * 8) / 8 + 0.37 * variant) % 1.0
    phases = np.array([0.0, 1 / 3, 2 / 3])
    row = 0.5 + 0.5 * np.cos(2 * np.pi * (hue[:, None] + phases[None, :]))  # (W, 3) in 0..1
    shade = 0.55 + 0.45 * (1 - np.arange(height) / height)  # (H,)
    return np.round(40 + 175 * row[None, :, :] * shade[:, None, None]).astype(np.uint8)


def _testsrc_picture(base: np.ndarray, n: int) -> np.ndarray:
    h, w = base.shape[:2]
    img = np.roll(base, 2 * n, axis=1)
    side = max(2, h // 5)
    x = (4 * n) % max(1, w - side)
    y = h - side - h // 10
    img[y : y + side, x : x + side] = 255 - img[y : y + side, x : x + side]
    draw_counter(img, n)
    return img


def _testsrc_audio(
    n_samples: int, first: float, rate: int, tone_hz: float, with_beeps: bool, gain: float = 0.25
) -> np.ndarray:
    """Tone plus a 0.1 s beep at three times the pitch at every whole second of media time."""
    tau = first + np.arange(n_samples) / rate  # media time of each sample
    pcm = gain * np.sin(2 * np.pi * tone_hz * tau)
    if with_beeps:
        beep = (tau >= 0) & (np.mod(tau, 1.0) < 0.1)
        pcm = pcm + beep * gain * np.sin(2 * np.pi * 3 * tone_hz * tau)
    return pcm.astype(np.float32)


# scenecut=0: keyframes exactly every `gop` frames; b-adapt=0: always use `bframes` B-frames. mbtree=0:
# x264's macroblock-tree (with its SIMD code on this build) gives different bytes from run to run.
_X264_PARAMS = "scenecut=0:b-adapt=0:mbtree=0"


@contextmanager
def _writing(path: str) -> Iterator[av.container.OutputContainer]:
    """An output container for ``path``; a failure part way removes the half-written file."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # bitexact: no library versions or random ids (Matroska UIDs) in the file, so same args -> same bytes.
    container = av.open(path, "w", options={"fflags": "+bitexact"})
    try:
        yield container
    except BaseException:
        container.close()
        if os.path.exists(path):
            os.remove(path)
        raise
    container.close()


def testsrc(
    path: str | os.PathLike[str],
    *,
    seconds: float = 4.0,
    fps: int | Fraction = 24,
    size: tuple[int, int] = (320, 240),
    variant: int = 0,
    audio: bool = True,
    tone_hz: float = 440.0,
    gop: int = 12,
    bframes: int = 2,
    crf: int = 18,
    start_time: float = 0.0,
    vfr: bool = False,
    rotation: int = 0,
    audio_delay: float = 0.0,
) -> str:
    """Write a generated H.264 (+ AAC) test video and return its absolute path. Same args, same bytes.

    The picture scrolls colour bars (hues depend on ``variant``) under a moving square and shows its frame
    number in seven-segment digits (:func:`read_counter` reads it back). The audio is a ``tone_hz`` sine with
    a 0.1 s beep at every whole second of media time. ``gop`` is the keyframe interval, ``bframes`` the number
    of consecutive B-frames (always used). ``start_time`` makes the streams start at that pts; ``vfr``
    alternates frame durations of 1/fps and 2/fps. ``rotation`` (0/90/180/270, clockwise) stores the picture
    turned the other way with a display matrix, so the displayed picture is upright. ``audio_delay`` starts
    the audio that many seconds after the first frame (negative: before it). ``size`` is the displayed
    (width, height), even numbers; the counter is readable from about 100 pixels up and up to frame 99999.

        >>> path = testsrc("/tmp/a.mp4", seconds=2, fps=Fraction(30000, 1001), size=(160, 120), bframes=3)
    """
    p = os.path.abspath(os.fspath(path))
    fps = Fraction(fps)
    width, height = size
    if width % 2 or height % 2 or width <= 0 or height <= 0:
        raise ValueError(f"size must be positive and even for yuv420p, not {size}")
    if rotation not in (0, 90, 180, 270):
        raise ValueError(f"rotation must be 0, 90, 180 or 270, not {rotation}")
    if seconds <= 0 or fps <= 0:
        raise ValueError("seconds and fps must be positive")
    if start_time < 0 or start_time + audio_delay < 0:
        raise ValueError("start_time and start_time + audio_delay must not be negative")

    tb, ticks = _fine_time_base(fps)
    # Frame start times in ticks, relative to the first frame; vfr alternates 1 and 2 frame durations.
    frame_ticks: list[int] = []
    t = 0
    while t * tb < seconds:
        frame_ticks.append(t)
        t += ticks * (2 if vfr and len(frame_ticks) % 2 == 0 else 1)
    frame_ticks.append(t)  # end of the last frame
    start_ticks = round(Fraction(start_time) / tb)

    with _writing(p) as container:
        vs = container.add_stream("libx264", rate=fps)
        coded_w, coded_h = (height, width) if rotation in (90, 270) else (width, height)
        vs.width, vs.height, vs.pix_fmt = coded_w, coded_h, "yuv420p"
        vs.time_base = tb
        cc = vs.codec_context
        cc.time_base = tb
        cc.gop_size = gop
        cc.max_b_frames = bframes
        cc.thread_count = 1  # x264's output depends on its thread count
        vs.options = {"crf": str(crf), "preset": "veryfast", "x264-params": _X264_PARAMS}
        if rotation:
            vs.set_display_matrix(_rotation_matrix(rotation))

        arate = 48000
        astream = pcm = None
        if audio:
            astream = container.add_stream("aac", rate=arate)
            astream.layout = "stereo"
            a_first = round(audio_delay * arate)  # media time of the first sample, in samples
            n = round(seconds * arate) - a_first
            mono = _testsrc_audio(max(0, n), a_first / arate, arate, tone_hz, with_beeps=True)
            pcm = np.stack([mono, mono])
            a_pts0 = round(start_time * arate) + a_first
        a_done = 0

        def write_audio(until: float | None) -> None:
            # Interleave: emit audio up to media time `until` (None: everything and flush).
            nonlocal a_done
            if astream is None or pcm is None:
                return
            frame_size = 1024
            while a_done < pcm.shape[1] and (until is None or a_first + a_done < until * arate):
                chunk = np.ascontiguousarray(pcm[:, a_done : a_done + frame_size])
                frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
                frame.sample_rate = arate
                frame.pts = a_pts0 + a_done
                frame.time_base = Fraction(1, arate)
                container.mux(astream.encode(frame))
                a_done += chunk.shape[1]
            if until is None:
                container.mux(astream.encode(None))

        durations: dict[int, int] = {}

        def mux_video(packets: list[av.Packet]) -> None:
            # x264 packets come without durations; the muxer would then give the last frame 1/fps.
            for packet in packets:
                packet.duration = durations.pop(packet.pts)
            container.mux(packets)

        base = _background(height, width, variant)
        for n, (ft, next_ft) in enumerate(itertools.pairwise(frame_ticks)):
            img = _testsrc_picture(base, n)
            if rotation:
                img = np.ascontiguousarray(np.rot90(img, rotation // 90))  # undone by the display matrix
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = start_ticks + ft
            frame.time_base = tb
            durations[frame.pts] = next_ft - ft
            mux_video(vs.encode(frame))
            write_audio(float(next_ft * tb))
        mux_video(vs.encode(None))
        write_audio(None)
    return p


def _rotation_matrix(rotation: int) -> list[int]:
    """QuickTime/FFmpeg display matrix (16.16 fixed point, last column 2.30) turning the picture clockwise."""
    one = 1 << 16
    cos, sin = {0: (1, 0), 90: (0, 1), 180: (-1, 0), 270: (0, -1)}[rotation]
    return [cos * one, sin * one, 0, -sin * one, cos * one, 0, 0, 0, 1 << 30]


def tone(
    path: str | os.PathLike[str],
    *,
    seconds: float = 4.0,
    hz: float = 440.0,
    rate: int = 48000,
    channels: int = 2,
    gain: float = 0.3,
) -> str:
    """Write an audio-only sine tone (.wav as 16-bit PCM, .m4a/.mp4 as AAC) and return its absolute path.

    >>> tone("/tmp/a.wav", seconds=1, hz=1000, channels=1)
    '/tmp/a.wav'
    """
    p = os.path.abspath(os.fspath(path))
    ext = os.path.splitext(p)[1].lower()
    codec, fmt = ("pcm_s16le", "s16") if ext == ".wav" else ("aac", "fltp")
    layout = _layout_name(channels)
    mono = _testsrc_audio(round(seconds * rate), 0.0, rate, hz, with_beeps=False, gain=gain)
    pcm = np.repeat(mono[None, :], channels, axis=0)
    with _writing(p) as container:
        stream = container.add_stream(codec, rate=rate)
        stream.layout = layout
        frame_size = 1024
        for start in range(0, pcm.shape[1], frame_size):
            chunk = np.ascontiguousarray(pcm[:, start : start + frame_size])
            if fmt == "s16":
                # Packed s16 wants one interleaved row.
                chunk = np.round(chunk.T * 32767).astype(np.int16).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(chunk, format=fmt, layout=layout)
            frame.sample_rate = rate
            frame.pts = start
            frame.time_base = Fraction(1, rate)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return p
