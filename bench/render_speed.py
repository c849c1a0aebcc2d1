"""Render speed of the demo edit against a raw PyAV decode + encode of the same source frames, in one run.

    python bench/render_speed.py [--repeat 3]

Both sides decode the same source frames and encode the same number of frames with the same x264 settings; the
raw side does no compositing, no crossfade, no picture-in-picture and no audio mix, so the ratio is the cost of
the editor on top of plain transcoding.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av

from nbedit import demo
from nbedit.ops.edit import media_entry
from nbedit.timeline import frames_of, video_tracks


def raw_pyav(s, out: Path) -> float:
    """Decode each V1 clip's frames sequentially with PyAV and encode them, as a plain transcode would."""
    rate = s.fps
    fmt = s.format
    t0 = time.perf_counter()
    with av.open(str(out), "w") as dst:
        v = dst.add_stream("libx264", rate=rate)
        v.width, v.height, v.pix_fmt = fmt["width"], fmt["height"], "yuv420p"
        v.options = {"crf": "18", "preset": "medium", "x264-params": "mbtree=0"}  # as nbedit renders
        v.codec_context.gop_size = round(float(rate) * 2)
        k = 0
        for clip in video_tracks(s.timeline)[0].find_clips():
            entry = media_entry(s.timeline, clip.metadata["nbedit"]["media"])
            first = Fraction(frames_of(clip.source_range.start_time)) / rate
            count = frames_of(clip.source_range.duration)
            with av.open(entry["path"]) as src:
                stream = src.streams.video[0]
                src.seek(int(first / stream.time_base) + stream.start_time, stream=stream)
                got = 0
                for frame in src.decode(stream):
                    if frame.time - float(stream.start_time * stream.time_base) < float(first) - 1e-6:
                        continue
                    frame = frame.reformat(width=fmt["width"], height=fmt["height"], format="yuv420p")
                    frame.pts = k
                    dst.mux(v.encode(frame))
                    k += 1
                    got += 1
                    if got == count:
                        break
        dst.mux(v.encode(None))
    return time.perf_counter() - t0, k


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="alternate the two sides this many times; medians")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        s = demo.build(tmp)
        frames = round(s.duration * float(s.fps))
        raw_times, ours_times = [], []
        for _ in range(args.repeat):  # alternated, so load on the machine hits both sides alike
            raw_s, raw_frames = raw_pyav(s, tmp / "raw.mp4")
            raw_times.append(raw_s)
            t0 = time.perf_counter()
            s.render(tmp / "nbedit.mp4", progress=False)
            ours_times.append(time.perf_counter() - t0)
        raw_s, ours = statistics.median(raw_times), statistics.median(ours_times)
        fmt = s.format
        size = f"{fmt['width']}x{fmt['height']}"
        print(f"demo edit: {frames} frames at {size}, {float(s.fps):g} fps, median of {args.repeat} runs")
        print(f"raw PyAV decode+encode : {raw_s:6.2f} s  ({raw_frames / raw_s:6.1f} frames/s, {raw_frames} frames)")
        print(f"nbedit render          : {ours:6.2f} s  ({frames / ours:6.1f} frames/s, with audio mix)")
        print(f"ratio nbedit / raw     : {ours / raw_s:.2f}x")


if __name__ == "__main__":
    main()
