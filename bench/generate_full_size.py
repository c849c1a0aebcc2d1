"""LTX-Video at its real published configuration, random weights, through ``s.generate`` and a direct call.

    python bench/generate_full_size.py --device cuda                 # 768x512x121, 30 steps, every card plan
    python bench/generate_full_size.py --device cpu                  # the reduced run (below), a few minutes
    python bench/generate_full_size.py --quick                       # a smoke test, under two minutes
    python bench/generate_full_size.py --table                       # the plan each card gets; builds nothing

Time and memory do not depend on the weights' values, so a checkpoint with random weights at the real
architecture measures what a user's would. The components are built from their configs (the defaults of
diffusers' ``LTXVideoTransformer3DModel`` and ``AutoencoderKLLTXVideo`` are LTX-Video 0.9's; the T5-XXL encoder:
d_model 4096, d_ff 10240, 24 layers, 64 heads), saved as a model folder with a card, and loaded by the session
exactly as a user's checkpoint is. Per placement plan, the two sides alternate, each with a new seed (a repeated
seed would be served from the project's files): ``s.generate`` is the whole operation (lookup, checks, the run,
uint8, the lossless encode, hashing, import, journal, undo snapshot); the direct side calls the same pipeline
object (same weights, same placement) with the same arguments. Medians are printed.

On CUDA each card plan runs under its card's memory (``torch.cuda.set_per_process_memory_fraction``) and its
peak is ``torch.cuda.max_memory_allocated``. On the CPU the peak is the process's resident set, sampled; the
CPU has one plan (everything in RAM), run as loaded and with the transformer stored in fp8. Reductions are
printed with the table: ``--layers`` and ``--t5-layers`` keep the real widths with fewer blocks, so the time
of a step scales with the layer count.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import threading
import time
import warnings
from fractions import Fraction
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

T5_XXL = {"d_model": 4096, "d_ff": 10240, "num_layers": 24, "num_heads": 64, "d_kv": 64, "vocab_size": 32128}
FULL = {"size": "768x512x121", "steps": 30, "layers": 28, "t5_layers": 24, "repeat": 3}
REDUCED = {"size": "128x96x9", "steps": 2, "layers": 4, "t5_layers": 2, "repeat": 2}  # this 2-core CPU
QUICK = {"size": "64x64x9", "steps": 1, "layers": 1, "t5_layers": 1, "repeat": 1}
PROMPT = "a red kite over a beach at dusk, waves, gulls"
SEEDS = itertools.count(1)  # a new seed for every call, on both sides


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--quick", action="store_true", help="a smoke test: one layer each, 64x64x9, one step")
    p.add_argument("--table", action="store_true", help="print the plan each card gets and stop")
    p.add_argument("--size", help="WIDTHxHEIGHTxFRAMES")
    p.add_argument("--steps", type=int)
    p.add_argument("--layers", type=int, help="transformer blocks (28 in LTX-Video 0.9)")
    p.add_argument("--t5-layers", type=int, help="T5-XXL encoder blocks (24)")
    p.add_argument("--repeat", type=int, help="alternations of the two sides per plan; medians")
    p.add_argument("--dtype", help="bfloat16 (CUDA default) or float32 (CPU default: this CPU has no bf16 units)")
    args = p.parse_args(argv)
    base = QUICK if args.quick else FULL if args.device.startswith("cuda") else REDUCED
    for k, v in base.items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    args.dtype = args.dtype or ("bfloat16" if args.device.startswith("cuda") else "float32")
    return args


# ---- the checkpoint --------------------------------------------------------------------------------------------


def components(layers: int, t5_layers: int) -> dict:
    """The LTX-Video 0.9 components at their published configs (``layers`` blocks of the transformer)."""
    from diffusers import AutoencoderKLLTXVideo, FlowMatchEulerDiscreteScheduler, LTXVideoTransformer3DModel
    from transformers import T5Config, T5EncoderModel

    from nbedit.models.tiny import byte_tokenizer

    config = T5Config(**{**T5_XXL, "num_layers": t5_layers}, feed_forward_proj="gated-gelu", is_encoder_decoder=False)
    return {
        "transformer": LTXVideoTransformer3DModel(num_layers=layers),
        "vae": AutoencoderKLLTXVideo(),
        "text_encoder": T5EncoderModel(config),
        # a byte tokenizer stands in for T5's SentencePiece (no download); 128 tokens, as LTX-Video pads to
        "tokenizer": byte_tokenizer(["<pad>", "</s>", "<unk>"], bos=None, eos="</s>", max_length=128),
        "scheduler": FlowMatchEulerDiscreteScheduler(),
    }


def sizes_at_real_config(dtype_bytes: int = 2) -> tuple[dict[str, int], dict[str, int]]:
    """Bytes and parameter counts of each component at the full config, built on the meta device (no memory)."""
    from accelerate import init_empty_weights

    with init_empty_weights():
        comps = components(FULL["layers"], FULL["t5_layers"])
    params = {n: sum(p.numel() for p in c.parameters()) for n, c in comps.items() if hasattr(c, "parameters")}
    return {n: v * dtype_bytes for n, v in params.items()}, params


def build(folder: Path, args: argparse.Namespace) -> dict[str, int]:
    """The model folder with a card; returns the parameter count of each component."""
    import torch
    from diffusers import LTXPipeline

    torch.manual_seed(0)
    comps = components(args.layers, args.t5_layers)
    params = {n: sum(p.numel() for p in c.parameters()) for n, c in comps.items() if hasattr(c, "parameters")}
    dtype = getattr(torch, args.dtype)
    for c in comps.values():
        if hasattr(c, "to"):
            c.to(dtype)
    LTXPipeline(**comps).save_pretrained(str(folder), safe_serialization=True)
    w, h, n = dims(args.size)
    card = [
        'task = "text-to-video"',
        'licence = "Apache-2.0 (random weights made by bench/generate_full_size.py)"',
        f'dtype = "{args.dtype}"',
        f'cpu_dtype = "{args.dtype}"',
        "",
        "[defaults]",
        f"steps = {args.steps}",
        "guidance = 3.0",
        f"size = [{w}, {h}]",
        "fps = 24",
        f"seconds = {n / 24}",
    ]
    (folder / "nbedit.toml").write_text("\n".join(card) + "\n", encoding="utf-8")
    return params


def dims(size: str) -> tuple[int, int, int]:
    w, h, n = (int(v) for v in size.lower().split("x"))
    return w, h, n


# ---- measuring -------------------------------------------------------------------------------------------------


class Peak:
    """Peak device memory since ``reset``: CUDA's allocator counter, or the process's RSS sampled every 20 ms."""

    def __init__(self, device: str):
        self.device = device
        self.rss = 0
        self._stop = threading.Event()
        if device == "cpu":
            threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        page = os.sysconf("SC_PAGE_SIZE")
        while not self._stop.wait(0.02):
            with open("/proc/self/statm") as f:
                self.rss = max(self.rss, int(f.read().split()[1]) * page)

    def reset(self) -> None:
        if self.device == "cpu":
            self.rss = 0
        else:
            import torch

            torch.cuda.reset_peak_memory_stats()

    def value(self) -> int:
        if self.device == "cpu":
            return self.rss
        import torch

        return torch.cuda.max_memory_allocated()


class StepClock:
    """Wall time of each transformer call (one denoising step: both guidance halves go in one batch)."""

    def __init__(self, device: str):
        self.device, self.times, self._t0 = device, [], 0.0

    def attach(self, transformer) -> None:
        transformer.register_forward_pre_hook(lambda *_: self._start())
        transformer.register_forward_hook(lambda *_: self._stop())

    def _start(self) -> None:
        sync(self.device)
        self._t0 = time.perf_counter()

    def _stop(self) -> None:
        sync(self.device)
        self.times.append(time.perf_counter() - self._t0)


def sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def plans(device: str) -> list[tuple[str, str | None, bool]]:
    """(label, what s.models.place gets, fp8) for each plan to run."""
    from nbedit.models.placement import CARDS

    if device == "cpu":
        return [("cpu", None, False), ("cpu + fp8", None, True)]
    return [(card, card, fp8) for card in CARDS for fp8 in (False, True)]


def run_plan(s, model: str, label: str, place: str | None, fp8: bool, args, peak: Peak, clock: StepClock) -> dict:
    import torch

    from nbedit.models.pipelines import generator

    w, h, n = dims(args.size)
    s.models.place(model, place, fp8=fp8)
    m = s.models.get(model)
    pipe = m.model
    if not getattr(pipe.transformer, "_bench_clock", False):
        clock.attach(pipe.transformer)
        pipe.transformer._bench_clock = True
    cap = None
    if args.device.startswith("cuda") and place is not None:
        from nbedit.models.placement import CARDS

        total = torch.cuda.get_device_properties(0).total_memory
        cap = CARDS[place]
        torch.cuda.set_per_process_memory_fraction(min(1.0, cap / total))

    def ours() -> float:
        peak.reset()
        t0 = time.perf_counter()
        media = s.generate(PROMPT, model=model, seconds=n / 24, size=(w, h), seed=next(SEEDS), steps=args.steps)
        sync(args.device)
        ours.media = media
        return time.perf_counter() - t0

    def direct() -> float:
        gen = s.generation(ours.media)
        peak.reset()
        t0 = time.perf_counter()
        direct.frames = pipe(
            prompt=gen["prompt"],
            negative_prompt=gen["negative_prompt"],
            width=w,
            height=h,
            num_frames=gen["frames"],
            frame_rate=float(Fraction(gen["fps"])),
            num_inference_steps=args.steps,
            guidance_scale=gen["guidance"],
            generator=generator(next(SEEDS)),
            output_type="np",
        ).frames[0]
        sync(args.device)
        return time.perf_counter() - t0

    try:
        ours()  # warm-up of both sides (first calls place the model, compile kernels)
        direct()
        o, d, steps, peaks = [], [], [], []
        for _ in range(args.repeat):
            clock.times.clear()
            d.append(direct())
            steps += clock.times
            peaks.append(peak.value())
            clock.times.clear()
            o.append(ours())
            steps += clock.times
            peaks.append(peak.value())
    except torch.cuda.OutOfMemoryError as e:  # a plan over its card: the row says so
        return {"plan": label, "strategy": m.plan.strategy, "error": f"out of memory under {cap} bytes: {e}"[:120]}
    finally:
        if cap is not None:
            torch.cuda.set_per_process_memory_fraction(1.0)
    from nbedit.models.lossless import write_lossless
    from nbedit.models.pipelines import to_uint8

    frames = to_uint8(direct.frames)
    t0 = time.perf_counter()
    write_lossless(Path(s.path) / "encode-alone.mp4", frames, Fraction(24))
    encode = time.perf_counter() - t0
    plan = m.plan
    return {
        "plan": label,
        "strategy": plan.strategy + (" +fp8" if plan.fp8 else "") + (" +tiling" if plan.tiling else ""),
        "step": statistics.median(steps),
        "peak": max(peaks),
        "cap": cap,
        "direct": statistics.median(d),
        "ours": statistics.median(o),
        "encode": encode,
    }


# ---- output ----------------------------------------------------------------------------------------------------


def table(fp8_too: bool = True) -> list[str]:
    """The plan each card gets for LTX-Video 0.9 in bf16, from its components' bytes."""
    from nbedit.models.placement import CARDS, for_card

    sizes, params = sizes_at_real_config()
    lines = ["LTX-Video 0.9 at its real config: " + ", ".join(f"{n} {v / 1e9:.2f} B params" for n, v in params.items())]
    lines.append(f"{'card':<6} {'fp8':<5} {'strategy':<24} {'weights on GPU while running':>30} {'budget':>10} tiling")
    for card in CARDS:
        for fp8 in (False, True) if fp8_too else (False,):
            p = for_card(card, "ltx-video", sizes, dtype="bfloat16", text_encoders={"text_encoder"}, fp8=fp8)
            lines.append(
                f"{card:<6} {'yes' if fp8 else 'no':<5} {p.strategy:<24} {p.peak / 2**30:>26.2f} GiB "
                f"{p.budget / 2**30:>6.1f} GiB {'yes' if p.tiling else 'no'}"
            )
    return lines


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if args.table:
        print("\n".join(table()))
        return
    import torch

    import nbedit
    from nbedit.models.placement import PlacementNotice

    warnings.simplefilter("ignore", PlacementNotice)
    device = "cuda:0" if args.device.startswith("cuda") else "cpu"
    with tempfile.TemporaryDirectory(prefix="nbedit-full-") as tmp:
        folder = Path(tmp) / "models" / "ltx-video-random"
        t0 = time.perf_counter()
        params = build(folder, args)
        built = time.perf_counter() - t0
        s = nbedit.Session(Path(tmp) / "project")
        s.models.set_device(device)
        s.models.progress = False
        peak, clock = Peak(device), StepClock(device)
        rows = [run_plan(s, str(folder), *plan, args, peak, clock) for plan in plans(device)]
        s.close()
    w, h, n = dims(args.size)
    reduced = [
        f"transformer {args.layers} of 28 blocks" if args.layers != 28 else "",
        f"T5-XXL {args.t5_layers} of 24 blocks" if args.t5_layers != 24 else "",
        f"{w}x{h}x{n} instead of 768x512x121" if (w, h, n) != (768, 512, 121) else "",
        f"{args.steps} steps instead of 30" if args.steps != 30 else "",
        f"{args.dtype}" if args.dtype != "bfloat16" else "",
    ]
    reduced = [r for r in reduced if r]
    print(f"{'REDUCED: ' + '; '.join(reduced) if reduced else 'full size'} (real widths, random weights)")
    print(", ".join(f"{k} {v / 1e9:.3f} B params" for k, v in params.items()) + f"; built and saved in {built:.0f} s")
    print(f"device {device}; torch {torch.__version__}; guidance 3.0 (two halves per step); {args.repeat} alternations")
    print(f"load average before/after: {LOAD0} / {load()}")
    head = f"{'plan':<10} {'strategy':<34} {'s/step':>8} {'peak GiB':>9} {'direct s':>9} {'s.generate s':>12}"
    print(head + f" {'ratio':>6} {'encode s':>9}")
    for r in rows:
        if "error" in r:
            print(f"{r['plan']:<10} {r['strategy']:<34} {r['error']}")
            continue
        cap = "" if r["cap"] is None else f" (cap {r['cap'] / 2**30:.0f} GiB)"
        print(
            f"{r['plan']:<10} {r['strategy']:<34} {r['step']:>8.3f} {r['peak'] / 2**30:>9.2f} {r['direct']:>9.2f} "
            f"{r['ours']:>12.2f} {r['ours'] / r['direct']:>6.3f} {r['encode']:>9.3f}{cap}"
        )
    print("ratio: median s.generate / median direct call (target at most 1.05); encode: the lossless encode of")
    print("those frames alone, which s.generate does in its critical path")


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


LOAD0 = load()

if __name__ == "__main__":
    sys.exit(main())
