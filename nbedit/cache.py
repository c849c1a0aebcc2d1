"""Byte-budgeted LRU caches for decoded frames, preview JPEGs and audio, keyed by content so edits never make them
stale, and all counted in one memory budget; scrub proxies in a disk budget; ``s.caches`` shows them as a table.

Keys name the media by its sha256 (and the frame by its index), never by a clip or a timeline position: an edit
changes which frames are asked for, not what a frame of a file looks like, so nothing needs invalidating.
What a cache evicts goes back to the system, not only to the allocator (see :func:`give_back`).
"""

from __future__ import annotations

import ctypes
import html
import itertools
import os
import platform
import sys
import threading
import weakref
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .args import positive


def _malloc_trim() -> Any:
    if os.environ.get("NBEDIT_MALLOC_TRIM", "").strip().lower() in ("off", "0", "no"):
        return None
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return None
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


_TRIM = _malloc_trim()


def give_back() -> None:
    """Hand the memory that evicted items held back to the system, not only to the allocator.

    glibc raises its mmap threshold to the size of the largest block freed (up to 32 MiB), so after the first
    evicted frame, 6 MiB 1080p frame buffers come from its heaps, and freed ones stayed with the process: a
    2,000-frame scrub grew RSS by about 2 MiB a frame while the cache held its budget. ``malloc_trim`` returns the
    free pages of every heap. A fixed 128 KiB mmap threshold held RSS as flat at the same cost (new large buffers
    fault their pages in again: the scrub took 1.4x as long either way, bench/memory.py), but it would change
    every allocation of the process, others' libraries too; trimming happens only when a cache evicts.
    ``NBEDIT_MALLOC_TRIM=off`` leaves memory to glibc.
    """
    if _TRIM is not None:
        _TRIM(0)


def cuda_device() -> str | None:
    """ "cuda" when torch sees a GPU, else None; on a machine with no NVIDIA driver it does not even load torch."""
    if "torch" not in sys.modules and not os.path.exists("/dev/nvidiactl"):
        return None
    try:
        import torch
    except ImportError:
        return None
    return "cuda" if torch.cuda.is_available() else None


class Budget:
    """One byte budget over every cache in the process: past it, the least recently used item of any cache goes.

    Memory is the process's, so the caches of every session, preview and thumbnail strip in a kernel count into
    the one budget (:data:`MEMORY`); each cache may also have a cap of its own.

        >>> MEMORY.limit = 2 * 2**30           # or s.caches.budget = 2 * 2**30
    """

    def __init__(self, limit: int):
        self.limit = limit
        self._caches: weakref.WeakSet[FrameCache] = weakref.WeakSet()
        self._lock = threading.Lock()

    def join(self, cache: FrameCache) -> None:
        with self._lock:
            self._caches.add(cache)

    @property
    def caches(self) -> list[FrameCache]:
        with self._lock:
            return list(self._caches)

    @property
    def nbytes(self) -> int:
        return sum(c.nbytes for c in self.caches)

    def settle(self) -> None:
        """Evict the oldest items across the caches until their bytes fit the limit.

        Takes each cache's lock in turn under the budget's; caches call it holding none of theirs, so two
        threads filling two caches cannot wait on each other.
        """
        evicted = False
        with self._lock:
            caches = list(self._caches)
            total = sum(c.nbytes for c in caches)
            while total > self.limit:
                ages = [(age, c) for c in caches if (age := c.oldest()) is not None]
                if not ages:
                    break
                total -= min(ages, key=lambda a: a[0])[1].evict_oldest()
                evicted = True
        if evicted:
            give_back()


MEMORY = Budget(1024 * 2**20)


class DiskBudget:
    """A byte budget for files kept on disk only to be faster (scrub proxies): past it, the oldest files go.

    Only finished files count and go; hidden ones (a build's temp file) are left to their writer. Such files
    are made again when wanted, so removing one loses nothing the user made.

        >>> DISK.limit = 50 * 2**30
    """

    def __init__(self, limit: int):
        self.limit = limit

    @staticmethod
    def files(folder: os.PathLike) -> list[Path]:
        folder = Path(folder)
        return [f for f in folder.iterdir() if f.is_file() and not f.name.startswith(".")] if folder.is_dir() else []

    def trim(self, folder: os.PathLike, *, keep: os.PathLike | None = None) -> list[Path]:
        """Remove the oldest files of ``folder`` (never ``keep``) until the rest fit the limit; what went."""
        found = []
        for f in self.files(folder):
            try:
                st = f.stat()
            except FileNotFoundError:
                continue
            found.append((st.st_mtime, st.st_size, f))
        total = sum(size for _, size, _ in found)
        removed = []
        for _, size, f in sorted(found):
            if total <= self.limit:
                break
            if keep is not None and f == Path(keep):
                continue
            try:
                f.unlink()
            except FileNotFoundError:
                pass
            except OSError:
                continue  # not ours to remove: it still counts
            total -= size
            removed.append(f)
        return removed


DISK = DiskBudget(20 * 2**30)
_TICKS = itertools.count()  # recency across caches: a global LRU needs one clock


class FrameCache:
    """Least-recently-used arrays up to ``budget`` bytes; safe to share between threads.

    Its bytes also count into the process's one budget (:data:`MEMORY`, ``shared``), which evicts the least
    recently used item of any cache when the caches together exceed it. ``name`` is its row in ``s.caches``.

    ``device="cuda"`` keeps the arrays on the GPU as torch tensors (``"auto"``: there when one is present), so a
    large cache spends video memory rather than host memory; ``get`` still returns a numpy array.
    """

    def __init__(
        self,
        budget: int = 512 * 2**20,
        device: str | None = None,
        *,
        name: str = "decoded frames",
        shared: Budget | None = MEMORY,
    ):
        self.budget = budget
        self.name = name
        self.device = cuda_device() if device == "auto" else (None if device == "cpu" else device)
        self.nbytes = 0
        self.hits = 0
        self.misses = 0
        self.shared = shared
        # key -> (array or GPU tensor, tick of its last use)
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()
        if shared is not None:
            shared.join(self)

    def get(self, key: Hashable) -> np.ndarray | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            arr = item[0]
            self._items[key] = (arr, next(_TICKS))
            self._items.move_to_end(key)
            self.hits += 1
        if self.device is not None:
            arr = arr.cpu().numpy()
            arr.flags.writeable = False
        return arr

    def put(self, key: Hashable, arr: np.ndarray) -> np.ndarray:
        """Store ``arr`` (made read-only, since callers share it) and return it."""
        arr.flags.writeable = False
        if arr.nbytes > self.budget or (self.shared is not None and arr.nbytes > self.shared.limit):
            return arr
        stored = arr
        if self.device is not None:
            import torch

            stored = torch.from_numpy(arr.copy()).to(self.device)
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.nbytes -= _nbytes(old[0])
            self._items[key] = (stored, next(_TICKS))
            self.nbytes += arr.nbytes
            evicted = self.nbytes > self.budget
            while self.nbytes > self.budget:  # no name keeps the dropped item: the trim below returns it
                self.nbytes -= _nbytes(self._items.popitem(last=False)[1][0])
        if self.shared is not None and self.shared.nbytes > self.shared.limit:
            self.shared.settle()
        elif evicted:
            give_back()
        return arr

    def oldest(self) -> int | None:
        """The tick of the least recently used item (None when empty), for the shared budget."""
        with self._lock:
            return next(iter(self._items.values()))[1] if self._items else None

    def evict_oldest(self) -> int:
        """Drop the least recently used item; the bytes freed."""
        with self._lock:
            if not self._items:
                return 0
            _, (dropped, _) = self._items.popitem(last=False)
            freed = _nbytes(dropped)
            self.nbytes -= freed
            return freed

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.nbytes = 0

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        where = f" on {self.device}" if self.device else ""
        return (
            f"<FrameCache {self.name!r}{where} {len(self)} items, {self.nbytes / 2**20:.1f} of "
            f"{self.budget / 2**20:.0f} MiB, {self.hits} hits, {self.misses} misses>"
        )


def _nbytes(item: Any) -> int:
    return item.nbytes if isinstance(item, np.ndarray) else item.element_size() * item.nelement()


@dataclass(frozen=True)
class CacheRow:
    name: str
    entries: int
    nbytes: int
    budget: int


class Caches:
    """What every cache holds, as a table: ``s.caches`` in a cell shows it.

    Caches of the same kind (the session's decoded frames and the thumbnails', say) share a row, their caps added; the
    last rows are the total against the one memory budget, and files kept on disk against the disk budget (DISK).

        >>> s.caches.budget = 2 * 2**30        # the one memory budget, for every cache in the kernel
        >>> s.caches.nbytes <= s.caches.budget
        True
    """

    def __init__(self, budget: Budget = MEMORY, disk: dict[str, os.PathLike] | None = None):
        self.shared = budget
        self.disk = dict(disk or {})

    @property
    def budget(self) -> int:
        return self.shared.limit

    @budget.setter
    def budget(self, limit: int) -> None:
        self.shared.limit = int(positive(limit, "the cache budget (bytes)"))
        self.shared.settle()

    @property
    def nbytes(self) -> int:
        return self.shared.nbytes

    def rows(self) -> list[CacheRow]:
        kinds: dict[str, list[FrameCache]] = {}
        for c in self.shared.caches:
            kinds.setdefault(c.name, []).append(c)
        rows = []
        for name in sorted(kinds):
            group = kinds[name]
            caps = sum(c.budget for c in group)
            rows.append(CacheRow(name, sum(len(c) for c in group), sum(c.nbytes for c in group), caps))
        rows.append(CacheRow("all in memory", sum(r.entries for r in rows), self.nbytes, self.budget))
        for name, folder in self.disk.items():
            sizes = []
            for f in DISK.files(folder):
                try:
                    sizes.append(f.stat().st_size)
                except FileNotFoundError:
                    continue
            rows.append(CacheRow(name, len(sizes), sum(sizes), DISK.limit))
        return rows

    def __repr__(self) -> str:
        lines = [f"{'cache':<16} {'entries':>8} {'bytes':>12} {'budget':>12}"]
        for r in self.rows():
            lines.append(f"{r.name:<16} {r.entries:>8} {_size(r.nbytes):>12} {_size(r.budget):>12}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{h}</th>" for h in ("cache", "entries", "bytes", "budget"))
        body = "".join(
            f"<tr><td>{html.escape(r.name)}</td><td>{r.entries}</td><td>{_size(r.nbytes)}</td>"
            f"<td>{_size(r.budget)}</td></tr>"
            for r in self.rows()
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n / 2**10:.1f} KiB" if n >= 2**10 else f"{n} B"
