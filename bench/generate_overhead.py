"""Overhead of ``s.generate`` against calling the same diffusers pipeline directly, and of a second call.

    python bench/generate_overhead.py [--device cpu|cuda] [--model PATH] [--size 512x320] [--seconds 2]
                                      [--steps 10] [--repeat 3]

Both sides run the same pipeline class from the same folder on the same device and dtype, with the same
arguments (prompt, size, frame count, frame rate, steps, guidance, a CPU generator with the same seed). The
direct side is ``pipe(...)`` alone; ``s.generate`` is the whole operation, nothing left out: the model lookup
and checks, the run, the conversion to uint8, the lossless encode, probing and hashing the file, the import,
the journal line and the undo snapshot. Each repetition uses a new seed on both sides (a repeated seed would
be served from the cache), the sides alternate so machine load hits both alike, and medians are reported.

"first call" is the session's first ``s.generate``: it loads the model (from_pretrained, placement). Later
calls find it resident. With ``--model`` omitted, the tiny LTX-Video checkpoint is built in a temp folder;
its pictures are noise, but its pipeline does all the work a real one does, only smaller.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from fractions import Fraction
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--model", default=None, help="a model folder (default: the tiny LTX-Video, built here)")
    parser.add_argument("--size", default="512x320", help="WIDTHxHEIGHT")
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3, help="alternate the two sides this many times; medians")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))

    import torch
    from diffusers import DiffusionPipeline

    import nbedit
    from nbedit.models.loading import torch_dtype
    from nbedit.models.lossless import write_lossless
    from nbedit.models.pipelines import generator, to_uint8

    with tempfile.TemporaryDirectory(prefix="nbedit-bench-") as tmp:
        tmp = Path(tmp)
        if args.model is None:
            from nbedit.models.tiny import make_tiny

            model = str(make_tiny(tmp / "models")["ltx-video"])
        else:
            model = str(Path(args.model).absolute())
        s = nbedit.Session(tmp / "project")
        s.models.set_device(args.device)
        s.models.progress = False  # no progress bars, on either side

        def ours(seed: int) -> tuple[float, float]:
            t0, c0 = time.perf_counter(), time.process_time()
            s.generate(
                "a red kite over a beach at dusk",
                model=model,
                seconds=args.seconds,
                size=(width, height),
                seed=seed,
                steps=args.steps,
            )
            _sync(args.device)
            return time.perf_counter() - t0, time.process_time() - c0

        first, _ = ours(0)
        plan = s.models.plan(model)
        gen = s.generation(next(iter(s.media)))
        load_t0 = time.perf_counter()
        pipe = DiffusionPipeline.from_pretrained(model, local_files_only=True, dtype=torch_dtype(plan.dtype))
        pipe.to(plan.device)
        pipe.set_progress_bar_config(disable=True)
        load = time.perf_counter() - load_t0

        def direct(seed: int) -> tuple[float, float]:
            t0, c0 = time.perf_counter(), time.process_time()
            direct.frames = pipe(
                prompt=gen["prompt"],
                width=width,
                height=height,
                num_frames=gen["frames"],
                frame_rate=float(Fraction(gen["fps"])),
                num_inference_steps=args.steps,
                guidance_scale=gen["guidance"],
                generator=generator(seed),
                output_type="np",
            ).frames[0]
            _sync(args.device)
            return time.perf_counter() - t0, time.process_time() - c0

        direct(0)  # its own first call (warm-up), like ours above
        ours_t, direct_t = [], []
        for i in range(1, args.repeat + 1):
            direct_t.append(direct(i))
            ours_t.append(ours(i))
        frames = to_uint8(direct.frames)
        encodes = []
        for _ in range(3):
            t0 = time.perf_counter()
            write_lossless(tmp / "alone.mp4", frames, Fraction(gen["fps"]))
            encodes.append(time.perf_counter() - t0)
        encode = statistics.median(encodes)
        d, o = (statistics.median(t[0] for t in ts) for ts in (direct_t, ours_t))
        dc, oc = (statistics.median(t[1] for t in ts) for ts in (direct_t, ours_t))
        print(f"model {Path(model).name} ({plan.strategy} on {plan.device}, {plan.dtype}); torch {torch.__version__}")
        print(f"{gen['frames']} frames at {width}x{height}, {args.steps} steps, median of {args.repeat} runs each")
        print("                              wall clock    CPU time (this process, all threads)")
        print(f"diffusers pipeline, direct : {d:9.3f} s   {dc:9.3f} s")
        print(f"s.generate (whole op)      : {o:9.3f} s   {oc:9.3f} s")
        print(f"ratio s.generate / direct  : {o / d:9.3f}     {oc / dc:9.3f}      (target at most 1.05)")
        print(
            f"s.generate - direct        : {o - d:9.3f} s   the lossless encode of these frames alone: {encode:.3f} s"
        )
        print(f"first s.generate (loads)   : {first:9.3f} s   (from_pretrained alone: {load:.3f} s)")
        print(f"later calls / first call   : {o / first:9.3f}       (the model stays resident)")


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


if __name__ == "__main__":
    main()
