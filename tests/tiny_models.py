"""Fixtures for the generative tests: the tiny checkpoints, built once per run, and sessions that find them.

Test modules load this as a plugin (``pytest_plugins = ["tiny_models"]``), so the session-scoped checkpoints are
built once per run, into the run's base temp folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with ltx-video, ltx-video-v2, ltx-2, sd-img2img (and sepia-onnx when onnx is installed)."""
    from nbedit.models.tiny import make_tiny

    folder = tmp_path_factory.getbasetemp() / "tiny-models"
    make_tiny(folder)
    return folder


@pytest.fixture
def gs(tmp_path: Path, tiny_models: Path, monkeypatch: pytest.MonkeyPatch):
    """A session whose models come from the tiny checkpoints (through $NBEDIT_MODELS, as a user's would)."""
    import nbedit

    monkeypatch.setenv("NBEDIT_MODELS", str(tiny_models))
    # the CPU, where frames are bit-exact everywhere; NBEDIT_TEST_DEVICE=cuda runs the same tests on a GPU
    monkeypatch.setenv("NBEDIT_DEVICE", os.environ.get("NBEDIT_TEST_DEVICE", "cpu"))
    return nbedit.Session(tmp_path / "project")
