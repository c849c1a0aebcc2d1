"""What an edit was made with: the versions that decide its frames, and the sha256 of every input and model."""

from __future__ import annotations

import importlib.metadata
import os
from typing import Any

from . import model
from .version import __version__

LIBRARIES = ("av", "opentimelineio", "numpy", "torch", "diffusers", "transformers", "onnxruntime")
"""The libraries whose versions can change a recipe's frames (decoders, the timeline, the models)."""


def versions() -> dict[str, str]:
    """The versions that decide an edit's frames here: nbedit's and LIBRARIES'."""
    out = {"nbedit": __version__}
    for name in LIBRARIES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def inputs(timeline: Any, history: list) -> dict[str, list[dict]]:
    """Every file the edit reads (imported media, by path and sha256) and every model a call named."""
    media = []
    for mid, entry in model.pool(timeline).items():
        if model.is_generated(entry):
            continue  # made by a recorded call: the model that made it is the input
        size = os.path.getsize(entry["path"]) if os.path.exists(entry["path"]) else None
        media.append({"id": mid, "path": entry["path"], "sha256": entry["sha256"], "size": size})
    models = {}
    for rec in history:
        kw = rec.kwargs
        if isinstance(kw.get("model"), str):
            key = (kw["model"], kw.get("weights_sha256"))
            models[key] = {"name": kw["model"], "weights_sha256": kw.get("weights_sha256")}
    return {"media": media, "models": list(models.values())}


def provenance(timeline: Any, history: list) -> dict:
    """What ``to_notebook`` writes into a recipe's metadata (and ``s.render`` into the file it writes)."""
    return {"versions": versions(), **inputs(timeline, history)}
