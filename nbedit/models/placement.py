"""Placement plans: which component of a model sits on which device, chosen from the memory budget.

A big model fits a small GPU by components, never by refusing. The plans, from fastest to leanest:

============================ ====================================================== ===========================
strategy                     where the weights live                                 on the GPU while it runs
============================ ====================================================== ===========================
``on-device``                every component on the device                          all of it
``text-encoder-on-cpu``      text encoders in CPU RAM (they run once per prompt),   all but the text encoders
                             the rest on the device
``model-cpu-offload``        CPU RAM; each component moves to the device to run     the largest component
                             (diffusers' ``enable_model_cpu_offload``)
``group-offload``            pinned CPU RAM; layers stream to the device on a CUDA  about two layers
                             stream while the one before runs (diffusers'
                             ``enable_group_offload``, leaf level, ``use_stream``)
``sequential-cpu-offload``   CPU RAM; weights stream to the device layer by layer   about one layer
                             (diffusers' ``enable_sequential_cpu_offload``)
============================ ====================================================== ===========================

The first plan whose GPU footprint fits the device's budget is chosen (other models are evicted first, least
recently used first). ``group-offload`` is in the running only where CUDA streams exist: without a stream to
overlap the copies it gains little on sequential offload. When even the last does not fit, it is used anyway and
the plan says so: the call runs (maybe slowly, maybe out of memory) rather than being refused.
``s.models.place(name, strategy)`` overrides, with a strategy or a card (``"12GB"``, ``"16GB"``, ``"24GB"``: the
plan a GPU of that size gets, see :func:`for_card`).

Two more of diffusers' memory features ride on any plan:

* ``fp8``: the denoiser (transformer or UNet) stores its weights as float8_e4m3fn and casts each layer up to the
  compute dtype as it runs (``enable_layerwise_casting``): half its bytes in bf16. It changes the pictures a
  little, so it is asked for (``s.models.place(name, ..., fp8=True)``), never chosen behind your back, and it is
  part of the generation's key.
* ``tiling``: the VAE decodes in tiles (``vae.enable_tiling()``). Chosen when the device has less than
  ``TILING_ROOM`` left over the plan's weights (a whole 121-frame 768x512 decode wants several GiB); also part
  of the key, since tiles blend at their seams.

On the CPU there is one plan, everything in RAM; fp8 storage and tiling are honoured there when asked.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

STRATEGIES = ("on-device", "text-encoder-on-cpu", "model-cpu-offload", "group-offload", "sequential-cpu-offload")
MiB = 2**20
GiB = 2**30
GPU_SHARE = 0.85  # of a GPU's memory, for weights: the rest is for activations
TILING_ROOM = 8 * GiB  # less than this left over the weights: the VAE decodes in tiles
CARDS = {"12GB": 12 * GiB, "16GB": 16 * GiB, "24GB": 24 * GiB}  # what cards sold as that size hold
DENOISERS = ("transformer", "unet")  # the components fp8 storage applies to (the ones that run every step)
ELEMENT = {"float32": 4, "float16": 2, "bfloat16": 2}
# leaf-level group offloading holds the layer running and the one coming; a layer of these models is at most
# about 1/32 of its component (T5-XXL's embedding table, the largest, is 1/36 of it)
GROUP_SHARE = 16


class PlacementNotice(UserWarning):
    """A model was placed by components, or over its budget: shown when it loads, so nothing happens silently."""


def mib(n: int) -> str:
    return f"{n / MiB:,.1f}"


@dataclass(frozen=True)
class Plan:
    """Where a model's components go. ``resident`` is what stays between calls, by device."""

    model: str
    device: str  # where it computes: "cpu" or "cuda:0"
    dtype: str
    strategy: str
    components: dict[str, str]  # component -> where its weights are ("cpu", "cuda:0", "cpu -> cuda:0 to run")
    resident: dict[str, int]  # device -> bytes of weights kept there between calls
    peak: int  # bytes of weights on the compute device while it runs
    budget: int | None  # the compute device's budget it was chosen against
    fits: bool
    chosen_by: str = "budget"  # or "you" (s.models.place)
    notes: tuple[str, ...] = field(default_factory=tuple)
    fp8: tuple[str, ...] = ()  # components whose weights are stored as float8_e4m3fn (layerwise casting)
    tiling: bool = False  # the VAE decodes in tiles

    @property
    def summary(self) -> str:
        parts = [f"{self.model}: {self.strategy} on {self.device} ({self.dtype})"]
        if self.budget is not None:
            parts.append(f"{mib(self.peak)} MiB of weights on {self.device} while running, budget {mib(self.budget)}")
        if self.fp8:
            parts.append(f"{', '.join(self.fp8)} stored in fp8")
        if self.tiling:
            parts.append("VAE decodes in tiles")
        if self.chosen_by == "you":
            parts.append("chosen by you")
        return "; ".join(parts + list(self.notes))

    def __str__(self) -> str:
        rows = [self.summary] + [f"  {name:<16} {where}" for name, where in self.components.items()]
        return "\n".join(rows)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        body = "".join(
            f"<tr><td>{html.escape(n)}</td><td>{html.escape(w)}</td></tr>" for n, w in self.components.items()
        )
        return f"<p>{html.escape(self.summary)}</p><table><tr><th>component</th><th>where</th></tr>{body}</table>"


def choose(
    model: str,
    sizes: dict[str, int],
    *,
    device: str,
    dtype: str,
    budget: int | None,
    text_encoders: set[str],
    strategy: str | None = None,
    streams: bool = False,
    fp8: bool = False,
    tiling: bool | None = None,
) -> Plan:
    """The fastest plan whose weights on ``device`` fit ``budget`` (or the ``strategy`` asked for).

    ``streams``: the device has CUDA streams (group offloading is in the running). ``fp8``: store the denoiser
    in float8. ``tiling``: None lets the room left over the weights decide.
    """
    stored = _stored(sizes, dtype) if fp8 else dict(sizes)
    extras = {"fp8": tuple(c for c in DENOISERS if c in sizes) if fp8 else ()}
    if device == "cpu":  # one plan: everything in RAM (offloading to where it already is would gain nothing)
        total = sum(stored.values())
        fits = budget is None or total <= budget
        notes = () if fits else (f"over the CPU budget of {mib(budget or 0)} MiB: loaded anyway",)
        where = {c: "cpu" for c in sizes}
        tiled = bool(tiling) and "vae" in sizes
        plan = Plan(model, "cpu", dtype, "on-device", where, {"cpu": total}, total, budget, fits, notes=notes)
        return _with(plan, tiling=tiled, **extras)
    if strategy is not None:
        plan = _plan(model, stored, device, dtype, budget, text_encoders, strategy)
        return _with(plan, chosen_by="you", tiling=_tiled(plan, sizes, tiling), **extras)
    candidates = [
        s
        for s in STRATEGIES
        if (s != "text-encoder-on-cpu" or text_encoders & set(sizes)) and (s != "group-offload" or streams)
    ]
    for s in candidates:
        plan = _plan(model, stored, device, dtype, budget, text_encoders, s)
        if plan.fits:
            return _with(plan, tiling=_tiled(plan, sizes, tiling), **extras)
    notes = (f"over budget: even {plan.strategy} needs more than {mib(budget or 0)} MiB",)
    return _with(plan, notes=notes, tiling=_tiled(plan, sizes, tiling), **extras)


def for_card(
    card: str, model: str, sizes: dict[str, int], *, dtype: str, text_encoders: set[str], fp8: bool = False
) -> Plan:
    """The plan a GPU sold as ``card`` ("12GB", "16GB", "24GB") gets for a model of these component sizes."""
    if card not in CARDS:
        raise ValueError(f"card must be one of {', '.join(CARDS)}, not {card!r}")
    budget = int(CARDS[card] * GPU_SHARE)
    return choose(
        model, sizes, device="cuda:0", dtype=dtype, budget=budget, text_encoders=text_encoders, streams=True, fp8=fp8
    )


def _stored(sizes: dict[str, int], dtype: str) -> dict[str, int]:
    """Component bytes with the denoiser stored at one byte a weight (norms stay as they were: a few KiB)."""
    return {c: n // ELEMENT.get(dtype, 2) if c in DENOISERS else n for c, n in sizes.items()}


def _tiled(plan: Plan, sizes: dict[str, int], asked: bool | None) -> bool:
    if "vae" not in sizes:
        return False
    if asked is not None:
        return asked
    return plan.budget is not None and plan.budget - plan.peak < TILING_ROOM


def _plan(
    model: str, sizes: dict[str, int], device: str, dtype: str, budget: int | None, te: set[str], strategy: str
) -> Plan:
    total = sum(sizes.values())
    if strategy == "on-device":
        where = {c: device for c in sizes}
        resident, peak = {device: total}, total
    elif strategy == "text-encoder-on-cpu":
        where = {c: "cpu" if c in te else device for c in sizes}
        on_cpu = sum(n for c, n in sizes.items() if c in te)
        resident, peak = {device: total - on_cpu, "cpu": on_cpu}, total - on_cpu
    elif strategy == "model-cpu-offload":
        where = {c: f"cpu -> {device} to run" for c in sizes}
        resident, peak = {"cpu": total}, max(sizes.values(), default=0)
    elif strategy == "group-offload":
        where = {c: f"pinned cpu -> {device} a layer ahead, streamed" for c in sizes}
        resident, peak = {"cpu": total}, max(sizes.values(), default=0) // GROUP_SHARE
    elif strategy == "sequential-cpu-offload":
        where = {c: f"cpu -> {device} a layer at a time" for c in sizes}
        resident, peak = {"cpu": total}, 0
    else:
        raise ValueError(f"placement strategy must be one of {', '.join(STRATEGIES)}, not {strategy!r}")
    return Plan(model, device, dtype, strategy, where, resident, peak, budget, budget is None or peak <= budget)


def _with(plan: Plan, **changes: Any) -> Plan:
    from dataclasses import replace

    return replace(plan, **changes)


# ---- applying a plan to a loaded diffusers pipeline ----------------------------------------------------------


def text_encoder_names(components: dict[str, Any]) -> set[str]:
    return {name for name in components if name.startswith("text_encoder")}


def apply(pipe: Any, plan: Plan) -> None:
    """Put a pipeline's components where the plan says (the pipeline starts on the CPU, as loaded)."""
    import torch

    for name in plan.fp8:  # cast while still on the CPU: the device never holds the wider copy
        comp = pipe.components[name]
        if not getattr(comp, "_nbedit_fp8", False):  # cast once: its hooks stay for the model's life
            comp.enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn, compute_dtype=getattr(torch, plan.dtype))
            comp._nbedit_fp8 = True
    vae = pipe.components.get("vae")
    if hasattr(vae, "enable_tiling"):
        vae.enable_tiling() if plan.tiling else vae.disable_tiling()
    if plan.strategy == "on-device":
        pipe.to(plan.device)
    elif plan.strategy == "text-encoder-on-cpu":
        for name, comp in pipe.components.items():
            if not isinstance(comp, torch.nn.Module):
                continue
            if plan.components.get(name) == "cpu":
                comp.to("cpu")
                _run_on_cpu(comp, plan.device)
            else:
                comp.to(plan.device)
    elif plan.strategy == "model-cpu-offload":
        pipe.enable_model_cpu_offload(device=plan.device)
    elif plan.strategy == "group-offload":
        pipe.enable_group_offload(
            onload_device=torch.device(plan.device),
            offload_device=torch.device("cpu"),
            offload_type="leaf_level",
            use_stream=plan.device.startswith("cuda"),
        )
    elif plan.strategy == "sequential-cpu-offload":
        pipe.enable_sequential_cpu_offload(device=plan.device)


def reversible(old: Plan, new: Plan) -> bool:
    """Whether ``undo`` then ``apply`` takes a pipeline placed by ``old`` to ``new``.

    fp8 storage cannot be cast back without loss, and group offloading's hooks are not removed by diffusers'
    ``remove_all_hooks``: from either, a pipeline is loaded again instead.
    """
    return (not old.fp8 or old.fp8 == new.fp8) and old.strategy != "group-offload"


def undo(pipe: Any, *, to_cpu: bool = True) -> None:
    """Back to every component on the CPU, no hooks: the state ``apply`` starts from."""
    import torch

    if getattr(pipe, "_all_hooks", None) or any(hasattr(c, "_hf_hook") for c in pipe.components.values()):
        pipe.remove_all_hooks()
    for comp in pipe.components.values():
        if isinstance(comp, torch.nn.Module):
            for handle in getattr(comp, "_nbedit_hooks", ()):
                handle.remove()
            comp._nbedit_hooks = ()
            if to_cpu:
                comp.to("cpu")


def _run_on_cpu(module: Any, device: str) -> None:
    """Run ``module`` on the CPU for a pipeline that computes on ``device``: inputs come over, outputs go back.

    Plain torch hooks rather than accelerate's: diffusers reads accelerate hooks to find the execution device,
    and this one must not make the pipeline think it computes on the CPU.
    """

    def inputs(_m: Any, args: tuple, kwargs: dict) -> tuple:
        return _move(args, "cpu"), _move(kwargs, "cpu")

    def outputs(_m: Any, _args: tuple, _kwargs: dict, out: Any) -> Any:
        return _move(out, device)

    module._nbedit_hooks = (
        module.register_forward_pre_hook(inputs, with_kwargs=True),
        module.register_forward_hook(outputs, with_kwargs=True),
    )


def _move(x: Any, device: str) -> Any:
    import torch

    if isinstance(x, torch.Tensor):
        return x.to(device)
    if isinstance(x, dict):  # also transformers' ModelOutput, which keeps its type when items are set
        for k in list(x.keys()):
            x[k] = _move(x[k], device)
        return x
    if isinstance(x, tuple | list):
        return type(x)(_move(v, device) for v in x)
    return x


def module_bytes(module: Any) -> int:
    """Bytes of a torch module's parameters and buffers as they are now."""
    return sum(t.numel() * t.element_size() for t in (*module.parameters(), *module.buffers()))
