"""Rendering beyond one process: the output cut into segments of whole GOPs, each encoded on its own (on Dask
workers, or here one after another), joined packet for packet into one file, with the sound mixed once here.

    from dask.distributed import Client
    client = Client("tcp://scheduler:8786")                 # an existing cluster; Client() starts one here
    s.render("out.mp4", scheduler="dask", client=client)    # client=None takes the running default client
    s.render("out.mp4", scheduler="segments")               # the same segments, rendered in this process

Workers get the timeline as OTIO JSON and read the media by the paths the project holds, so they need nbedit
installed and the media at the same paths (a shared filesystem); a worker that cannot see a file refuses its
segment rather than render it as offline. Segments come back as bytes to the caller, which writes the file.

x264's rate control carries history from frame to frame, so a segmented encode is not bit-identical to one
continuous encode (their frames agree within encoding noise, above 45 dB here). The segment plan is a pure
function of the settings and the ``segments`` asked for, so ``scheduler="dask"`` and ``scheduler="segments"``
make the same file, frame for frame, wherever the workers are.

Nothing here imports ``dask.distributed`` until a call asks for it: it is the optional extra ``nbedit[dask]``.
"""

from __future__ import annotations

import io
import math
import os
import socket
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import opentimelineio as otio

from . import model
from .cache import FrameCache
from .errors import EditError, RenderError
from .model import edit_rate
from .render import (
    AUDIO_WINDOW,
    CHANNELS,
    RENDER_AUDIO_WINDOWS,
    SAMPLE_RATE,
    Mixer,
    RenderSettings,
    Sources,
    check_target,
    output_frames,
    partial_file,
    publish,
)
from .render import render as render_file
from .timeline import audio_tracks

SCHEDULERS = ("local", "segments", "dask")
SEGMENT_GOPS = 5  # GOPs in a segment when the call does not say how many segments (10 s of output)
AAC_FRAME = 1024
# x264's output depends on its thread count, which it takes from the machine's cores: fixed, every worker's
# encode of a segment is the same bytes, whatever machine it lands on
SEGMENT_THREADS = 4


class SchedulerError(RenderError, EditError):
    """No Dask client to run on, or workers that cannot do the work (nbedit or the media missing there)."""


@dataclass(frozen=True)
class Segment:
    """Output frames ``first`` to ``end`` (not included) of a render, encoded as a file of their own."""

    first: int
    end: int


def gop_frames(settings: RenderSettings) -> int:
    """Frames in one GOP of the output: render() closes one every 2 s (its encoder's gop_size)."""
    return max(1, round(float(settings.fps) * 2))


def segment_plan(settings: RenderSettings, rate: Fraction, segments: int | None = None) -> list[Segment]:
    """The segments of a render: whole GOPs each, as even as whole GOPs allow, ``segments`` of them (at most one
    a GOP) or one per SEGMENT_GOPS GOPs. A pure function of the settings: every scheduler cuts the same way.

    >>> segment_plan(RenderSettings(64, 64, Fraction(24), 0, 240), Fraction(24), 2)
    [Segment(first=0, end=96), Segment(first=96, end=240)]
    """
    count = sum(1 for _ in output_frames(settings, rate))
    if count == 0:
        raise RenderError("nothing to render: the range is empty")
    gop = gop_frames(settings)
    gops = math.ceil(count / gop)
    if segments is None:
        n = math.ceil(gops / SEGMENT_GOPS)
    elif isinstance(segments, bool) or not isinstance(segments, int) or segments < 1:
        raise RenderError(f"segments must be a whole number of at least 1, not {segments!r}")
    else:
        n = min(segments, gops)
    edges = [min(count, (i * gops // n) * gop) for i in range(n + 1)]
    return [Segment(a, b) for a, b in zip(edges, edges[1:], strict=False)]


# ---- on a worker ------------------------------------------------------------------------------------------


def render_segment(timeline_json: str, settings: RenderSettings, segment: Segment, media: Sequence[str]) -> bytes:
    """The video of one segment as the bytes of an MP4 file (runs on a worker: nbedit's own code, by path).

    ``media``: the paths the caller can read; a worker that cannot read one of them refuses (it would show that
    media as an offline slate where the caller's render shows pictures)."""
    missing = [p for p in media if not os.path.exists(p)]
    if missing:
        raise SchedulerError(
            f"the worker on {socket.gethostname()} cannot read {missing[0]}"
            + (f" (and {len(missing) - 1} more media files)" if len(missing) > 1 else "")
            + ": workers need the project's media at the same paths (a shared filesystem)"
        )
    timeline = otio.adapters.read_from_string(timeline_json, "otio_json")
    video = replace(settings, audio=False, frames=(segment.first, segment.end), threads=SEGMENT_THREADS)
    with tempfile.TemporaryDirectory(prefix="nbedit-segment-") as d:
        return render_file(timeline, Path(d) / "segment.mp4", video, progress=False).read_bytes()


# ---- here ---------------------------------------------------------------------------------------------------


def client_for(client: Any = None) -> Any:
    """``client``, checked to be a ``dask.distributed.Client``, or (None) the default client of this process."""
    try:
        import distributed
    except ImportError as e:
        raise SchedulerError(
            "scheduler='dask' needs dask.distributed, which is not installed: pip install 'nbedit[dask]'"
        ) from e
    if client is not None:
        if not isinstance(client, distributed.Client):
            raise SchedulerError(f"client must be a dask.distributed.Client, not {type(client).__name__}")
        return client
    try:
        return distributed.default_client()
    except ValueError:
        raise SchedulerError(
            "scheduler='dask' found no Dask client: start one first, `from dask.distributed import Client; "
            "client = Client()` for workers on this machine or `Client('tcp://scheduler:8786')` for a cluster, "
            "then call again (or pass client=client)"
        ) from None


def render(
    timeline: otio.schema.Timeline,
    path: str | os.PathLike,
    settings: RenderSettings,
    *,
    scheduler: str = "segments",
    client: Any = None,
    segments: int | None = None,
    progress: bool | Callable[[int, int], None] = True,
    tags: dict[str, str] | None = None,
) -> Path:
    """Render in segments (``scheduler="segments"``: here, one after another; ``"dask"``: on a Dask cluster)
    and join them into ``path`` without re-encoding, atomically, with the sound mixed and encoded here once.

    ``progress``: a bar (True), none (False), or a function called with (frames done, frames in all) as each
    segment is done."""
    from tqdm.auto import tqdm

    if scheduler not in ("segments", "dask"):
        raise RenderError(f"scheduler must be one of {', '.join(map(repr, SCHEDULERS))}, not {scheduler!r}")
    if scheduler == "segments" and client is not None:
        raise RenderError("client goes with scheduler='dask': scheduler='segments' renders here")
    path = check_target(timeline, path)
    cluster = client_for(client) if scheduler == "dask" else None
    rate = edit_rate(timeline)
    plan = segment_plan(settings, rate, segments)
    total = plan[-1].end
    text = timeline.to_json_string()
    media = tuple(sorted({e["path"] for e in model.pool(timeline).values() if os.path.exists(e["path"])}))
    report = progress if callable(progress) else None
    bar = tqdm(total=total, unit="frame", desc=f"render {path.name}", disable=not progress or report is not None)
    done = 0

    def finished(seg: Segment) -> None:
        nonlocal done
        done += seg.end - seg.first
        bar.update(seg.end - seg.first)
        if report is not None:
            report(done, total)

    with (
        tempfile.TemporaryDirectory(prefix="nbedit-segments-") as spool,
        ThreadPoolExecutor(1, thread_name_prefix="nbedit-sound") as mixing,
    ):
        # the sound is mixed and encoded here while the segments are rendered, not after them
        sound = mixing.submit(encode_sound, timeline, settings)

        def keep(k: int, data: bytes) -> Path:  # on disk as it arrives: memory does not grow with the render
            part = Path(spool) / f"{k:05d}.mp4"
            part.write_bytes(data)
            finished(plan[k])
            return part

        try:
            if scheduler == "segments":
                parts = [keep(k, render_segment(text, settings, seg, media)) for k, seg in enumerate(plan)]
            else:
                parts = _on_dask(cluster, text, settings, plan, media, keep)
        finally:
            bar.close()
        return join(timeline, path, settings, plan, parts, sound.result(), tags=tags)


def _on_dask(client: Any, text: str, settings: RenderSettings, plan: list[Segment], media: tuple, keep) -> list:
    import distributed

    shared = client.scatter(text, broadcast=False)  # the timeline travels once, not once a segment
    futures = [client.submit(render_segment, shared, settings, seg, media, pure=False) for seg in plan]
    which = {f.key: k for k, f in enumerate(futures)}
    parts: list[Path | None] = [None] * len(plan)
    try:
        for future in distributed.as_completed(futures, loop=client.loop):
            k = which[future.key]
            try:
                parts[k] = keep(k, future.result())
                future.release()  # the worker lets go of the segment's bytes
            except (RenderError, EditError):
                raise
            except Exception as e:  # nbedit missing there, a worker lost: say which segment and what workers need
                raise SchedulerError(
                    f"a Dask worker failed to render frames {plan[k].first}-{plan[k].end - 1}: {type(e).__name__}: "
                    f"{e} (workers need nbedit installed and the project's media at the same paths)"
                ) from e
    finally:
        client.cancel([f for f in futures if not f.done()])
    return parts


def join(
    timeline: otio.schema.Timeline,
    path: Path,
    settings: RenderSettings,
    plan: list[Segment],
    parts: Sequence[bytes | Path],
    sound: bytes | None = None,
    *,
    tags: dict[str, str] | None = None,
) -> Path:
    """Write the segments' video packets (each segment an MP4 file's bytes or path), in order and retimed, with
    the packets of ``sound`` (from :func:`encode_sound`) between them, to ``path`` (through a temporary file,
    renamed only on success). Refuses segments whose encoder parameter sets differ from the first one's: their
    packets would not decode under one header."""
    heard = None if sound is None else av.open(io.BytesIO(sound))
    tmp = partial_file(path)
    first = inp = None
    try:
        first = _open(parts[0])
        with av.open(str(tmp), "w") as out:
            out.metadata.update(tags or {})  # the recipe, as a render writes it
            v = out.add_stream_from_template(first.streams.video[0])
            audio = _Interleaved(out, heard) if heard is not None else None
            for k, seg in enumerate(plan):
                inp = first if k == 0 else _open(parts[k])
                _check_parameters(first, inp, seg)
                src = inp.streams.video[0]
                shift = Fraction(seg.first) / settings.fps / src.time_base
                if shift.denominator != 1:
                    raise RenderError(
                        f"segment at output frame {seg.first} does not start on a tick of its file's time base "
                        f"{src.time_base}: it cannot be joined exactly"
                    )
                for packet in inp.demux(src):
                    if packet.dts is None:  # the demuxer's end-of-stream packet
                        continue
                    packet.pts += shift.numerator
                    packet.dts += shift.numerator
                    if audio is not None:
                        audio.mux_until(packet.dts * packet.time_base)
                    packet.stream = v
                    out.mux(packet)
                if inp is not first:
                    inp.close()
                inp = None
            if audio is not None:
                audio.mux_until(None)
    except (av.FFmpegError, OSError, ValueError) as e:
        tmp.unlink(missing_ok=True)
        raise RenderError(f"joining the segments of {path.name} failed: {e}") from e
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        for c in {id(c): c for c in (first, inp, heard) if c is not None}.values():
            c.close()
    return publish(tmp, path)


def _open(part: bytes | Path) -> Any:
    return av.open(io.BytesIO(part) if isinstance(part, bytes) else str(part))


def _check_parameters(first: Any, inp: Any, seg: Segment) -> None:
    """The same encoder settings give the same SPS/PPS: every segment must carry the first one's."""

    def params(c: Any) -> tuple:
        cc = c.streams.video[0].codec_context
        return cc.name, cc.width, cc.height, cc.pix_fmt, bytes(cc.extradata or b"")

    if inp is not first and params(inp) != params(first):
        raise RenderError(
            f"the segment from output frame {seg.first} was encoded with other parameter sets (SPS/PPS) than "
            "the first: its packets cannot be joined without re-encoding. Workers need the same nbedit, PyAV "
            "and libx264 as each other; or render with scheduler='local'"
        )


def encode_sound(timeline: otio.schema.Timeline, settings: RenderSettings) -> bytes | None:
    """The sound of the render's range as AAC in an MP4 file's bytes (None: no sound to render): the same AAC
    frames, fed the same samples, as render() encodes."""
    if not (settings.audio and audio_tracks(timeline)):
        return None
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        _Sound(out, timeline, settings).finish()
    return buf.getvalue()


class _Interleaved:
    """The packets of an encoded sound, muxed into ``out`` up to each video packet's time as the video goes in."""

    def __init__(self, out: Any, heard: Any):
        src = heard.streams.audio[0]
        self.out = out
        self.stream = out.add_stream_from_template(src)
        self.packets = (p for p in heard.demux(src) if p.dts is not None)
        self.next = next(self.packets, None)

    def mux_until(self, t: Fraction | None) -> None:
        while self.next is not None and (t is None or self.next.dts * self.next.time_base <= t):
            packet, self.next = self.next, next(self.packets, None)
            packet.stream = self.stream
            self.out.mux(packet)


class _Sound:
    """The timeline's sound, mixed and encoded into a file's audio stream."""

    def __init__(self, out: Any, timeline: otio.schema.Timeline, settings: RenderSettings):
        rate = edit_rate(timeline)
        self.out = out
        self.stream = out.add_stream("aac", rate=SAMPLE_RATE, layout="stereo")
        self.stream.bit_rate = settings.audio_bitrate
        windows = FrameCache(RENDER_AUDIO_WINDOWS * AUDIO_WINDOW * CHANNELS * 4, name="render audio")
        self.mixer = Mixer(timeline, Sources(FrameCache(0, name="render frames"), windows))
        self.sample0 = round(Fraction(settings.start) / rate * SAMPLE_RATE)
        count = sum(1 for _ in output_frames(settings, rate))
        self.total = round(Fraction(count) / settings.fps * SAMPLE_RATE)
        self.done = 0

    def encode(self, seconds: float, *, final: bool = False) -> None:
        upto = self.total if final else min(self.total, round(seconds * SAMPLE_RATE))
        while upto - self.done >= AAC_FRAME or (final and upto > self.done):
            n = min(AAC_FRAME, upto - self.done)
            pcm = self.mixer.samples(self.sample0 + self.done, n)
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm), format="fltp", layout="stereo")
            frame.sample_rate = SAMPLE_RATE
            frame.pts = self.done
            self.out.mux(self.stream.encode(frame))
            self.done += n

    def finish(self) -> None:
        self.encode(0.0, final=True)
        self.out.mux(self.stream.encode(None))
