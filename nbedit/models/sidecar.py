"""A generated file and the ``.json`` beside it: the key and sha256 that let a later call reuse the file.

>>> cached(path, gen["key"])                      # True: the file holds the frames of that key
>>> write_sidecar(path, media_sha256, gen)        # after writing a new file
"""

from __future__ import annotations

import json
import os
from pathlib import Path

GENERATED = "generated"  # the project folder generated files are written to


def cached(path: Path, key: str) -> bool:
    """True when ``path`` holds the frames of ``key``: its sidecar names the key and the file's sha256."""
    from ..media import sha256_file

    side = path.with_suffix(".json")
    if not (path.exists() and side.exists()):
        return False
    try:
        meta = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    return meta.get("key") == key and meta.get("sha256") == sha256_file(path)


def write_sidecar(path: Path, sha256: str, gen: dict) -> None:
    """``<file>.json``: the key and sha256 that let a later call reuse the file, and the whole provenance."""
    side = {"key": gen["key"], "sha256": sha256, "generation": gen}
    tmp = path.with_name(f".{path.stem}.json.partial")
    tmp.write_text(json.dumps(side, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path.with_suffix(".json"))
