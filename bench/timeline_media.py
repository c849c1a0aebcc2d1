"""The kernel's work for the thumbnails and waveform a timeline view shows, by zoom, against the old fixed strip.

    python bench/timeline_media.py [--seconds 120] [--repeat 5]

One long clip (testsrc, 320x240, 24 fps, a tone) on V1 with its sound on A1. A view 1280 px wide looks at the
middle of it; at each zoom it asks for what widgets/timeline.js asks for: the chunks of 8 thumbnails (one every
thumbnail width) and of 256 peaks (about one a pixel) over the part in view and 200 px each side. The old view
asked for 6 thumbnails and 96 peaks per clip at any zoom. For each it prints the bytes sent and the kernel's time
to answer with its widget caches empty and then full (medians of runs alternating old and new), and the ratio
new / old. The decoded frames stay in the session's frame cache between runs, as they do in a session.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import tempfile
import time
from pathlib import Path

import nbedit
from nbedit import media
from nbedit.widgets import Editor

VIEW_PX, MARGIN_PX, TILE_H, TILES, PEAKS = 1280, 200, 36, 8, 256


def level(x: float) -> float:
    return 2 ** (round(3 * math.log2(x)) / 3)


def new_view(ui: Editor, zoom: float, centre: float, fps: float, dur: int) -> None:
    """What the view asks for at ``zoom`` px a second, centred on second ``centre`` of the clip."""
    a = max(0, round((centre - (VIEW_PX / 2 + MARGIN_PX) / zoom) * fps))
    b = min(dur, round((centre + (VIEW_PX / 2 + MARGIN_PX) / zoom) * fps))
    step = max(1, round(level(TILE_H * 4 / 3 / zoom * fps)))
    per = TILES * step
    for k in range(a // per, math.ceil(b / per)):
        count = min(TILES, math.ceil((dur - k * per) / step))
        ui._on_message(
            ui,
            {
                "type": "thumbs",
                "clip": "c1",
                "key": f"t{k}",
                "spacing": step,
                "first": k * TILES,
                "count": count,
                "height": TILE_H,
            },
            [],
        )
    rate = round(level(zoom) * 1000) / 1000
    sa, sb, span = a / fps, b / fps, PEAKS / rate
    total = math.ceil(dur / fps * rate)
    clips = [
        ["c2", f"p{k}", rate, k * PEAKS, min(PEAKS, total - k * PEAKS)]
        for k in range(int(sa // span), math.ceil(sb / span))
    ]
    ui._on_message(ui, {"type": "peaks", "clips": clips}, [])


def old_view(ui: Editor) -> None:
    ui._on_message(ui, {"type": "thumbs", "clip": "c1", "key": "old", "count": 6, "height": TILE_H}, [])
    ui._on_message(ui, {"type": "peaks", "clips": [["c2", "old"]]}, [])


def measure(ui: Editor, ask, cold: bool) -> tuple[float, int]:
    if cold:
        ui._thumbs.clear()
        ui._peaks.clear()
    n = len(ui.traffic)
    t = time.perf_counter()
    ask()
    ms = (time.perf_counter() - t) * 1000
    return ms, sum(size for _, size in list(ui.traffic)[n:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=int, default=120)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="nbedit-timeline-media-"))
    src = media.testsrc(tmp / "src.mp4", seconds=args.seconds, fps=24, size=(320, 240), tone_hz=440)
    s = nbedit.Session(tmp / "project")
    m = s.import_media(src)
    s.append(m, track="V1")
    s.append(m, track="A1")
    ui = Editor(s)
    fps, dur = float(s.fps), round(s.duration * float(s.fps))
    print(f"one {args.seconds} s clip, a view {VIEW_PX} px wide on its middle; load average {os.getloadavg()}")
    print(f"{'zoom px/s':>9}  {'bytes new/old':>18}  {'cold ms new/old':>22}  {'warm ms new/old':>22}")
    for zoom in (10, 80, 500, 2000):
        runs = {("new", True): [], ("old", True): [], ("new", False): [], ("old", False): []}
        sizes = {}
        for _ in range(args.repeat):
            for name, ask in (
                ("new", lambda z=zoom: new_view(ui, z, args.seconds / 2, fps, dur)),
                ("old", lambda: old_view(ui)),
            ):
                for cold in (True, False):
                    ms, size = measure(ui, ask, cold)
                    runs[(name, cold)].append(ms)
                    sizes[name] = size
        med = {k: statistics.median(v) for k, v in runs.items()}
        print(
            f"{zoom:>9}  {sizes['new']:>8,}/{sizes['old']:<8,} "
            f"{med[('new', True)]:>8.1f}/{med[('old', True)]:<6.1f}({med[('new', True)] / med[('old', True)]:.1f}x)  "
            f"{med[('new', False)]:>8.1f}/{med[('old', False)]:<6.1f}({med[('new', False)] / med[('old', False)]:.1f}x)"
        )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
