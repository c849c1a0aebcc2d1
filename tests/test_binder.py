"""binder/ alone makes an environment the notebooks run in: a fresh venv, ``pip install -r binder/requirements.txt``,
then ``bash binder/postBuild`` with that venv first on PATH, as Binder does, in a copy of the checkout. pip reaches
only the package registries this machine is configured with (and its cache, which makes a second run quick)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
# what a checkout holds that Binder's clone would not: builds, caches, models and wheels made here
LEFT_OUT = {".git", ".venv", "venv", "build", "dist", "demo-out", "test-artifacts", ".wheels", "__pycache__"}
LEFT_OUT |= {".pytest_cache", ".ruff_cache", ".ipynb_checkpoints"}


def copy_checkout(dest: Path) -> Path:
    def ignore(folder: str, names: list[str]) -> list[str]:
        here = Path(folder)
        out = [n for n in names if n in LEFT_OUT or n.endswith(".egg-info") or (here / n).is_symlink()]
        if here.name in ("models",):  # model folders are built, never committed
            out += [n for n in names if (here / n).is_dir()]
        return out

    shutil.copytree(ROOT, dest, ignore=ignore)
    return dest


def run(cmd: list, cwd: Path, env: dict, timeout: int = 1800) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{cmd} failed ({done.returncode}):\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done.stdout


RUN_NOTEBOOK = """
import json, sys
import nbformat
from nbclient import NotebookClient

nbk = nbformat.read(sys.argv[1], as_version=4)
# a last cell of our own: which Python and which nbedit the kernel ran
nbk.cells.append(nbformat.v4.new_code_cell("import sys, nbedit; print(sys.prefix); print(nbedit.__file__)"))
NotebookClient(nbk, timeout=600, kernel_name="binder-venv", resources={"metadata": {"path": sys.argv[2]}}).execute()
errors = [f"{o.ename}: {o.evalue}" for c in nbk.cells for o in c.get("outputs", []) if o.output_type == "error"]
pictures = sum("image/png" in o.get("data", {}) for c in nbk.cells for o in c.get("outputs", []))
print(json.dumps({"errors": errors, "pictures": pictures, "last": nbk.cells[-1].outputs[0]["text"].split()}))
"""


@pytest.mark.slow
def test_a_venv_built_from_binder_alone_runs_the_quickstart(tmp_path: Path):
    repo = copy_checkout(tmp_path / "repo")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}", VIRTUAL_ENV=str(venv), HF_HUB_OFFLINE="1")
    python = str(venv / "bin" / "python")

    run([python, "-m", "pip", "install", "-r", "binder/requirements.txt"], repo, env)
    run(["bash", "binder/postBuild"], repo, env)

    # the CPU build of torch, and no CUDA libraries pulled beside it
    assert run([python, "-c", "import torch; print(torch.version.cuda)"], repo, env).strip() == "None"
    installed = json.loads(run([python, "-m", "pip", "list", "--format=json"], repo, env))
    assert not [p["name"] for p in installed if p["name"].lower().startswith(("nvidia-", "triton"))]
    # what postBuild builds, where the notebooks find it
    assert (repo / "models" / "ltx-video" / "model_index.json").exists()
    assert (repo / "models" / "sd-img2img" / "model_index.json").exists()
    assert (repo / "demo-out" / "demo.mp4").exists()

    run([python, "-m", "ipykernel", "install", "--prefix", str(venv), "--name", "binder-venv"], repo, env)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    notebook = repo / "notebooks" / "01-quickstart.ipynb"
    got = json.loads(run([python, "-c", RUN_NOTEBOOK, str(notebook), str(scratch)], repo, env).splitlines()[-1])
    assert got["errors"] == []
    assert got["pictures"] >= 1
    prefix, nbedit_file = got["last"]
    assert Path(prefix).resolve() == venv.resolve()  # the kernel was the venv's, running the copy's nbedit
    assert Path(nbedit_file).resolve().is_relative_to(repo.resolve())
    assert (scratch / "quickstart.mp4").exists()
