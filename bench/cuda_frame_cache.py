"""The preview's frame cache on a GPU: decoded frames kept as CUDA tensors, and what reading them back costs.

    python bench/cuda_frame_cache.py [--frames 48]

On a machine without CUDA it says so and measures the RAM cache alone.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import nbedit
from nbedit import media
from nbedit.cache import FrameCache, cuda_device
from nbedit.preview import Preview


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=48)
    args = parser.parse_args()
    device = cuda_device()
    print(f"device for the frame cache: {device or 'none (CPU only): RAM'}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src = media.testsrc(tmp / "hd.mp4", seconds=args.frames / 24, size=(1920, 1080), gop=24, audio=False)
        with media.VideoReader(src) as r:
            frames = [r.frame(i) for i in range(len(r))]
        for where in ("cpu", "auto"):
            cache = FrameCache(budget=4 * 2**30, device=where)
            before = _allocated()
            t0 = time.perf_counter()
            for i, f in enumerate(frames):
                cache.put(("hd", i), f)
            put = (time.perf_counter() - t0) / len(frames)
            held = _allocated() - before
            reads = []
            for i, f in enumerate(frames):
                t0 = time.perf_counter()
                got = cache.get(("hd", i))
                reads.append(time.perf_counter() - t0)
                assert np.array_equal(got, f)
            print(
                f"{cache!r}\n   put {put * 1000:.2f} ms/frame, get {statistics.median(reads) * 1000:.2f} ms/frame "
                f"(1080p RGB, {frames[0].nbytes / 2**20:.1f} MiB), CUDA memory held {held / 2**20:.1f} MiB, "
                "frames read back equal"
            )
        s = nbedit.Session(tmp / "project")
        s.append(s.import_media(src))
        p = Preview(s, ahead=0, proxies=False)
        t0 = time.perf_counter()
        for n in range(0, len(frames), 4):
            p.jpeg(n)
        print(
            f"preview on {p.frames.device or 'cpu'}: {(time.perf_counter() - t0) / (len(frames) / 4) * 1000:.1f} "
            f"ms per uncached 1080p frame to JPEG; {p.frames!r}"
        )
        p.close()


def _allocated() -> int:
    try:
        import torch
    except ImportError:
        return 0
    return torch.cuda.memory_allocated() if torch.cuda.is_available() else 0


if __name__ == "__main__":
    main()
