"""The models of a session: found on disk, loaded once, kept resident, evicted least recently used first.

``s.models`` is a :class:`ModelPool`. It shows every model folder it can see and what each holds in memory::

    s.models                                  # the table: name, task, pipeline, device, dtype, resident MiB, sha256
    s.models.refresh()                        # pick up folders dropped in (or swapped) since
    s.models.set_budget("cuda:0", "12GiB")    # weights it may keep on a device
    s.models.plan("ltx-video")                # where each component would go, and why
    s.models.place("ltx-video", "model-cpu-offload")   # override the plan
    s.models.place("ltx-video", "12GB", fp8=True)      # the plan a 12 GB card gets, the transformer stored in fp8
    s.models.cards("ltx-video")                        # the plan for each card size: {"12GB": Plan, ...}
    s.models.unload("sd-img2img")

Residency: a model is loaded on first use and stays where its plan put it. When a model needs room on a device
that is over its budget, the least recently used models there make way: from a GPU they move to CPU RAM
(offloaded, and moved back when used again), from CPU RAM they are unloaded.
"""

from __future__ import annotations

import gc
import html
import os
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from . import bundled as bundled_models
from .cards import Card, read_card
from .errors import ModelError, ModelTaskError
from .folders import Found, Root, discover, folder_digest, resolve, search_roots
from .loading import DTYPES, Loaded, load, load_onnx, onnx_providers
from .placement import (
    CARDS,
    GPU_SHARE,
    STRATEGIES,
    PlacementNotice,
    Plan,
    apply,
    choose,
    for_card,
    mib,
    reversible,
    text_encoder_names,
    undo,
)
from .weights import check, component_bytes

UNITS = {"b": 1, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40, "kb": 10**3, "mb": 10**6, "gb": 10**9}


def default_device() -> str:
    """``$NBEDIT_DEVICE`` if set ("cpu", "cuda", "cuda:1"), else CUDA when torch sees a GPU, else the CPU."""
    import torch

    if os.environ.get("NBEDIT_DEVICE"):
        return os.environ["NBEDIT_DEVICE"]
    return f"cuda:{torch.cuda.current_device()}" if torch.cuda.is_available() else "cpu"


def default_budget(device: str) -> int:
    """``GPU_SHARE`` (85%) of a GPU's memory (the rest is for activations); half the machine's RAM."""
    if device.startswith("cuda"):
        import torch

        return int(torch.cuda.get_device_properties(torch.device(device)).total_memory * GPU_SHARE)
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not a POSIX system
        ram = 16 * 2**30
    return ram // 2


def parse_size(size: int | str) -> int:
    """Bytes from 12884901888, "12GiB", "800 MiB" or "1.5GB"."""
    if isinstance(size, int) and not isinstance(size, bool) and size > 0:
        return size
    if isinstance(size, str):
        text = size.strip().lower().replace(" ", "")
        for unit in sorted(UNITS, key=len, reverse=True):
            if text.endswith(unit):
                try:
                    value = float(text[: -len(unit)])
                except ValueError:
                    break
                if value > 0:
                    return int(value * UNITS[unit])
    raise ModelError(f"a memory budget is a positive number of bytes or a size like '12GiB', not {size!r}")


class ModelPool:
    """The model folders a session can use and the models it keeps in memory."""

    def __init__(self, project: Path | str | None = None, *, device: str | None = None):
        self.project = None if project is None else Path(project)
        self.device = "cpu"
        self.budgets: dict[str, int] = {"cpu": default_budget("cpu")}
        self.progress = True  # a progress bar per generation (False: none)
        self._loaded: OrderedDict[str, Loaded] = OrderedDict()  # least recently used first
        self._strategy: dict[str, str] = {}  # a strategy or a card name, as s.models.place was told
        self._fp8: dict[str, bool] = {}
        self._tiling: dict[str, bool] = {}  # absent: the room left over the weights decides
        # bundled trained models (nbedit models install-bundled): name -> (runner, folder, bytes), least recent first
        self._runners: OrderedDict[str, tuple[Any, bundled_models.Installed, int]] = OrderedDict()
        self.roots: list[Root] = []
        self.found: dict[str, Found] = {}
        self.hidden: list[Found] = []
        self.set_device(device or default_device())
        self.refresh()

    # ---- finding ----------------------------------------------------------------------------------------

    def refresh(self) -> ModelPool:
        """Look at the model folders again: new folders appear, swapped ones reload on next use."""
        self.roots = search_roots(self.project)
        self.found, self.hidden = discover(self.roots)
        for name, m in list(self._loaded.items()):
            now = self.found.get(name)
            if m.found.root.why != "an explicit path" and (now is None or now.path != m.found.path):
                self.unload(name)  # the folder went away, or another folder now has its name
        return self

    def find(self, model: str) -> Found:
        """The folder of a model name or path (ModelNotFoundError says where it looked)."""
        return resolve(model, self.roots, self.found)

    def card(self, model: str) -> Card:
        return read_card(self.find(model).path)

    def describe(self, model: str, *, task: str | None = None, op: str = "this operation") -> tuple[Found, Card, str]:
        """Folder, card and sha256 of a model, its task checked, nothing loaded (a resident one is not re-read)."""
        found = self.find(model)
        card = read_card(found.path)
        if task is not None and task not in card.tasks:
            raise ModelTaskError(
                f"model {found.name!r} ({card.pipeline}) does {card.tasks_text}; {op} needs {task}. "
                f"Models here that do {task}: {', '.join(self.able(task)) or 'none'}"
            )
        return found, card, folder_digest(found.path)

    def able(self, task: str) -> list[str]:
        out = []
        for name, f in self.found.items():
            try:
                if task in read_card(f.path).tasks:
                    out.append(name)
            except ModelError:
                continue
        return out

    # ---- loading and residency --------------------------------------------------------------------------

    def get(
        self, model: str, *, task: str | None = None, op: str = "this operation", allow_pickle: bool = False
    ) -> Loaded:
        """The model, loaded and placed (once: later calls find it resident)."""
        found, card, sha = self.describe(model, task=task, op=op)
        m = self._loaded.get(found.name)
        if m is not None and (m.found.path != found.path or m.sha256 != sha):
            self.unload(found.name)  # hot swap: the folder holds other weights now
            m = None
        if m is None:
            m = self._load(found, card, allow_pickle)
        elif not allow_pickle:
            # resident or not, a call that did not allow pickles must not run pickled weights: its recorded
            # line would fail on replay
            check(found.path, expected_sha256=card.sha256, allow_pickle=False)
        if m.offloaded:
            self._place(m, self._choose(m))
        self._loaded.move_to_end(found.name)
        return m

    def bundled(
        self, name: str, *, task: str, load: Callable[[bundled_models.Installed, str], tuple[Any, int]]
    ) -> tuple[Any, bundled_models.Installed] | None:
        """A bundled trained model, loaded once by ``load(folder, device) -> (runner, bytes)`` and kept resident.

        None when it is not installed (the caller runs its classic method and says so). The weights are checked
        against the card's sha256 when first loaded; a folder rebuilt since reloads. Runners count against the
        CPU budget and make way least recently used first, like the generative models.
        """
        inst = bundled_models.folder_for(name, [r.path for r in self.roots])
        if inst is None:
            return None
        if inst.task != task:
            raise ModelTaskError(f"bundled model {name!r} does {inst.task or 'an unknown task'}, not {task}")
        hit = self._runners.get(name)
        if hit is not None and hit[1].path == inst.path and hit[1].weights_sha256 == inst.weights_sha256:
            self._runners.move_to_end(name)
            return hit[0], hit[1]
        self._runners.pop(name, None)
        from .folders import file_digest

        if inst.weights_sha256 and file_digest(inst.weights) != inst.weights_sha256:
            raise ModelError(
                f"{inst.weights} does not match the sha256 its card records: rebuild it with "
                f"nbedit models install-bundled --force --only {name}"
            )
        runner, nbytes = load(inst, self.device)
        self._runners[name] = (runner, inst, int(nbytes))
        budget = self.budgets.get("cpu")
        while budget is not None and len(self._runners) > 1 and sum(r[2] for r in self._runners.values()) > budget:
            self._runners.popitem(last=False)
        return runner, inst

    def _dtype(self, card: Card) -> str:
        if card.pipeline == "onnxruntime":
            return "float32"  # the graph's own types: nothing is cast
        dtype = (card.dtype or "bfloat16") if self.device != "cpu" else (card.cpu_dtype or "float32")
        if dtype not in DTYPES:
            raise ModelError(f"dtype must be one of {', '.join(DTYPES)}, not {dtype!r}")
        return dtype

    def _load(self, found: Found, card: Card, allow_pickle: bool) -> Loaded:
        sha = check(found.path, expected_sha256=card.sha256, allow_pickle=allow_pickle)
        dtype = self._dtype(card)
        estimate = component_bytes(found.path, DTYPES[dtype])
        self._make_room("cpu", sum(estimate.values()), keep=set())  # it loads into RAM first
        model, sizes = load(found, dtype=dtype, allow_pickle=allow_pickle, device="cpu", progress=self.progress)
        m = Loaded(found, card, sha, found.kind, model, sizes, self._cpu_plan(found.name, sizes, dtype), self.device)
        m.allow_pickle = allow_pickle
        self._loaded[found.name] = m
        try:
            self._place(m, self._choose(m))
        except BaseException:
            self.unload(found.name)
            raise
        return m

    def _cpu_plan(self, name: str, sizes: dict[str, int], dtype: str) -> Plan:
        return choose(
            name,
            sizes,
            device="cpu",
            dtype=dtype,
            budget=self.budgets["cpu"],
            text_encoders=set(),
            fp8=self._fp8.get(name, False),
            tiling=self._tiling.get(name),
        )

    def _choose(self, m: Loaded) -> Plan:
        if m.kind == "onnx":  # a session runs whole on one device: the GPU where this onnxruntime has CUDA
            device = self.device if onnx_providers(self.device)[0] == "CUDAExecutionProvider" else "cpu"
            return choose(
                m.name, m.sizes, device=device, dtype=m.plan.dtype, budget=self.budgets.get(device), text_encoders=set()
            )
        asked = self._strategy.get(m.name)
        budget = self.budgets.get(self.device)
        if asked in CARDS:
            budget, asked = int(CARDS[asked] * GPU_SHARE), None
        plan = choose(
            m.name,
            m.sizes,
            device=self.device,
            dtype=m.plan.dtype,
            budget=budget,
            text_encoders=text_encoder_names(m.sizes),
            strategy=asked,
            streams=self.device.startswith("cuda") and _has_cuda(),
            fp8=self._fp8.get(m.name, False),
            tiling=self._tiling.get(m.name),
        )
        return plan if m.name not in self._strategy else replace(plan, chosen_by="you")

    def _place(self, m: Loaded, plan: Plan) -> None:
        """Make room for the plan (evicting others), then move the model's components where it says."""
        for device, need in plan.resident.items():
            self._make_room(device, need - m.plan.resident.get(device, 0), keep={m.name})
        if plan.peak and plan.device != "cpu":
            self._make_room(plan.device, plan.peak - m.plan.resident.get(plan.device, 0), keep={m.name})
        self._move(m, plan)
        m.offloaded = False
        if plan.strategy != "on-device" or not plan.fits:
            warnings.warn(
                f"{plan.summary}. See s.models.plan({m.name!r}); s.models.place({m.name!r}, ...) chooses another.",
                PlacementNotice,
                stacklevel=2,
            )

    def _move(self, m: Loaded, plan: Plan) -> None:
        if m.kind == "onnx":
            if plan.device != m.plan.device:
                m.model = load_onnx(m.found.path, plan.device)
        elif reversible(m.plan, plan):
            undo(m.model)
            apply(m.model, plan)
        else:  # fp8 weights or group offloading's hooks: start again from the folder
            undo(m.model, to_cpu=False)
            m.model = None
            m.views.clear()
            gc.collect()
            _empty_cuda_cache()
            m.model, _ = load(
                m.found, dtype=plan.dtype, allow_pickle=m.allow_pickle, device="cpu", progress=self.progress
            )
            apply(m.model, plan)
        m.plan = plan

    def _used(self, device: str) -> int:
        return sum(m.plan.resident.get(device, 0) for m in self._loaded.values())

    def _make_room(self, device: str, need: int, *, keep: set[str]) -> None:
        """Evict least recently used models from ``device`` until ``need`` more bytes fit its budget."""
        budget = self.budgets.get(device)
        if budget is None or need <= 0:
            return
        for name in list(self._loaded):
            if self._used(device) + need <= budget:
                return
            m = self._loaded.get(name)
            if m is None or name in keep or not m.plan.resident.get(device):
                continue
            if device == "cpu":
                self.unload(name)
            else:
                self._offload(m, keep)

    def _offload(self, m: Loaded, keep: set[str]) -> None:
        """Move a model off its GPU into CPU RAM (unloading it if RAM has no room either)."""
        cpu = self._cpu_plan(m.name, m.sizes, m.plan.dtype)
        need = cpu.resident["cpu"] - m.plan.resident.get("cpu", 0)
        self._make_room("cpu", need, keep=keep | {m.name})
        if self._used("cpu") + need > self.budgets["cpu"]:
            self.unload(m.name)
            return
        self._move(m, cpu)
        m.offloaded = True

    def unload(self, name: str) -> None:
        """Forget a model and free its memory (it loads again on next use). ``s.models.unload("sd-img2img")``"""
        m = self._loaded.pop(name, None)
        if m is None:
            if name not in self.found:
                raise ModelError(f"no model named {name!r} (models: {', '.join(sorted(self.found)) or 'none'})")
            return
        if m.kind == "diffusers":
            undo(m.model, to_cpu=False)  # hooks hold references to weights: take them off, move nothing
        m.views.clear()
        m.model = None
        gc.collect()
        _empty_cuda_cache()

    def unload_all(self) -> None:
        for name in list(self._loaded):
            self.unload(name)
        self._runners.clear()

    # ---- budgets and plans ------------------------------------------------------------------------------

    def set_device(self, device: str) -> ModelPool:
        """Compute on another device ("cpu", "cuda", "cuda:1"); resident models move there (or are unloaded)."""
        device = _normal_device(device)
        if device != "cpu":
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS (read at its start)
            self.budgets.setdefault(device, default_budget(device))
        self.device = device
        for m in list(self._loaded.values()):
            if m.plan.dtype != self._dtype(m.card):
                self.unload(m.name)  # other dtype on this device: it loads again when used
            else:
                m.device = device
                self._place(m, self._choose(m))
        return self

    def set_budget(self, device: str, size: int | str) -> ModelPool:
        """Bytes of weights ``device`` may hold ("cpu", "cuda:0"); models over it are evicted now."""
        device = _normal_device(device)
        if device not in self.budgets:
            raise ModelError(f"no device {device!r} here (devices: {', '.join(self.budgets)})")
        self.budgets[device] = parse_size(size)
        self._make_room(device, 0 if self._used(device) <= self.budgets[device] else 1, keep=set())
        return self

    def plan(self, model: str) -> Plan:
        """Where each component of a model goes (now, if resident; else if it were loaded now)."""
        found, card, _ = self.describe(model)
        m = self._loaded.get(found.name)
        if m is not None:
            return m.plan
        dtype = self._dtype(card)
        sizes = component_bytes(found.path, DTYPES[dtype])
        fake = Loaded(found, card, "", found.kind, None, sizes, self._cpu_plan(found.name, sizes, dtype), self.device)
        return self._choose(fake)

    def place(self, model: str, strategy: str | None, *, fp8: bool | None = None, tiling: bool | None = None) -> Plan:
        """Override a model's plan, or ``None`` to let the budget choose again.

        ``strategy``: one of STRATEGIES, or a card ("12GB", "16GB", "24GB") for the plan a GPU of that size gets.
        ``fp8=True`` stores the denoiser's weights in float8 (``False``: as loaded; ``None``: as it was).
        ``tiling=True`` / ``False`` makes the VAE decode in tiles or whole (``None``: the budget decides).
        ``s.models.place("ltx-video", "12GB", fp8=True)``
        """
        if strategy is not None and strategy not in STRATEGIES and strategy not in CARDS:
            names = ", ".join((*STRATEGIES, *CARDS))
            raise ModelError(f"placement must be one of {names} or None, not {strategy!r}")
        for what, value in (("fp8", fp8), ("tiling", tiling)):
            if value is not None and not isinstance(value, bool):
                raise ModelError(f"{what} must be True, False or None, not {value!r}")
        name = self.find(model).name
        if strategy is None:
            self._strategy.pop(name, None)
        else:
            self._strategy[name] = strategy
        if fp8 is not None:
            self._fp8[name] = fp8
        if tiling is None:
            self._tiling.pop(name, None)
        else:
            self._tiling[name] = tiling
        m = self._loaded.get(name)
        if m is not None:
            self._place(m, self._choose(m))
        return self.plan(model)

    def cards(self, model: str) -> dict[str, Plan]:
        """The plan each card size would get for this model: ``s.models.cards("ltx-video")["12GB"]``."""
        found, card, _ = self.describe(model)
        m = self._loaded.get(found.name)
        dtype = card.dtype or "bfloat16"  # the dtype it runs in on a GPU
        sizes = component_bytes(found.path, DTYPES[dtype]) if m is None or m.plan.dtype != dtype else m.sizes
        te, fp8 = text_encoder_names(sizes), self._fp8.get(found.name, False)
        return {c: for_card(c, found.name, sizes, dtype=dtype, text_encoders=te, fp8=fp8) for c in CARDS}

    def resident(self) -> dict[str, int]:
        """Bytes of weights held per device."""
        return {d: self._used(d) for d in self.budgets}

    def __contains__(self, name: str) -> bool:
        return name in self._loaded

    def loaded(self) -> list[str]:
        """Names of the models in memory, least recently used first."""
        return list(self._loaded)

    # ---- the table --------------------------------------------------------------------------------------

    COLUMNS = ("name", "task", "pipeline", "device", "dtype", "resident MiB", "sha256", "placement", "source", "folder")

    def rows(self) -> list[dict[str, str]]:
        rows = []
        names = list(self.found) + [n for n in self._loaded if n not in self.found]
        for name in names:
            m = self._loaded.get(name)
            f = m.found if m is not None else self.found[name]
            try:
                card = m.card if m is not None else read_card(f.path)
                task, pipeline = card.tasks_text, card.pipeline
            except ModelError as e:
                card, task, pipeline = None, f"unreadable: {e}", "?"
            if m is None:
                device = dtype = placement = "-"
                resident = "not loaded"
                sha = f"{card.sha256[:12]} (card)" if card is not None and card.sha256 else "-"
            else:
                device = f"{m.plan.device} (offloaded from {m.device})" if m.offloaded else m.plan.device
                dtype, placement = m.plan.dtype, m.plan.strategy
                resident = " + ".join(f"{d} {mib(n)}" for d, n in m.plan.resident.items() if n) or "0"
                sha = m.sha256[:12]
            rows.append(
                {
                    "name": name,
                    "task": task,
                    "pipeline": pipeline,
                    "device": device,
                    "dtype": dtype,
                    "resident MiB": resident,
                    "sha256": sha,
                    "placement": placement,
                    "source": "-",
                    "folder": str(f.path),
                }
            )
        return rows + self._bundled_rows({r["name"] for r in rows})

    def _bundled_rows(self, taken: set[str]) -> list[dict[str, str]]:
        """Installed bundled folders (nbedit models install-bundled): the runtime shows as their pipeline."""
        rows = []
        for root in self.roots:
            if not root.path.is_dir():
                continue
            for child in sorted(root.path.iterdir()):
                if child.name in taken or not bundled_models.is_bundled_folder(child):
                    continue
                taken.add(child.name)
                try:
                    inst = bundled_models.read_installed(child)
                except ModelError as e:
                    rows.append({c: "-" for c in self.COLUMNS} | {"name": child.name, "task": f"unreadable: {e}"})
                    continue
                held = self._runners.get(inst.name)
                resident = "not loaded" if held is None else f"{self.device} {mib(held[2])}"
                rows.append(
                    {
                        "name": inst.name,
                        "task": inst.task,
                        "pipeline": inst.runtime,
                        "device": "-" if held is None else self.device,
                        "dtype": "-",
                        "resident MiB": resident,
                        "sha256": f"{inst.weights_sha256[:12]} (card)",
                        "placement": "-",
                        "source": inst.source,
                        "folder": str(child),
                    }
                )
        return rows

    def _footer(self) -> str:
        used = ", ".join(f"{d} {mib(self._used(d))} of {mib(b)} MiB" for d, b in self.budgets.items())
        hidden = "".join(f"\n  hidden: {f.path} (an earlier folder has the name {f.name!r})" for f in self.hidden)
        return f"resident: {used}; computing on {self.device}{hidden}"

    def __repr__(self) -> str:
        rows = self.rows()
        if not rows:
            where = "\n".join(f"  {r.path}  ({r.why})" for r in self.roots)
            return f"<ModelPool: no model folders found; looked in\n{where}>"
        cols = [c for c in self.COLUMNS if c != "folder"]
        widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in cols}
        lines = ["  ".join(c.ljust(widths[c]) for c in cols)]
        lines += ["  ".join(r[c].ljust(widths[c]) for c in cols) for r in rows]
        return "\n".join(lines) + "\n" + self._footer()

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.COLUMNS)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(r[c])}</td>" for c in self.COLUMNS) + "</tr>" for r in self.rows()
        )
        foot = html.escape(self._footer()).replace("\n", "<br>")
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table><p>{foot}</p>"


def _normal_device(device: str) -> str:
    if device == "cuda":
        import torch

        return f"cuda:{torch.cuda.current_device()}" if torch.cuda.is_available() else "cuda:0"
    if device != "cpu" and not device.startswith("cuda:"):
        raise ModelError(f"device must be 'cpu', 'cuda' or 'cuda:N', not {device!r}")
    return device


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _empty_cuda_cache() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()
