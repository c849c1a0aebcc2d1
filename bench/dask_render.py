"""Render on Dask against a plain render of the same edit, side by side in one run.

    python bench/dask_render.py [--seconds 24] [--size 640x360] [--workers 2] [--repeat 3]

The edit is cuts and crossfades of generated footage with sound. Three sides, alternated so that load on the
machine hits them alike: the plain render (one process: a decode thread and x264's own threads), the same
segments rendered here one after another (``scheduler="segments"``: the cost of cutting and joining), and those
segments on a ``LocalCluster`` of ``--workers`` processes of one thread each (started before timing, warmed by
one render). Prints medians, ratios, the load average, and how close the segmented file is to the plain one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import av
import numpy as np

import nbedit
from nbedit import media


def build(folder: Path, seconds: float, size: tuple[int, int]):
    a = media.testsrc(folder / "a.mp4", seconds=8, fps=24, size=size, variant=0, tone_hz=440)
    b = media.testsrc(folder / "b.mp4", seconds=8, fps=24, size=size, variant=1, tone_hz=660)
    s = nbedit.Session(folder / "project")
    s.import_media(a)
    s.import_media(b)
    clips, k = [], 0
    while s.duration < seconds:  # 3 s pieces, alternating sources, a crossfade at every other cut
        clips.append(s.append("ab"[k % 2], src_in=1, src_out=4))
        s.append("ab"[k % 2], track="A1", src_in=1, src_out=4)
        if k % 2 == 1:
            s.crossfade(clips[-2], clips[-1], duration=0.5)
        k += 1
    return s


def frames(path: Path) -> np.ndarray:
    with av.open(str(path)) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])


def psnr(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    mse = ((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean(axis=(1, 2, 3))
    return tuple(float(10 * np.log10(255**2 / m)) if m else float("inf") for m in (mse.mean(), mse.max()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=24.0, help="length of the edit")
    parser.add_argument("--size", default="640x360", help="footage and render size, WxH")
    parser.add_argument("--workers", type=int, default=2, help="worker processes of the LocalCluster")
    parser.add_argument("--repeat", type=int, default=3, help="alternate the sides this many times; medians")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    from distributed import Client, LocalCluster

    with (
        tempfile.TemporaryDirectory() as tmp,
        LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
        ) as cluster,
        Client(cluster) as client,
    ):
        tmp = Path(tmp)
        s = build(tmp, args.seconds, size)
        n = s.end_frame()
        segments = None  # the plan's own: one segment per five 2 s GOPs
        kw = {"progress": False}
        s.render(tmp / "warm.mp4", scheduler="dask", client=client, **kw)  # workers import nbedit once
        times: dict[str, list[float]] = {"plain": [], "segments": [], "dask": []}
        for _ in range(args.repeat):
            for side in times:
                t0 = time.perf_counter()
                if side == "plain":
                    s.render(tmp / "plain.mp4", **kw)
                else:
                    s.render(
                        tmp / f"{side}.mp4",
                        scheduler=side,
                        client=client if side == "dask" else None,
                        segments=segments,
                        **kw,
                    )
                times[side].append(time.perf_counter() - t0)
        med = {k: statistics.median(v) for k, v in times.items()}
        plain, parts, there = (frames(tmp / f"{k}.mp4") for k in ("plain", "segments", "dask"))
        overall, worst = psnr(plain, parts)
        from nbedit.distributed import segment_plan
        from nbedit.render import RenderSettings

        plan = segment_plan(RenderSettings(*size, s.fps, 0, n), s.fps, segments)
        print(
            f"edit: {n} frames at {size[0]}x{size[1]}, {float(s.fps):g} fps, with sound; {len(plan)} segments; "
            f"{args.workers} workers of 1 thread; median of {args.repeat} alternated runs"
        )
        print(f"load average before / after: {load0} / {os.getloadavg()[0]:.2f} (1 min); {os.cpu_count()} CPUs")
        for k, v in med.items():
            print(f"  {k:9s}: {v:6.2f} s  ({n / v:6.1f} frames/s)  runs {', '.join(f'{t:.2f}' for t in times[k])}")
        print(f"speedup dask / plain     : {med['plain'] / med['dask']:.2f}x")
        print(f"speedup dask / segments  : {med['segments'] / med['dask']:.2f}x")
        print(f"cost of cutting, segments / plain: {med['segments'] / med['plain']:.2f}x")
        print(
            f"dask frames == segments frames: {np.array_equal(there, parts)}; "
            f"segments vs plain: {overall:.1f} dB overall, worst frame {worst:.1f} dB"
        )


load0 = f"{os.getloadavg()[0]:.2f}"

if __name__ == "__main__":
    main()
