"""The tools in the editor widget: the crop rectangle, the mask overlay, the node graph and the reframe menu."""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import numpy as np
import pytest
from browser_helpers import ARTIFACTS, CHROMIUM, Kernel, run_all
from test_tools_footage import scene_session
from widget_helpers import Sent, picture

from nbedit.render import Compositor, Sources
from nbedit.tools.synthetic import Scene

SCENE = Scene(speed=(6, 2))


@pytest.fixture
def square(tmp_path):
    s, cid = scene_session(tmp_path, SCENE, frames=24)
    return s


def test_the_reframe_menu_runs_the_same_operation_as_a_cell(square):
    ui = square.ui()
    ui._on_message(ui, {"type": "edit", "op": "reframe", "aspect": "9:16", "clip": None}, [])
    assert ui.status == ""
    assert square.history[-1].code == "s.reframe(aspect='9:16')"
    assert square.cells.pending[-1] == square.history[-1].code
    assert (ui.doc["width"], ui.doc["height"]) == (134, 240)
    assert ui.doc["tracks"][0]["items"][0]["reframed"] is True


def test_the_crop_view_sends_the_whole_source_and_the_crop_box(square):
    square.reframe("c1", aspect="1:1", progress=False)
    ui = square.ui()
    sent = Sent(ui)
    ui.playhead = 10
    ui.show_crop = True
    msg, buffers = sent.last("frame")
    left, top, right, bottom = Compositor(square.timeline, Sources()).plan(10)[-1].transform[3]
    assert (msg["view"], msg["clip"]) == ("source", "c1")
    assert msg["crop"] == {"x": left / 320, "y": top / 240, "w": 240 / 320, "h": 1.0}
    shown = picture(buffers[0])
    assert shown.shape == (240, 320, 3) and np.abs(shown.astype(int) - SCENE.frame(10)).mean() < 4


def test_dragging_the_crop_sets_a_key_at_the_playhead(square):
    square.reframe("c1", aspect="1:1", progress=False)
    ui = square.ui()
    ui.playhead = 12
    ui._on_message(ui, {"type": "edit", "op": "crop_key", "clip": "c1", "x": 0.5, "y": 0.5}, [])
    assert ui.status == ""
    assert square.history[-1].code == "s.keyframe('c1', 'reframe', 0.5, (160.0, 120.0))"


def test_the_mask_overlay_is_a_png_over_the_masked_object(square):
    square.mask("c1", box=(32, 52, 96, 116), progress=False)
    ui = square.ui()
    sent = Sent(ui)
    ui.playhead = 6
    ui.show_mask = True
    msg, buffers = sent.last("frame")
    assert msg["mask"] is True and len(buffers) == 2
    rgba = picture(buffers[1], "rgba")
    x0, y0, x1, y1 = SCENE.box(6)
    assert rgba.shape == (240, 320, 4)
    assert rgba[y0 + 3 : y1 - 3, x0 + 3 : x1 - 3, 3].min() > 100 and rgba[:, 200:, 3].max() == 0


def test_no_overlay_or_crop_is_sent_unless_asked_for(square):
    square.mask("c1", box=(32, 52, 96, 116), progress=False)
    ui = square.ui()
    sent = Sent(ui)
    ui.playhead = 3
    msg, buffers = sent.last("frame")
    assert msg == {"type": "frame", "n": 3, "timecode": "00:00:00:03"} and len(buffers) == 1


def test_the_node_graph_lists_the_clips_stack_in_order(square, tmp_path):
    m = square.mask("c1", box=(32, 52, 96, 116), progress=False)
    square.effect("c1", "blur", radius=[(0.0, 0), (0.5, 6)], mask=m, invert=True)
    square.blend("c1", "screen", opacity=0.8)
    square.blend("V1", "normal")
    ui = square.ui()
    sent = Sent(ui)
    ui.selection = ["c1"]
    msg, _ = sent.last("graph")
    graph = msg["nodes"]
    assert msg["clip"] == "c1" and graph == ui.graph("c1")
    assert [n["kind"] for n in graph] == ["source", "blur", "blend", "track"]
    assert graph[1] == {"kind": "blur", "id": "e1", "label": "blur radius keyed (2)", "mask": f"{m.id} (inverted)"}
    assert graph[2]["label"] == "screen 0.8" and graph[3]["label"] == "V1 normal 1"


def test_the_bundle_carries_the_graph_view():
    from nbedit.widgets import Editor

    assert "function mountGraph" in Editor._esm and "nbe-crop" in Editor._esm


# ---- in a real JupyterLab, in headless Chromium ------------------------------------------------------------------

TOOLS_NOTEBOOK = [
    "import nbedit\nfrom nbedit.tools.synthetic import Scene",
    "path = Scene(speed=(6, 2)).write('square.avi', frames=24)\n"
    "s = nbedit.Session('tools-project', fresh=True)\ns.import_media(path)\ns.append('square')",
    "s.reframe('c1', aspect='1:1', progress=False)\nm = s.mask('c1', box=(32, 52, 96, 116), progress=False)\n"
    "s.effect('c1', 'blur', radius=4, mask=m, invert=True)",
    "ui = s.ui()\nui.selection = ['c1']\nui",
]


@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)")
def test_crop_rectangle_mask_overlay_graph_and_reframe_menu_in_jupyterlab(lab, browser):  # noqa: F811
    nbk = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in TOOLS_NOTEBOOK])
    nbk.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nbk, lab["work"] / "tools.ipynb")
    page = browser.new_page(viewport={"width": 1280, "height": 1100})
    try:
        page.goto(f"{lab['url']}/lab/tree/tools.ipynb?reset")  # only this notebook open
        page.wait_for_selector(".jp-Notebook", timeout=90_000)
        page.wait_for_timeout(1500)  # the kernel connects
        run_all(page)
        page.wait_for_selector(".nbe-frame[data-frame='0']", timeout=120_000)
        kernel = Kernel(lab)
        try:
            # the node graph of the selected clip: source, blur (its mask hanging below), reframe, track
            page.wait_for_selector(".nbe-graph .nbe-node-blur", timeout=30_000)
            kinds = page.eval_on_selector_all(".nbe-graph .nbe-node", "els => els.map(e => e.dataset.kind || '')")
            assert kinds[:2] == ["source", "blur"] and "reframe" in kinds
            assert page.locator(".nbe-graph .nbe-node-maskinput").count() == 1
            # the crop view: the whole source picture, the crop as a rectangle over it
            page.locator(".nbe-crop-toggle").first.click()
            page.wait_for_selector(".nbe-frame[data-view='source']", timeout=30_000)
            crop = page.locator(".nbe-crop").first
            assert crop.is_visible()
            editor = page.locator(".nbe-editor").first
            editor.scroll_into_view_if_needed()
            ARTIFACTS.mkdir(exist_ok=True)
            editor.screenshot(path=str(ARTIFACTS / "tools-crop.png"))
            # dragging the rectangle sets a key of the crop's centre at the playhead
            box = crop.bounding_box()
            x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            page.mouse.move(x, y)
            page.mouse.down()
            page.mouse.move(x - 40, y, steps=5)
            page.mouse.up()
            wait_for_op(kernel, "keyframe")
            assert kernel.eval("s.history[-1].code").startswith("s.keyframe('c1', 'reframe', 0.0, (")
            # the mask overlay, over the program picture
            page.locator(".nbe-crop-toggle").first.click()
            page.locator(".nbe-mask-toggle").first.click()
            page.wait_for_selector(".nbe-mask-overlay[style*='block']", timeout=30_000)
            editor.screenshot(path=str(ARTIFACTS / "tools-mask.png"))
            # the reframe menu: the selected clip, to 9:16
            page.locator(".nbe-reframe").first.select_option("9:16")
            wait_for_op(kernel, "reframe")
            assert kernel.eval("s.history[-1].code") == "s.reframe(clip='c1', aspect='9:16')"
        finally:
            kernel.close()
    finally:
        page.close()


def wait_for_op(kernel, op: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while kernel.eval("s.history[-1].op") != op and time.monotonic() < deadline:
        time.sleep(0.3)
