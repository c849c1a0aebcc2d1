"""What an edit was made with: the versions that decide its frames, and the sha256 of every input and model."""

from __future__ import annotations

import base64
import importlib.metadata
import json
import os
import zlib
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


# ---- the recipe inside a rendered file ------------------------------------------------------------------------

MARK = "nbedit-recipe/1 "
"""How the container's comment tag starts when it holds a recipe: then zlib-compressed JSON, in base64."""


def render_tags(notebook_text: str, summary: dict) -> dict[str, str]:
    """Container tags that carry the recipe (a notebook's JSON) and a compact summary of the timeline.

    The comment tag is the one MP4, MOV and MKV all keep through a plain ``ffmpeg -c copy`` remux (a custom
    tag survives in MKV only), so the recipe goes there; the description says in words what the file holds.
    """
    payload = json.dumps({"recipe": notebook_text, "summary": summary}, separators=(",", ":"))
    packed = base64.b64encode(zlib.compress(payload.encode("utf-8"), 9)).decode("ascii")
    words = (
        f"nbedit edit {summary.get('name', '')!s}: {summary.get('clips', 0)} clips, "
        f"{summary.get('seconds', 0):.3f} s at {summary.get('fps', '?')} fps. "
        "Its recipe is in this file: nbedit recipe FILE"
    )
    return {"comment": MARK + packed, "description": words}


def read_render_tags(tags: dict[str, str]) -> dict | None:
    """{"recipe": notebook JSON text, "summary": {...}} from a file's tags, or None when it holds no recipe."""
    text = next((v for k, v in tags.items() if k.lower() == "comment" and v.startswith(MARK)), None)
    if text is None:
        return None
    try:
        data = json.loads(zlib.decompress(base64.b64decode(text[len(MARK) :], validate=True)).decode("utf-8"))
    except (ValueError, zlib.error, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("recipe"), str) else None
