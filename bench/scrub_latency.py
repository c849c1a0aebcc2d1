"""Scrub latency: from a playhead change to the frame's bytes leaving the kernel, against a raw PyAV seek.

    python bench/scrub_latency.py [--seconds 12] [--frames 24]

The source is a generated 1080p H.264 file with a 250-frame GOP (the slow case for frame-exact seeking). For the
same random frames, in one run, it times:
  raw PyAV      seek to the keyframe before the frame, decode forward to it (frame-exact, what a player must do)
  uncached      the editor widget's playhead set to a frame it never showed (decode, composite, JPEG, send)
  cached        the same frames again (content-keyed JPEG cache)
  proxy         never-shown frames once the all-intra scrub proxy exists
Prefetching is off, so every uncached figure is a real miss.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

import av

import nbedit
from nbedit import media, preview, widgets


def raw_seek(path: str, frames: list[int]) -> list[float]:
    """Frame-exact seeks with plain PyAV: a fresh seek for every frame."""
    times = []
    with av.open(path) as c:
        stream = c.streams.video[0]
        pts = sorted(p.pts for p in c.demux(stream) if p.pts is not None)
        for i in frames:
            t0 = time.perf_counter()
            c.seek(pts[i], stream=stream, backward=True)
            for frame in c.decode(stream):
                if frame.pts >= pts[i]:
                    frame.to_ndarray(format="rgb24")
                    break
            times.append(time.perf_counter() - t0)
    return times


def widget_seek(ui: widgets.Editor, frames: list[int]) -> list[float]:
    times = []
    for n in frames:
        t0 = time.perf_counter()
        ui.playhead = n  # the observer composites, encodes and sends before this returns
        times.append(time.perf_counter() - t0)
    return times


def ms(values: list[float]) -> str:
    p90 = sorted(values)[int(len(values) * 0.9)]
    return f"median {statistics.median(values) * 1000:7.1f} ms   (p90 {p90 * 1000:6.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=12)
    parser.add_argument("--frames", type=int, default=24, help="random frames per measurement")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        src = media.testsrc(
            tmp / "long-gop.mp4", seconds=args.seconds, fps=24, size=(1920, 1080), gop=250, bframes=2, audio=False
        )
        print(f"source: 1920x1080 H.264, GOP 250, {args.seconds:g} s (made in {time.perf_counter() - t0:.1f} s)")
        s = nbedit.Session(tmp / "project")
        s.append(s.import_media(src))
        total = round(s.duration * 24)
        rnd = random.Random(0)
        first = rnd.sample(range(1, total), args.frames)
        later = rnd.sample(sorted(set(range(1, total)) - set(first)), args.frames)

        raw = raw_seek(src, first)
        ui = widgets.Editor(s)
        ui.preview.close()  # a preview with prefetching off and no proxy yet, to time real misses
        ui.preview = preview.Preview(s, ahead=0, proxies=False)
        uncached = widget_seek(ui, first)
        cached = widget_seek(ui, first)
        ui.preview.use_proxies = True
        t0 = time.perf_counter()
        ui.preview.refresh_proxies()
        ui.preview.proxies.wait()
        built = time.perf_counter() - t0
        proxied = widget_seek(ui, later)
        raw_later = raw_seek(src, later)
        print(f"raw PyAV seek+decode      {ms(raw + raw_later)}")
        ratio = statistics.median(uncached) / statistics.median(raw)
        print(f"widget, uncached          {ms(uncached)}   ratio to raw {ratio:.2f}x")
        print(f"widget, cached            {ms(cached)}")
        print(f"widget, uncached + proxy  {ms(proxied)}   (proxy built in {built:.1f} s in the background)")


if __name__ == "__main__":
    main()
