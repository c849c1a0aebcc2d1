"""The generative path on a GPU: residency, placement plans, eviction, determinism and timings, in one run.

    python bench/cuda_check.py [--out report.json]

Self-contained (it needs nbedit and its dependencies, nothing from the tests). It builds the tiny checkpoints
in a temp folder, then reports:

1. GPU memory each model holds once resident (``torch.cuda.memory_allocated`` before and after loading it);
2. whether two CUDA runs with the same seed give bit-identical frames, and how far CUDA is from the CPU;
3. the placement plan chosen under budgets small enough to force each strategy, that each still generates,
   and whether its frames equal the all-on-GPU frames;
4. eviction: a budget that holds one model moves the least recently used to CPU RAM, and back when it is used;
5. timings: the first ``s.generate`` (it loads) against later ones, and ``s.generate`` against the pipeline
   called directly with the same arguments.

On a machine without CUDA it says so and runs what it can on the CPU (2 and 5, and 3 as plans only).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # before CUDA starts: deterministic cuBLAS

MiB = 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=None, help="also write the report as JSON here")
    args = parser.parse_args()

    import torch

    cuda = torch.cuda.is_available()
    device = "cuda:0" if cuda else "cpu"
    report: dict = {"torch": torch.__version__, "cuda": cuda}
    if cuda:
        report["gpu"] = torch.cuda.get_device_name(0)
        print(f"CUDA: {report['gpu']}, torch {torch.__version__}, CUDA {torch.version.cuda}")
    else:
        print(f"no CUDA device here (torch {torch.__version__}): running the CPU half of the check only")

    import diffusers

    import nbedit
    from nbedit.models.tiny import make_tiny

    report["diffusers"] = diffusers.__version__
    with tempfile.TemporaryDirectory(prefix="nbedit-cuda-") as tmp:
        tmp = Path(tmp)
        models = make_tiny(tmp / "models")
        os.environ["NBEDIT_MODELS"] = str(tmp / "models")
        s = nbedit.Session(tmp / "project")
        s.models.set_device(device)
        s.models.progress = False

        report["resident"] = resident(s, models, device)
        report["determinism"] = determinism(s, device)
        report["placement"] = placement(s, device)
        if cuda:
            report["eviction"] = eviction(s, device)
        report["timings"] = timings(s, tmp, device)
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1, default=str))
        print(f"\nreport written to {args.out}")


# ---- 1. resident memory ------------------------------------------------------------------------------------------


def resident(s, models: dict, device: str) -> dict:
    import torch

    print("\n1. memory each model holds once resident")
    out = {}
    for name in models:
        before = torch.cuda.memory_allocated() if device != "cpu" else 0
        m = s.models.get(name)
        after = torch.cuda.memory_allocated() if device != "cpu" else 0
        out[name] = {
            "plan": m.plan.strategy,
            "device": m.plan.device,
            "dtype": m.plan.dtype,
            "weights_MiB": round(sum(m.sizes.values()) / MiB, 3),
            "cuda_allocated_MiB": round((after - before) / MiB, 3),
        }
        print(
            f"   {name:<14} {m.plan.strategy} on {m.plan.device} ({m.plan.dtype}): "
            f"weights {out[name]['weights_MiB']:.3f} MiB, memory_allocated +{out[name]['cuda_allocated_MiB']:.3f} MiB"
        )
    print("\n" + "\n".join("   " + line for line in repr(s.models).splitlines()))
    return out


# ---- 2. determinism ----------------------------------------------------------------------------------------------


def request(size: int, frames: int, steps: int, seed: int = 7):
    from nbedit.models.pipelines import Request

    return Request("text-to-video", "a red kite over a beach at dusk", None, seed, steps, 3.0, size, size, frames, 24.0)


def determinism(s, device: str) -> dict:
    import numpy as np

    from nbedit.models import ModelPool
    from nbedit.models.pipelines import run

    print(f"\n2. determinism on {device}")
    out = {}
    m = s.models.get("ltx-video")
    for size, frames, steps in ((64, 25, 4), (256, 49, 8)):
        req = request(size, frames, steps)
        a, b = run(m, req, progress=False), run(m, req, progress=False)
        other = run(m, request(size, frames, steps, seed=8), progress=False)
        key = f"{size}x{size}x{frames}, {steps} steps"
        out[key] = {
            "same_seed_identical": bool(np.array_equal(a, b)),
            "other_seed_differs": not np.array_equal(a, other),
        }
        if device != "cpu":
            cpu_pool = ModelPool(s.path, device="cpu")
            c = run(cpu_pool.get("ltx-video"), req, progress=False)
            diff = np.abs(a.astype(int) - c.astype(int))
            out[key]["max_abs_diff_vs_cpu_float32"] = int(diff.max())
            out[key]["mean_abs_diff_vs_cpu_float32"] = float(diff.mean())
            cpu_pool.unload_all()
        print(f"   {key}: {out[key]}")
    return out


# ---- 3. placement plans ------------------------------------------------------------------------------------------


def placement(s, device: str) -> dict:
    import numpy as np
    import torch

    from nbedit.models.pipelines import run
    from nbedit.models.placement import STRATEGIES, choose, text_encoder_names

    print("\n3. placement plans under small budgets")
    m = s.models.get("ltx-video")
    sizes = dict(m.sizes)
    total, te = sum(sizes.values()), sum(n for c, n in sizes.items() if c in text_encoder_names(sizes))
    largest = max(sizes.values())
    budgets = {  # a budget that makes each strategy the first that fits
        "on-device": total * 2,
        "text-encoder-on-cpu": (total - te + total) // 2,
        "model-cpu-offload": (largest + (total - te)) // 2 if largest < total - te else None,
        "sequential-cpu-offload": largest // 2,
    }
    out: dict = {"component_bytes": sizes}
    gpu = device if device != "cpu" else "cuda:0"
    for strategy in STRATEGIES:
        budget = budgets[strategy]
        if budget is None:
            out[strategy] = "no budget makes it first for these sizes"
            continue
        plan = choose(
            "ltx-video", sizes, device=gpu, dtype="bfloat16", budget=budget, text_encoders=set(sizes) & {"text_encoder"}
        )
        out[strategy] = {"budget_bytes": budget, "chosen": plan.strategy, "components": plan.components}
        print(f"   budget {budget / MiB:.3f} MiB -> {plan.strategy}")
        print("\n".join("      " + line for line in str(plan).splitlines()[1:]))
    if device == "cpu":
        print("   (no GPU: plans computed, not run)")
        return out
    reference = None
    for strategy in STRATEGIES:
        if not isinstance(out[strategy], dict):
            continue
        s.models.unload("ltx-video")
        s.models.set_budget(device, out[strategy]["budget_bytes"])
        torch.cuda.synchronize()
        before = torch.cuda.memory_allocated()
        m = s.models.get("ltx-video")
        held = torch.cuda.memory_allocated() - before
        torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        frames = run(m, request(256, 49, 8), progress=False)
        torch.cuda.synchronize()
        took = time.perf_counter() - t0
        reference = frames if reference is None else reference
        out[strategy].update(
            {
                "applied": m.plan.strategy,
                "resident_cuda_MiB": round(held / MiB, 3),
                "peak_cuda_MiB_while_running": round(torch.cuda.max_memory_allocated() / MiB, 3),
                "seconds": round(took, 3),
                "frames_equal_on_device_run": bool(np.array_equal(frames, reference)),
            }
        )
        print(f"   ran {strategy}: {out[strategy]}")
    s.models.unload("ltx-video")
    s.models.set_budget(device, budgets["on-device"] * 1000)
    s.models.place("ltx-video", "sequential-cpu-offload")
    out["override"] = s.models.plan("ltx-video").summary
    print(f"   override: {out['override']}")
    s.models.place("ltx-video", None)
    return out


# ---- 4. eviction -------------------------------------------------------------------------------------------------


def eviction(s, device: str) -> dict:
    import torch

    print("\n4. eviction under a budget that holds one model")
    s.models.unload_all()
    one = s.models.plan("ltx-video").resident.get(device, 0)
    s.models.set_budget(device, int(one * 1.5))
    steps = []

    def note(what: str) -> None:
        rows = {r["name"]: r["device"] for r in s.models.rows() if r["name"].startswith("ltx")}
        steps.append(
            {"after": what, "devices": rows, "cuda_allocated_MiB": round(torch.cuda.memory_allocated() / MiB, 3)}
        )
        print(f"   after {what}: {steps[-1]}")

    s.models.get("ltx-video")
    note("loading ltx-video")
    s.models.get("ltx-video-v2")
    note("loading ltx-video-v2")
    s.models.get("ltx-video")
    note("using ltx-video again")
    return {"budget_bytes": int(one * 1.5), "steps": steps}


# ---- 5. timings --------------------------------------------------------------------------------------------------


def timings(s, tmp: Path, device: str) -> dict:
    import torch
    from diffusers import DiffusionPipeline

    import nbedit
    from nbedit.models.loading import torch_dtype
    from nbedit.models.pipelines import generator

    print("\n5. timings (256x256, 49 frames, 20 steps)")
    fresh = nbedit.Session(tmp / "timing")
    fresh.models.set_device(device)
    fresh.models.set_budget(device, 2**40)
    fresh.models.progress = False

    def sync() -> None:
        if device != "cpu":
            torch.cuda.synchronize()

    def ours(seed: int) -> float:
        t0 = time.perf_counter()
        fresh.generate("a red kite", model="ltx-video", seconds=2, size=(256, 256), seed=seed, steps=20)
        sync()
        return time.perf_counter() - t0

    first = ours(0)
    plan = fresh.models.plan("ltx-video")
    pipe = DiffusionPipeline.from_pretrained(
        str(fresh.models.find("ltx-video").path), local_files_only=True, dtype=torch_dtype(plan.dtype)
    )
    pipe.to(device)
    pipe.set_progress_bar_config(disable=True)

    def direct(seed: int) -> float:
        t0 = time.perf_counter()
        pipe(
            prompt="a red kite",
            width=256,
            height=256,
            num_frames=49,
            frame_rate=24.0,
            num_inference_steps=20,
            guidance_scale=3.0,
            generator=generator(seed),
            output_type="np",
        )
        sync()
        return time.perf_counter() - t0

    direct(0)
    d, o = [], []
    for seed in range(1, 6):
        d.append(direct(seed))
        o.append(ours(seed))
    out = {
        "first_generate_s": round(first, 4),
        "later_generate_median_s": round(statistics.median(o), 4),
        "direct_pipeline_median_s": round(statistics.median(d), 4),
        "ratio_generate_over_direct": round(statistics.median(o) / statistics.median(d), 3),
        "plan": plan.strategy,
        "dtype": plan.dtype,
    }
    for k, v in out.items():
        print(f"   {k}: {v}")
    return out


if __name__ == "__main__":
    main()
