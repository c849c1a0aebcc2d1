"""Loading a checked model folder: diffusers pipelines with the hub offline, ONNX Runtime sessions.

Every model, a tiny test checkpoint or a 20 GB one, goes through ``load``: the same code path.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cards import Card
from .errors import ModelError, WeightsError
from .folders import ONNX_FILE, Found
from .placement import Plan, module_bytes

DTYPES = {"float32": 4, "float16": 2, "bfloat16": 2}


@dataclass
class Loaded:
    """A model in memory: its pipeline (or ONNX session), where it sits, and what it is."""

    found: Found
    card: Card
    sha256: str
    kind: str  # "diffusers" or "onnx"
    model: Any  # a DiffusionPipeline or an onnxruntime.InferenceSession
    sizes: dict[str, int]  # component -> bytes
    plan: Plan
    device: str  # where it computes when it runs
    offloaded: bool = False  # moved to CPU RAM to make room on its device; moved back when next used
    views: dict[str, Any] = field(default_factory=dict)  # pipeline class name -> pipeline sharing the components
    allow_pickle: bool = False  # how it was loaded: a plan that needs it loaded again loads it the same way

    @property
    def name(self) -> str:
        return self.found.name


def torch_dtype(name: str) -> Any:
    import torch

    if name not in DTYPES:
        raise ModelError(f"dtype must be one of {', '.join(DTYPES)}, not {name!r}")
    return getattr(torch, name)


def load(found: Found, *, dtype: str, allow_pickle: bool, device: str, progress: bool = True) -> tuple[Any, dict]:
    """The model object (a diffusers pipeline on the CPU, for a plan to move), and the bytes of each component."""
    if found.kind == "onnx":
        return load_onnx(found.path, device), {"model": (found.path / ONNX_FILE).stat().st_size}
    with _loading_bars(progress):
        pipe = load_diffusers(found.path, dtype=dtype, allow_pickle=allow_pickle)
    import torch

    sizes = {n: module_bytes(c) for n, c in pipe.components.items() if isinstance(c, torch.nn.Module)}
    return pipe, sizes


def load_diffusers(folder: Path, *, dtype: str, allow_pickle: bool) -> Any:
    """``DiffusionPipeline.from_pretrained(folder)`` offline: nothing is fetched, no remote code runs."""
    import diffusers

    # local_files_only: a folder is read as it is, nothing is fetched; custom pipeline code is never run
    kwargs: dict[str, Any] = {"local_files_only": True, _dtype_keyword(): torch_dtype(dtype)}
    if not allow_pickle:
        kwargs["use_safetensors"] = True
    try:
        return diffusers.DiffusionPipeline.from_pretrained(str(folder), **kwargs)
    except (OSError, ValueError, RuntimeError, KeyError, TypeError, AttributeError, ImportError) as e:
        # safetensors reports damage as these; diffusers reports missing or mismatched parts likewise
        what = WeightsError if "safetensor" in repr(e).lower() or "header" in repr(e).lower() else ModelError
        raise what(f"cannot load {folder} with diffusers: {type(e).__name__}: {e}") from e


@contextlib.contextmanager
def _loading_bars(show: bool) -> Iterator[None]:
    """diffusers' and transformers' own loading bars, off while loading when the pool's progress is off."""
    from diffusers.utils import logging as dlog
    from transformers.utils import logging as tlog

    was = dlog.is_progress_bar_enabled(), tlog.is_progress_bar_enabled()
    if not show:
        dlog.disable_progress_bar()
        tlog.disable_progress_bar()
    try:
        yield
    finally:
        for on, mod in zip(was, (dlog, tlog), strict=True):
            (mod.enable_progress_bar if on else mod.disable_progress_bar)()


def _dtype_keyword() -> str:
    """diffusers renamed ``torch_dtype`` to ``dtype`` (0.36); both are supported."""
    try:
        from diffusers.utils.deprecation_utils import _resolve_dtype  # noqa: F401

        return "dtype"
    except ImportError:
        return "torch_dtype"


def onnx_providers(device: str) -> list[str]:
    import onnxruntime as ort

    if device.startswith("cuda") and "CUDAExecutionProvider" in ort.get_available_providers():
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


def load_onnx(folder: Path, device: str) -> Any:
    """An ONNX Runtime session for ``folder/model.onnx`` on ``device`` (CUDA where the build has it)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.use_deterministic_compute = True  # same input, same output bits
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(str(folder / ONNX_FILE), options, providers=onnx_providers(device))
    except Exception as e:  # onnxruntime raises its own exception types for a damaged file
        raise WeightsError(f"cannot load {folder / ONNX_FILE} with ONNX Runtime: {e}") from e
