"""The command line: the demo builds, renders and writes its recipe; render takes a folder, .otio or recipe."""

from __future__ import annotations

import subprocess
import sys

import av
import nbformat
import opentimelineio as otio
import pytest


def nbedit_cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nbedit", *args], capture_output=True, text=True, timeout=600, cwd=cwd)


def frame_count(path) -> int:
    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(video=0))


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    res = nbedit_cli("demo", "--out", str(out), "--quiet")
    assert res.returncode == 0, res.stderr
    return out, res.stdout


@pytest.mark.slow
def test_demo_writes_video_recipe_and_timeline(demo):
    out, stdout = demo
    for name in ("demo.mp4", "recipe.ipynb", "timeline.otio"):
        assert (out / name).exists()
        assert str(out / name) in stdout
    for name in ("cut.fcpxml", "cut.xml", "cut.aaf"):  # for Final Cut Pro X, Premiere / Resolve, Avid
        assert (out / name).stat().st_size > 0 and name in stdout
    assert "jupyter lab" in stdout
    assert frame_count(out / "demo.mp4") == 252
    timeline = otio.adapters.read_from_file(str(out / "timeline.otio"))  # keep it alive while reading its tracks
    assert [t.name for t in timeline.tracks] == ["V1", "V2", "A1", "A2"]


@pytest.mark.slow
def test_render_a_project_folder(demo, tmp_path):
    out, _ = demo
    res = nbedit_cli("render", str(out / "project"), "-o", str(tmp_path / "p.mp4"), "--quiet")
    assert res.returncode == 0, res.stderr
    assert frame_count(tmp_path / "p.mp4") == 252


@pytest.mark.slow
def test_render_an_otio_file_gives_the_same_pictures_as_the_project(demo, tmp_path):
    from nbedit.recipes import file_hashes

    out, _ = demo
    res = nbedit_cli("render", str(out / "timeline.otio"), "-o", str(tmp_path / "t.mp4"), "--quiet")
    assert res.returncode == 0, res.stderr
    # the same frames; the recipes they carry differ (one opened a project, one an .otio file)
    assert file_hashes(tmp_path / "t.mp4") == file_hashes(out / "demo.mp4")


@pytest.mark.slow
def test_render_a_recipe_notebook_headless(demo, tmp_path):
    out, _ = demo
    res = nbedit_cli("render", str(out / "recipe.ipynb"), "-o", str(tmp_path / "r.mp4"), "--quiet")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "r.mp4").read_bytes() == (out / "demo.mp4").read_bytes()
    nbk = nbformat.read(out / "recipe.ipynb", as_version=4)
    assert "render" in nbk.cells[-1].metadata["tags"]


@pytest.mark.slow
def test_render_no_smart_re_encodes_every_frame_and_the_recipe_it_carries_says_so(demo, tmp_path):
    from nbedit.recipes import recipe_of_render

    out, _ = demo
    res = nbedit_cli("render", str(out / "project"), "-o", str(tmp_path / "full.mp4"), "--no-smart", "--quiet")
    assert res.returncode == 0, res.stderr
    assert frame_count(tmp_path / "full.mp4") == 252
    render_cell = nbformat.read(recipe_of_render(tmp_path / "full.mp4"), as_version=4).cells[-1]
    assert "smart=False" in render_cell.source


def test_render_of_something_else_is_a_clear_error(tmp_path):
    (tmp_path / "x.txt").write_text("hello")
    res = nbedit_cli("render", str(tmp_path / "x.txt"), "-o", str(tmp_path / "o.mp4"))
    assert res.returncode == 1
    assert "project folder, an .otio file or a recipe" in res.stderr
    assert "Traceback" not in res.stderr
