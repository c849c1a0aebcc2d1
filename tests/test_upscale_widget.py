"""The timeline's Upscale menu: s.upscale on the selected clip, one recorded cell equal to the Python call, new
media in the pool, and a busy sign around it that ends however the tool ends."""

from __future__ import annotations

import time

import nbformat
import pytest
from browser_helpers import ARTIFACTS, MARKS, REPO, Kernel, open_notebook
from photo_helpers import moved, photo, photo_session, unchanged
from widget_helpers import Sent

import nbedit

SIZE = (48, 32)


def busy_texts(sent: Sent) -> list[str]:
    return [m["text"] for m, _ in sent.got if m.get("type") == "busy"]


@pytest.fixture
def photo_ui(tmp_path, monkeypatch):
    monkeypatch.setenv("NBEDIT_MODELS", str(tmp_path / "none"))  # Lanczos: no model folder
    s, cid = photo_session(tmp_path, [moved(photo("coffee"), k, SIZE) for k in range(3)])
    ui = s.ui()
    ui.selection = [cid]
    return s, ui, cid


def test_the_upscale_menu_records_the_same_cell_as_the_python_call(photo_ui, tmp_path):
    s, ui, cid = photo_ui
    sent = Sent(ui)
    ui._on_message(ui, {"type": "edit", "op": "upscale", "factor": 2, "clip": cid}, [])
    assert ui.status == ""
    assert s.history[-1].code == f"s.upscale({cid!r}, factor=2)"
    assert s.cells.pending[-1] == s.history[-1].code
    made = s.media[sorted(set(s.media) - {"photo"})[0]]
    assert (made.info.width, made.info.height) == (SIZE[0] * 2, SIZE[1] * 2)
    assert busy_texts(sent) == [f"upscaling {cid} 2×…", ""]

    typed, cid2 = photo_session(tmp_path / "typed", [moved(photo("coffee"), k, SIZE) for k in range(3)])
    typed.upscale(cid2, factor=2)
    assert typed.history[-1].code == s.history[-1].code  # the gesture's cell is the call a cell makes


def test_the_upscale_menu_takes_the_selection_when_the_view_names_no_clip(photo_ui):
    s, ui, cid = photo_ui
    ui._on_message(ui, {"type": "edit", "op": "upscale", "factor": 4, "clip": None}, [])
    assert ui.status == "" and s.history[-1].code == f"s.upscale({cid!r}, factor=4)"


def test_the_upscale_menu_without_a_selection_says_so_and_changes_nothing(photo_ui):
    s, ui, _ = photo_ui
    before = unchanged(s)
    ui.selection = []
    sent = Sent(ui)
    ui._on_message(ui, {"type": "edit", "op": "upscale", "factor": 2, "clip": None}, [])
    assert ui.status.startswith("Select a clip first") and unchanged(s) == before
    assert busy_texts(sent) == []


@pytest.mark.parametrize("factor", [3, True, "2", None])
def test_the_upscale_menu_refuses_another_factor_and_changes_nothing(photo_ui, factor):
    s, ui, cid = photo_ui
    before = unchanged(s)
    ui._on_message(ui, {"type": "edit", "op": "upscale", "factor": factor, "clip": cid}, [])
    assert "upscale by 2 or 4" in ui.status.lower() and unchanged(s) == before


def test_a_refused_upscale_ends_the_busy_sign_and_changes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("NBEDIT_MODELS", str(tmp_path / "none"))
    s = nbedit.Session(tmp_path / "p")
    s.import_media(nbedit.media.testsrc(tmp_path / "tone.mp4", seconds=1, size=(64, 48)), name="tone")
    s.append("tone", track="V1")
    s.append("tone", track="A1")  # c2: its sound only
    before = unchanged(s)
    ui = s.ui()
    sent = Sent(ui)
    ui._on_message(ui, {"type": "edit", "op": "upscale", "factor": 2, "clip": "c2"}, [])
    assert ui.status and unchanged(s) == before  # a clip of sound has no picture to upscale
    assert busy_texts(sent) == ["upscaling c2 2×…", ""]


def test_the_upscale_menu_runs_real_esrgan_when_the_bundled_models_are_installed(tmp_path, with_bundled):
    s, cid = photo_session(tmp_path, [moved(photo("coffee"), k, SIZE) for k in range(2)])
    ui = s.ui()
    ui.selection = [cid]
    ui._on_message(ui, {"type": "edit", "op": "upscale", "factor": 2, "clip": cid}, [])
    assert ui.status == ""
    assert s.history[-1].code == f"s.upscale({cid!r}, factor=2, model='realesr-animevideov3-x2')"


# ---- in a real JupyterLab, in headless Chromium ------------------------------------------------------------------

UPSCALE_NOTEBOOK = [
    f"import sys\nsys.path.insert(0, {str(REPO / 'tests')!r})\nimport os\nos.environ['NBEDIT_MODELS'] = 'no-models'\n"
    "import nbedit",
    "path = nbedit.media.testsrc('bars.mp4', seconds=1, size=(64, 48), audio=False)\n"
    "s = nbedit.Session('upscale-project', fresh=True)\ns.import_media(path, name='bars')\ns.append('bars')",
    "ui = s.ui()\nui.selection = ['c1']\nui",
]


@pytest.mark.slow
@pytest.mark.parametrize("_", [None], ids=["lab"])
def test_the_upscale_menu_upscales_the_selected_clip_in_jupyterlab(lab, browser, _):
    nbk = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in UPSCALE_NOTEBOOK])
    nbk.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nbk, lab["work"] / "upscale.ipynb")
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    try:
        open_notebook(page, f"{lab['url']}/lab/tree/upscale.ipynb")
        page.wait_for_selector(".nbe-upscale", timeout=120_000)
        kernel = Kernel(lab, "upscale.ipynb")
        try:
            menu = page.locator(".nbe-upscale").first
            assert menu.locator("option").all_text_contents() == ["Upscale…", "2×", "4×"]
            menu.select_option("2")
            deadline = time.monotonic() + 60
            while kernel.eval("s.history[-1].op") != "upscale" and time.monotonic() < deadline:
                time.sleep(0.3)
            assert kernel.eval("s.history[-1].code") == "s.upscale('c1', factor=2)"
            assert kernel.eval("sorted([m.info.width, m.info.height] for m in s.media.values())") == [
                [64, 48],
                [128, 96],
            ]
            page.wait_for_selector(".nbe-busy", state="hidden", timeout=30_000)  # the sign went with the tool
            assert not menu.is_disabled() and menu.input_value() == ""
            ARTIFACTS.mkdir(exist_ok=True)
            page.locator(".nbe-tl-head").first.screenshot(path=str(ARTIFACTS / "upscale-menu.png"))
        finally:
            kernel.close()
    finally:
        page.close()


pytestmark = [m for m in MARKS if m.name != "slow"]  # the browser test marks itself slow; the rest are fast
