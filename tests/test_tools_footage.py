"""Footage with a known truth for the AI tools' tests (and checks that the truth is what the file holds).

The other tools tests import ``scene_session`` from here: a session holding one generated clip of a moving square.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import nbedit
from nbedit.media import VideoReader
from nbedit.tools.synthetic import Scene, iou, psnr


def scene_session(folder: Path, scene: Scene, frames: int = 24, name: str = "square") -> tuple[nbedit.Session, str]:
    """A fresh session in ``folder`` with the scene written losslessly and placed on V1 as clip c1."""
    folder.mkdir(parents=True, exist_ok=True)
    path = scene.write(folder / f"{name}.avi", frames=frames, fps=24)
    s = nbedit.Session(folder / "project")
    s.import_media(path)
    clip = s.append(name, track="V1")
    return s, clip.id


def test_the_written_file_holds_the_scene_exactly(tmp_path):
    scene = Scene()
    path = scene.write(tmp_path / "s.avi", frames=6)
    with VideoReader(path) as r:
        assert len(r) == 6 and all(np.array_equal(r.frame(k), scene.frame(k)) for k in range(6))


def test_the_subject_sits_on_whole_pixels_between_frames():
    scene = Scene(speed=(6, 2))
    x0, y0, _, _ = scene.box(3)
    assert scene.box(3.5)[:2] == (x0 + 3, y0 + 1)


def test_iou_and_psnr_measure_what_they_say():
    mask = np.zeros((10, 10), np.uint8)
    mask[0:5, 0:5] = 255
    assert iou(mask, (0, 0, 5, 5)) == 1.0 and iou(mask, (0, 0, 10, 5)) == 0.5
    a = np.zeros((4, 4, 3), np.uint8)
    assert psnr(a, a) == float("inf") and round(psnr(a, a + 1), 2) == 48.13
