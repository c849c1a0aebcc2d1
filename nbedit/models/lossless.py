"""Generated frames as a lossless video file: H.264 in RGB at qp 0 (libx264rgb), in an .mp4.

Every pixel decodes exactly as it was generated, and the frame times are exact multiples of 1/fps (Matroska's
millisecond clock would not give that). Lossless coding costs CPU time, most on noisy pictures, so the frames
are cut into runs of ``CHUNK`` frames, each coded by its own single-threaded encoder on a thread of its own, and
the packets are muxed in order into one stream: every run starts with a keyframe (quick to seek to), and the
bytes are the same whatever the number of cores, since the runs do not depend on it.

    >>> write_lossless("take.mp4", frames, Fraction(24))     # frames: (T, H, W, 3) uint8
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

CODEC = "libx264rgb"
OPTIONS = {"qp": "0", "preset": "ultrafast"}  # qp 0: lossless; ultrafast: no B-frames, so dts == pts
CHUNK = 16


def write_lossless(path: str | os.PathLike, frames: np.ndarray, fps: Fraction) -> Path:
    """Write ``frames`` to ``path`` whole or not at all (a temp file is renamed into place)."""
    import av

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    height, width = frames.shape[1:3]
    starts = list(range(0, len(frames), CHUNK))
    with ThreadPoolExecutor(max(1, min(len(starts), os.cpu_count() or 1))) as pool:
        runs = list(pool.map(lambda s: _encode(frames[s : s + CHUNK], s, width, height, fps), starts))
    tmp = path.with_name(f".{path.stem}.partial{path.suffix}")
    try:
        with av.open(str(tmp), "w", options={"fflags": "+bitexact"}) as out:
            stream = out.add_stream(CODEC, rate=fps)
            _configure(stream.codec_context, width, height, fps)  # opened by the muxer: the runs' own headers
            for packets in runs:
                for packet in packets:
                    packet.stream = stream
                    out.mux(packet)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _configure(ctx: Any, width: int, height: int, fps: Fraction) -> None:
    ctx.width, ctx.height, ctx.pix_fmt = width, height, "rgb24"
    ctx.time_base = Fraction(1) / fps
    ctx.framerate = fps
    ctx.thread_count = 1  # x264's bytes depend on its thread count: one, always
    ctx.options = dict(OPTIONS)


def _encode(frames: np.ndarray, first: int, width: int, height: int, fps: Fraction) -> list:
    """The packets of one run of frames, from an encoder of its own (PyAV lets go of the GIL as it codes)."""
    import av

    ctx = av.CodecContext.create(CODEC, "w")
    _configure(ctx, width, height, fps)
    ctx.flags |= av.codec.context.Flags.global_header  # as the .mp4 muxer asks of the stream's encoder
    packets = []
    for i, f in enumerate(frames):
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")
        frame.pts = first + i
        frame.time_base = ctx.time_base
        packets += ctx.encode(frame)
    packets += ctx.encode(None)
    return packets
