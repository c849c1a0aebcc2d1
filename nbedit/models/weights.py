"""Checks made before any weight is loaded: whole safetensors files, no pickles, the digest the card expects.

Pickled checkpoints (``.bin``, ``.pt``, ``.ckpt``...) run code when they are loaded, so a folder whose component
has only pickled weights is refused unless the call says ``allow_pickle=True``. A safetensors file is read as
its header says it should be: a header that does not parse, or tensors that reach past the end of the file
(a truncated download), is an error naming the file, before torch sees it.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

from .errors import WeightsError
from .folders import ONNX_FILE, PICKLED, SAFE, folder_digest, weight_files

# bytes per element of the safetensors dtypes (F8 kinds count 1)
DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}
FLOAT_KINDS = {"F64", "F32", "F16", "BF16"}


def read_header(path: Path) -> dict:
    """The tensor table of a safetensors file, checked against the file's size."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise WeightsError(f"{path} is truncated: {size} bytes is less than a safetensors header")
        (n,) = struct.unpack("<Q", head)
        if n > size - 8 or n > 100 * 2**20:
            raise WeightsError(f"{path} is corrupt or truncated: its header claims {n} bytes, the file has {size}")
        try:
            header = json.loads(f.read(n))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise WeightsError(f"{path} is corrupt: its safetensors header does not parse ({e})") from e
    if not isinstance(header, dict):
        raise WeightsError(f"{path} is corrupt: its safetensors header is not a table")
    data = size - 8 - n
    end = 0
    for name, t in header.items():
        if name == "__metadata__":
            continue
        try:
            begin, stop = t["data_offsets"]
        except (KeyError, TypeError, ValueError) as e:
            raise WeightsError(f"{path} is corrupt: tensor {name!r} has no data offsets") from e
        end = max(end, stop)
        if not 0 <= begin <= stop <= data:
            raise WeightsError(
                f"{path} is truncated: tensor {name!r} needs bytes up to {stop}, the file holds {data} after its header"
            )
    if end != data:
        raise WeightsError(f"{path} is corrupt: {data} bytes of tensor data, its header accounts for {end}")
    return header


def tensor_bytes(header: dict, itemsize: int | None) -> int:
    """Bytes the tensors of a header take once loaded, floating ones at ``itemsize`` bytes (None: as stored)."""
    total = 0
    for name, t in header.items():
        if name == "__metadata__":
            continue
        count = 1
        for d in t["shape"]:
            count *= d
        each = DTYPE_BYTES.get(t["dtype"], 1)
        if itemsize is not None and t["dtype"] in FLOAT_KINDS:
            each = itemsize
        total += count * each
    return total


def pickled_components(folder: Path) -> list[Path]:
    """Folders whose weights exist only as pickles (a folder with safetensors beside them loads those instead)."""
    by_dir: dict[Path, set[str]] = {}
    for p in weight_files(folder):
        by_dir.setdefault(p.parent, set()).add(p.suffix)
    return sorted(d for d, kinds in by_dir.items() if kinds & set(PICKLED) and not kinds & set(SAFE))


def check(folder: Path, *, expected_sha256: str | None, allow_pickle: bool) -> str:
    """Refuse a folder that is not safe or not the expected one; return its sha256 digest."""
    if not allow_pickle:
        pickles = pickled_components(folder)
        if pickles:
            names = ", ".join(str(p.relative_to(folder)) or "." for p in pickles)
            raise WeightsError(
                f"{folder}: {names} holds only pickled weights (.bin/.pt/.ckpt), which can run code when loaded. "
                "Convert them to safetensors, or pass allow_pickle=True if you trust where they came from."
            )
    files = weight_files(folder)
    if not files:
        raise WeightsError(f"{folder} holds no weights (no .safetensors, no {ONNX_FILE})")
    for p in files:
        if p.suffix in SAFE:
            read_header(p)
    digest = folder_digest(folder)
    if expected_sha256 is not None and digest != expected_sha256.lower():
        raise WeightsError(
            f"{folder} is not the model its card names: its sha256 is {digest}, the card expects {expected_sha256}. "
            "The folder changed since the card was written (a partial copy?); restore it, or update the card."
        )
    return digest


def component_bytes(folder: Path, itemsize: int | None) -> dict[str, int]:
    """Bytes each component folder's weights take once loaded (from file headers, nothing loaded)."""
    sizes: dict[str, int] = {}
    files = weight_files(folder)
    safe_dirs = {p.parent for p in files if p.suffix in SAFE}
    for p in files:
        if p.suffix in PICKLED and p.parent in safe_dirs:
            continue  # diffusers loads the safetensors beside it
        comp = p.parent.relative_to(folder).parts[0] if p.parent != folder else "model"
        if p.suffix in SAFE:
            n = tensor_bytes(read_header(p), itemsize)
        else:
            n = p.stat().st_size  # a pickle or an ONNX file: its size on disk is the best guess
        sizes[comp] = sizes.get(comp, 0) + n
    return sizes
