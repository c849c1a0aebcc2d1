"""A byte-budgeted LRU cache for decoded frames and audio, keyed by content so edits never make it stale.

Keys name the media by its sha256 (and the frame by its index), never by a clip or a timeline position: an edit
changes which frames are asked for, not what a frame of a file looks like, so nothing needs invalidating.
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

import numpy as np

# Every allocation above this size gets its own mapping, which free() gives back to the system at once.
MMAP_THRESHOLD = 128 * 1024
_M_MMAP_THRESHOLD = -3  # mallopt's parameter number in glibc's malloc.h


def fixed_mmap_threshold(threshold: int = MMAP_THRESHOLD) -> bool:
    """Keep glibc's mmap threshold at ``threshold`` bytes; True when it was set.

    glibc raises the threshold to the size of the largest block freed (up to 32 MiB), so after the first evicted
    frame, 6 MiB 1080p frame buffers come from the heap, where freed ones stayed with the process: a 2,000-frame
    scrub grew RSS by about 2 MiB a frame while the cache held its budget. Called when nbedit is imported; set
    ``NBEDIT_MMAP_THRESHOLD`` (bytes, or ``off``) or glibc's own ``MALLOC_MMAP_THRESHOLD_`` to choose otherwise.
    """
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return False
    try:
        return bool(ctypes.CDLL(None).mallopt(_M_MMAP_THRESHOLD, int(threshold)))
    except (OSError, AttributeError):
        return False


def _threshold_wanted() -> int | None:
    if "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return None  # the user chose glibc's threshold already
    value = os.environ.get("NBEDIT_MMAP_THRESHOLD", "").strip().lower()
    if value in ("off", "0", "no"):
        return None
    return int(value) if value.isdigit() else MMAP_THRESHOLD


if (_wanted := _threshold_wanted()) is not None:
    fixed_mmap_threshold(_wanted)


def cuda_device() -> str | None:
    """ "cuda" when torch sees a GPU, else None; on a machine with no NVIDIA driver it does not even load torch."""
    if "torch" not in sys.modules and not os.path.exists("/dev/nvidiactl"):
        return None
    try:
        import torch
    except ImportError:
        return None
    return "cuda" if torch.cuda.is_available() else None


class FrameCache:
    """Least-recently-used arrays up to ``budget`` bytes; safe to share between threads.

    ``device="cuda"`` keeps the arrays on the GPU as torch tensors (``"auto"``: there when one is present), so a
    large cache spends video memory rather than host memory; ``get`` still returns a numpy array.
    """

    def __init__(self, budget: int = 512 * 2**20, device: str | None = None):
        self.budget = budget
        self.device = cuda_device() if device == "auto" else (None if device == "cpu" else device)
        self.nbytes = 0
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[Hashable, Any] = OrderedDict()  # numpy arrays, or torch tensors on a GPU
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> np.ndarray | None:
        with self._lock:
            arr = self._items.get(key)
            if arr is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
        if self.device is not None:
            arr = arr.cpu().numpy()
            arr.flags.writeable = False
        return arr

    def put(self, key: Hashable, arr: np.ndarray) -> np.ndarray:
        """Store ``arr`` (made read-only, since callers share it) and return it."""
        arr.flags.writeable = False
        if arr.nbytes > self.budget:
            return arr
        stored = arr
        if self.device is not None:
            import torch

            stored = torch.from_numpy(arr.copy()).to(self.device)
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.nbytes -= _nbytes(old)
            self._items[key] = stored
            self.nbytes += arr.nbytes
            while self.nbytes > self.budget:
                _, dropped = self._items.popitem(last=False)
                self.nbytes -= _nbytes(dropped)
        return arr

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.nbytes = 0

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        where = f" on {self.device}" if self.device else ""
        return (
            f"<FrameCache{where} {len(self)} items, {self.nbytes / 2**20:.1f} of {self.budget / 2**20:.0f} MiB, "
            f"{self.hits} hits, {self.misses} misses>"
        )


def _nbytes(item: Any) -> int:
    return item.nbytes if isinstance(item, np.ndarray) else item.element_size() * item.nelement()
