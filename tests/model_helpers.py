"""Helpers for the generative tests: copies of checkpoints to change, and the frames of generated files."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np


def copy_model(tiny_models: Path, name: str, to: Path) -> Path:
    """A copy of a tiny checkpoint to damage or change, in a models folder of its own."""
    to.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copytree(tiny_models / name, to / name))


def frames_of(path: str | Path) -> np.ndarray:
    """Every decoded frame of a video file, (T, H, W, 3) uint8."""
    from nbedit import media

    with media.VideoReader(path) as reader:
        return np.stack([reader.frame(i) for i in range(len(reader))])


def frames_sha(path: str | Path) -> str:
    return hashlib.sha256(frames_of(path).tobytes()).hexdigest()
