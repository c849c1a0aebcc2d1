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
``sequential-cpu-offload``   CPU RAM; weights stream to the device layer by layer   about one layer
                             (diffusers' ``enable_sequential_cpu_offload``)
============================ ====================================================== ===========================

The first plan whose GPU footprint fits the device's budget is chosen (other models are evicted first, least
recently used first). When even the last does not fit, it is used anyway and the plan says so: the call runs
(maybe slowly, maybe out of memory) rather than being refused. ``s.models.place(name, strategy)`` overrides.
On the CPU there is one plan: everything in RAM.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

STRATEGIES = ("on-device", "text-encoder-on-cpu", "model-cpu-offload", "sequential-cpu-offload")
MiB = 2**20


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

    @property
    def summary(self) -> str:
        parts = [f"{self.model}: {self.strategy} on {self.device} ({self.dtype})"]
        if self.budget is not None:
            parts.append(f"{mib(self.peak)} MiB of weights on {self.device} while running, budget {mib(self.budget)}")
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
) -> Plan:
    """The fastest plan whose weights on ``device`` fit ``budget`` (or the ``strategy`` asked for)."""
    if device == "cpu":  # one plan: everything in RAM (offloading to where it already is would gain nothing)
        total = sum(sizes.values())
        fits = budget is None or total <= budget
        notes = () if fits else (f"over the CPU budget of {mib(budget or 0)} MiB: loaded anyway",)
        where = {c: "cpu" for c in sizes}
        return Plan(model, "cpu", dtype, "on-device", where, {"cpu": total}, total, budget, fits, notes=notes)
    candidates = [s for s in STRATEGIES if s != "text-encoder-on-cpu" or text_encoders & set(sizes)]
    if strategy is not None:
        plan = _plan(model, sizes, device, dtype, budget, text_encoders, strategy)
        return _with(plan, chosen_by="you")
    for s in candidates:
        plan = _plan(model, sizes, device, dtype, budget, text_encoders, s)
        if plan.fits:
            return plan
    return _with(plan, notes=(f"over budget: even {plan.strategy} needs more than {mib(budget or 0)} MiB",))


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
    """Put a pipeline's components where the plan says (the pipeline starts on the CPU)."""
    import torch

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
    elif plan.strategy == "sequential-cpu-offload":
        pipe.enable_sequential_cpu_offload(device=plan.device)


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
