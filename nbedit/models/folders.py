"""Where model folders are found, and the digest that identifies one.

A model is a folder: the diffusers layout (``model_index.json`` plus one folder per component) or a per-frame
ONNX model (``model.onnx``), each with an optional ``nbedit.toml`` card. Folders are looked for, in order:

1. an explicit path (``model="/ckpt/ltx-video-0.9.7"`` or ``"./my-model"``);
2. the session's ``<project>/models/``;
3. each folder of ``$NBEDIT_MODELS`` (a ``os.pathsep``-separated list);
4. the top-level ``models/``: the current directory's ``models/``, then the ``models/`` of the source checkout
   nbedit runs from (where ``models/make_tiny.py`` lives), when that is another folder.

The first folder of a name wins; the names it hides are listed by ``s.models`` so a shadowed checkpoint is seen.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from ..media import sha256_file
from .errors import ModelNotFoundError

MODEL_INDEX = "model_index.json"
ONNX_FILE = "model.onnx"
CARD = "nbedit.toml"
SAFE = (".safetensors",)
PICKLED = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
# files that are about a folder rather than part of the model: they may change without changing its frames
NOT_HASHED = {CARD, "README.md", ".DS_Store", ".gitattributes"}


@dataclass(frozen=True)
class Root:
    """A folder that holds model folders, and why it is searched."""

    path: Path
    why: str


@dataclass(frozen=True)
class Found:
    """A model folder found under a root (or given as a path)."""

    name: str
    path: Path
    root: Root

    @property
    def kind(self) -> str:
        """ "diffusers" or "onnx"."""
        return "onnx" if (self.path / ONNX_FILE).exists() and not (self.path / MODEL_INDEX).exists() else "diffusers"


def checkout_models() -> Path | None:
    """The ``models/`` folder of the source checkout nbedit is imported from, if it is one."""
    top = Path(__file__).resolve().parents[2]
    return top / "models" if (top / "pyproject.toml").exists() and (top / "models").is_dir() else None


def search_roots(project: Path | None) -> list[Root]:
    """The folders searched for models, in order (see the module docstring)."""
    roots = []
    if project is not None:
        roots.append(Root(Path(project) / "models", "the session's models/ folder"))
    for part in os.environ.get("NBEDIT_MODELS", "").split(os.pathsep):
        if part.strip():
            roots.append(Root(Path(part).expanduser().absolute(), "$NBEDIT_MODELS"))
    roots.append(Root(Path.cwd() / "models", "models/ in the current directory"))
    checkout = checkout_models()
    if checkout is not None:
        roots.append(Root(checkout, "the top-level models/ of the nbedit checkout"))
    seen: set[Path] = set()
    unique = []
    for r in roots:
        key = r.path.resolve() if r.path.exists() else r.path
        if key not in seen:
            seen.add(key)
            unique.append(r)
    return unique


def is_model_folder(path: Path) -> bool:
    return path.is_dir() and ((path / MODEL_INDEX).is_file() or (path / ONNX_FILE).is_file())


def discover(roots: list[Root]) -> tuple[dict[str, Found], list[Found]]:
    """Every model folder under the roots: {name: first found}, and the ones hidden by an earlier name."""
    found: dict[str, Found] = {}
    hidden: list[Found] = []
    for root in roots:
        if not root.path.is_dir():
            continue
        for child in sorted(root.path.iterdir()):
            if not is_model_folder(child):
                continue
            f = Found(child.name, child.absolute(), root)
            if f.name in found:
                hidden.append(f)
            else:
                found[f.name] = f
    return found, hidden


def looks_like_path(model: str) -> bool:
    return os.sep in model or "/" in model or model.startswith((".", "~"))


def resolve(model: str, roots: list[Root], found: dict[str, Found]) -> Found:
    """The folder for ``model`` (a name or a path), or an error saying where we looked."""
    if looks_like_path(model):
        path = Path(model).expanduser().absolute()
        if is_model_folder(path):
            return Found(path.name, path, Root(path.parent, "an explicit path"))
        raise ModelNotFoundError(
            f"{path} is not a model folder: it needs {MODEL_INDEX} (diffusers layout) or {ONNX_FILE}"
        )
    if model in found:
        return found[model]
    where = "\n".join(f"  {r.path}  ({r.why}{'' if r.path.is_dir() else ', missing'})" for r in roots)
    if not os.environ.get("NBEDIT_MODELS"):
        where += "\n  $NBEDIT_MODELS is not set"
    known = ", ".join(sorted(found)) or "none"
    raise ModelNotFoundError(
        f"no model named {model!r}. nbedit never downloads weights; it looked in:\n{where}\n"
        f"models found: {known}. Drop a diffusers folder into one of these (then s.models.refresh()), "
        "or pass its path."
    )


# ---- the digest of a folder ---------------------------------------------------------------------------------

_digests: dict[tuple, str] = {}  # (path, size, mtime_ns) -> sha256: a big checkpoint is hashed once per process


def model_files(folder: Path) -> list[Path]:
    """The files that make the model, in path order: everything but the card and notes."""
    files = []
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        if p.is_file() and p.name not in NOT_HASHED and not any(part.startswith(".") for part in rel.parts):
            files.append(p)
    return files


def weight_files(folder: Path) -> list[Path]:
    return [p for p in model_files(folder) if p.suffix in SAFE + PICKLED or p.name == ONNX_FILE]


def file_digest(path: Path) -> str:
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _digests:
        _digests[key] = sha256_file(path)
    return _digests[key]


def folder_digest(folder: Path) -> str:
    """sha256 of a model folder: of each file's relative path and sha256, in path order (the card left out).

    Weights and configs both count (a scheduler config changes the frames as much as a weight does). Equal
    digests mean the same model, wherever the folder lies.
    """
    h = hashlib.sha256()
    for p in model_files(folder):
        h.update(json.dumps([p.relative_to(folder).as_posix(), file_digest(p)]).encode() + b"\n")
    return h.hexdigest()
