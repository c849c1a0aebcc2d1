"""Is a source still the file it was when imported? Its sha256, checked cheaply.

Hashing a 2 GB camera file takes seconds, so each file's (size, modification time) is kept with the sha256 it had
then, in this process and in a small cache file (``$NBEDIT_CACHE``, else ``~/.cache/nbedit/identity.json``):
while size and time stand, the file is taken to be the same one; when either changed, it is hashed again. A file
replaced after import (same path, other content) is then caught when it is next opened, and shown offline.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from .media import sha256_file

_lock = threading.Lock()
_known: dict[str, tuple[int, int, str]] | None = None


def _cache_file() -> Path:
    root = os.environ.get("NBEDIT_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "nbedit")
    return Path(root) / "identity.json"


def _load() -> dict[str, tuple[int, int, str]]:
    global _known
    if _known is None:
        try:
            raw = json.loads(_cache_file().read_text())
            _known = {k: (int(v[0]), int(v[1]), str(v[2])) for k, v in raw.items()}
        except (OSError, ValueError, TypeError, IndexError):
            _known = {}
    return _known


def _save() -> None:
    path = _cache_file()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps({k: list(v) for k, v in _load().items()}))
        os.replace(tmp, path)
    except OSError:  # a cache only: without it, files are hashed again next time
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass


def _stamp(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def remember(path: str, sha256: str) -> None:
    """Note the sha256 a file has now (it was just hashed, at import)."""
    stamp = _stamp(path)
    if stamp is not None:
        with _lock:
            _load()[os.path.abspath(path)] = (*stamp, sha256)
            _save()


def same(path: str, sha256: str) -> bool:
    """True if the file at ``path`` still has this sha256 (hashing it only if its size or time changed)."""
    path = os.path.abspath(path)
    stamp = _stamp(path)
    if stamp is None:
        return False
    with _lock:
        known = _load().get(path)
    if known is not None and known[:2] == stamp:
        return known[2] == sha256
    digest = sha256_file(path)
    with _lock:
        _load()[path] = (*stamp, digest)
        _save()
    return digest == sha256
