"""The notebooks in notebooks/ run top to bottom in a fresh kernel (in a scratch folder, not in the repo)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_without_errors(path, tmp_path):
    nbk = nbformat.read(path, as_version=4)
    NotebookClient(nbk, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nbk.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    if path.stem == "quickstart":
        pictures = [o for c in nbk.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
        assert pictures, "the quickstart shows at least one frame"


def test_committed_notebooks_carry_no_outputs():
    for path in NOTEBOOKS:
        nbk = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") for c in nbk.cells if c.cell_type == "code"), path.name
