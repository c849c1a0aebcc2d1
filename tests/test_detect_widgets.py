"""The timeline's Detect menu: each entry runs the detector's operation on the selected clip, recorded as a cell,
and the markers it makes reach the view (speech as ranges, with their durations)."""

from __future__ import annotations

import time

import nbformat
import pytest
from browser_helpers import ARTIFACTS, MARKS, REPO, Kernel, open_notebook
from detect_footage import shots, spoken
from test_detect_ops import SENTENCES

import nbedit


@pytest.fixture
def talk_ui(tmp_path, monkeypatch):
    monkeypatch.setenv("NBEDIT_MODELS", str(tmp_path / "none"))  # the classic detector: no model folder
    path, truth = spoken(tmp_path / "talk.mp4", SENTENCES, seconds=10, snr_db=10.0)
    s = nbedit.Session(tmp_path / "p")
    s.import_media(path, name="talk")
    s.append("talk", audio="A1")
    return s, s.ui(), truth


def test_the_detect_menu_marks_speech_on_the_selected_clip_as_a_recorded_cell(talk_ui):
    s, ui, truth = talk_ui
    ui.selection = ["c1"]
    ui._on_message(ui, {"type": "edit", "op": "detect", "detector": "speech", "clip": "c1"}, [])
    assert ui.status == ""
    assert s.history[-1].code.startswith("s.speech('c1', method='classic', regions=((")
    assert s.cells.pending[-1] == s.history[-1].code
    marks = [m for m in ui.doc["markers"] if m["name"] == "speech"]
    assert len(marks) == len(truth) and all(m["clip"] == "c1" and m["duration"] > 24 for m in marks)


def test_the_detect_menu_removes_silence_from_the_selection_in_one_undo_step(talk_ui):
    s, ui, _ = talk_ui
    before = s.state()
    ui.selection = ["c1"]
    ui._on_message(ui, {"type": "edit", "op": "detect", "detector": "remove_silence", "clip": None}, [])
    assert ui.status == "" and s.history[-1].code.startswith("s.remove_silence('c1', method='classic', cuts=((")
    assert [len(t["items"]) for t in ui.doc["tracks"]] == [2, 2]
    ui._on_message(ui, {"type": "edit", "op": "undo"}, [])
    assert s.state() == before


def test_the_detect_menu_without_a_selection_says_so_and_records_nothing(talk_ui):
    s, ui, _ = talk_ui
    ops = len(s.history)
    ui.selection = []
    ui._on_message(ui, {"type": "edit", "op": "detect", "detector": "speech", "clip": None}, [])
    assert ui.status.startswith("Select a clip first") and len(s.history) == ops


def test_the_detect_menu_splits_a_clip_at_its_shot_cuts(tmp_path):
    path, cuts = shots(tmp_path / "shots.mp4", ["astronaut", "coffee", "chelsea"], frames=24)
    s = nbedit.Session(tmp_path / "p")
    s.import_media(path, name="shots")
    s.append("shots")
    ui = s.ui()
    ui._on_message(ui, {"type": "edit", "op": "detect", "detector": "split_shots", "clip": "c1"}, [])
    assert ui.status == ""
    assert s.history[-1].code.startswith("s.detect_shots('c1', split=True, method='scenedetect', cuts=(1.0, 2.0)")
    assert [(c["start"], c["dur"]) for c in ui.doc["tracks"][0]["items"]] == [(0, 24), (24, 24), (48, 24)]


# ---- in a real JupyterLab, in headless Chromium ------------------------------------------------------------------

DETECT_NOTEBOOK = [
    f"import sys\nsys.path.insert(0, {str(REPO / 'tests')!r})\nimport nbedit\nfrom detect_footage import spoken",
    f"path, truth = spoken('talk.mp4', {SENTENCES!r}, seconds=10, snr_db=10.0)\n"
    "s = nbedit.Session('detect-project', fresh=True)\ns.import_media(path, name='talk')\ns.append('talk', audio='A1')",
    "ui = s.ui()\nui.selection = ['c1']\nui",
]


@pytest.mark.slow
@pytest.mark.parametrize("_", [None], ids=["lab"])
def test_the_detect_menu_draws_speech_ranges_on_the_clip_in_jupyterlab(lab, browser, _):
    nbk = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in DETECT_NOTEBOOK])
    nbk.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nbk, lab["work"] / "detect.ipynb")
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    try:
        open_notebook(page, f"{lab['url']}/lab/tree/detect.ipynb")  # runs all, again if the kernel was not ready
        page.wait_for_selector(".nbe-detect", timeout=120_000)
        kernel = Kernel(lab, "detect.ipynb")
        try:
            page.locator(".nbe-detect").first.select_option("speech")
            deadline = time.monotonic() + 60
            while kernel.eval("s.history[-1].op") != "speech" and time.monotonic() < deadline:
                time.sleep(0.3)
            assert kernel.eval("s.history[-1].code").startswith("s.speech('c1', method=")
            page.wait_for_selector(".nbe-clip-marker.nbe-marker-range", timeout=30_000)
            bands = page.locator(".nbe-clip-marker.nbe-marker-range")
            assert bands.count() == len(SENTENCES)
            widths = [bands.nth(k).bounding_box()["width"] for k in range(bands.count())]
            assert all(w > 20 for w in widths)  # ranges, two seconds or so long, not ticks
            ARTIFACTS.mkdir(exist_ok=True)
            page.locator(".nbe-timeline").first.screenshot(path=str(ARTIFACTS / "detect-speech.png"))
        finally:
            kernel.close()
    finally:
        page.close()


pytestmark = [m for m in MARKS if m.name != "slow"]  # the browser test marks itself slow; the rest are fast
