"""A byte-budgeted LRU cache for decoded frames and audio, keyed by content so edits never make it stale.

Keys name the media by its sha256 (and the frame by its index), never by a clip or a timeline position: an edit
changes which frames are asked for, not what a frame of a file looks like, so nothing needs invalidating.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

import numpy as np


class FrameCache:
    """Least-recently-used arrays up to ``budget`` bytes; safe to share between threads."""

    def __init__(self, budget: int = 512 * 2**20):
        self.budget = budget
        self.nbytes = 0
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[Hashable, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> np.ndarray | None:
        with self._lock:
            arr = self._items.get(key)
            if arr is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return arr

    def put(self, key: Hashable, arr: np.ndarray) -> np.ndarray:
        """Store ``arr`` (made read-only, since callers share it) and return it."""
        arr.flags.writeable = False
        if arr.nbytes > self.budget:
            return arr
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.nbytes -= old.nbytes
            self._items[key] = arr
            self.nbytes += arr.nbytes
            while self.nbytes > self.budget:
                _, dropped = self._items.popitem(last=False)
                self.nbytes -= dropped.nbytes
        return arr

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.nbytes = 0

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return (
            f"<FrameCache {len(self)} items, {self.nbytes / 2**20:.1f} of {self.budget / 2**20:.0f} MiB, "
            f"{self.hits} hits, {self.misses} misses>"
        )
