"""The timeline's gestures in a real JupyterLab (and Notebook 7) in headless Chromium: live feedback while dragging,
moves across tracks, the edit modes (ripple, roll, slip, slide, blade), multi-select with a marquee, copy and paste,
and thumbnails and waveforms at the zoom's resolution. Each gesture is checked twice: in the kernel's session, and
as the one cell it recorded in the notebook.

Each test opens its own copy of notebooks/editor.ipynb with its own project folder (the demo timeline: V1 c1 c2 c4
c3, V2 c5 c6, A1 c7 c8, A2 c9; 24 fps, 80 px a second, the track headers 100 px wide).
"""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
from browser_helpers import APPS, ARTIFACTS, IN_EACH_APP, MARKS, REPO, Kernel, artifact, cells_of, open_notebook

pytestmark = MARKS

PX = 80 / 24  # pixels a frame at the editor's first zoom


def x_of(frame: int):
    """Where a clip starting at ``frame`` is drawn, in px from the lanes' left edge."""
    return pytest.approx(100 + frame * PX, abs=0.01)


class Timeline:
    """A page holding the editor of a notebook of its own, the kernel behind it, and the gestures' cells."""

    def __init__(self, lab, browser, name: str, url: str = "lab/tree"):
        text = (REPO / "notebooks" / "editor.ipynb").read_text().replace("editor-demo", f"{name}-demo")
        (lab["work"] / f"{name}.ipynb").write_text(text)
        self.page = browser.new_page(viewport={"width": 1280, "height": 1000})
        open_notebook(self.page, f"{lab['url']}/{url}/{name}.ipynb")
        try:  # the first notebook of a fresh server on this loaded machine can take minutes to show its editor
            self.page.wait_for_selector(".nbe-frame[data-frame='0']", timeout=300_000)
            self.page.wait_for_selector(".nbe-clip[data-id='c1']", timeout=60_000)
        except Exception:
            ARTIFACTS.mkdir(exist_ok=True)
            self.page.screenshot(path=str(ARTIFACTS / f"timeline-{name}-no-editor.png"))
            raise
        self.editor = self.page.locator(".nbe-editor").first
        self.editor.scroll_into_view_if_needed()
        self.kernel = Kernel(lab, f"{name}.ipynb")
        self.cells = 0
        self.url, self.name, self.app = lab["url"], name, url

    def close(self) -> None:
        """The page, and the notebook's kernel (shut down: it holds its project's lock and its memory)."""
        self.kernel.close()
        self.page.close()
        for session in json.load(urllib.request.urlopen(f"{self.url}/api/sessions")):
            if session["path"].endswith(f"{self.name}.ipynb"):
                req = urllib.request.Request(f"{self.url}/api/sessions/{session['id']}", method="DELETE")
                urllib.request.urlopen(req).close()

    def eval(self, expr: str):
        return self.kernel.eval(expr)

    def until(self, expr: str, value, timeout: float = 20) -> None:
        """Wait until the kernel says ``expr`` is ``value``: a view's trait change reaches the kernel over the
        page's connection, not over this client's, so it may come a little after the page shows it."""
        deadline = time.monotonic() + timeout
        while (got := self.eval(expr)) != value and time.monotonic() < deadline:
            time.sleep(0.2)
        assert got == value

    def box(self, selector: str) -> dict:
        el = self.page.locator(selector).first
        el.scroll_into_view_if_needed()
        return el.bounding_box()

    def left(self, clip: str) -> float:
        return self.page.evaluate(f"parseFloat(document.querySelector(\".nbe-clip[data-id='{clip}']\").style.left)")

    def recorded(self) -> str:
        """The code of the next cell a gesture recorded, once the notebook shows it after the editor's cell (and
        after the cells recorded before it); also the session's last record."""
        self.cells += 1
        self.page.wait_for_function(
            f"(document.querySelector('.nbe-editor').dataset.cellsPlaced || 0) >= {self.cells}", timeout=30_000
        )
        cells = cells_of(self.page)
        at = next(i for i, c in enumerate(cells) if c.startswith("ui = s.ui()"))
        code = cells[at + self.cells]
        assert code == self.eval("s.history[-1].code")
        assert self.eval("len(s.history)") == self.history0 + self.cells - self.cells0  # one gesture, one cell
        return code

    def start(self) -> None:
        self.page.locator(".nbe-editor").first.focus()  # the keyboard to the editor, as a click on it would
        self.history0 = self.eval("len(s.history)")
        self.cells0 = self.cells

    def reset(self) -> None:
        """Back to the demo timeline (undone from the kernel, so the notebook keeps its cells), the selection
        tool, nothing selected."""
        self.eval(f"[s.undo() for _ in range(len(s.history) - {self.history0})] and None")
        self.eval("setattr(ui, 'selection', []) or setattr(ui, 'zoom', 80.0) or len(s.history)")
        self.page.locator(".nbe-tool[data-tool='select']").first.click()

    def drag(self, x: float, y: float, dx: float, dy: float = 0, during=None) -> None:
        self.page.mouse.move(x, y)
        self.page.mouse.down()
        self.page.mouse.move(x + dx, y + dy, steps=4)
        if during is not None:
            during()
        self.page.mouse.up()


@pytest.fixture(scope="module", params=list(APPS), ids=list(APPS.values()))
def demo(lab, browser, request):
    """One editor in each app for the edit-mode tests, put back to the demo timeline after each."""
    t = Timeline(lab, browser, f"modes-{APPS[request.param]}", url=request.param)
    yield t
    t.close()


@pytest.fixture
def tl(demo):
    demo.start()
    yield demo
    demo.reset()


@IN_EACH_APP
def test_dragging_an_unselected_clip_selects_it_and_shows_it_moving_from_the_first_pixel(lab, browser, app):
    t = Timeline(lab, browser, f"live-{APPS[app]}", url=app)
    try:
        t.start()
        page = t.page
        box = t.box(".nbe-clip[data-id='c6']")
        x, y = box["x"] + 30, box["y"] + box["height"] / 2
        left0 = t.left("c6")
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + 1, y)
        page.wait_for_selector(".nbe-clip[data-id='c6'].nbe-dragging.nbe-selected", timeout=5_000)
        page.mouse.move(x + 30, y, steps=3)
        assert t.left("c6") - left0 == pytest.approx(9 * PX, abs=0.01)  # where it lands, before the button is up
        page.mouse.up()
        assert t.recorded() == "s.move('c6', to=6.375)"  # the track it stays on goes unsaid
        assert t.eval("[s.clip('c6').start, s.clip('c6').track]") == [6.375, "V2"]
        assert t.eval("ui.selection") == ["c6"]
    finally:
        t.close()


def test_a_purely_vertical_drag_moves_a_clip_to_another_track_at_the_same_time(lab, browser):
    t = Timeline(lab, browser, "vertical")
    try:
        t.start()
        page = t.page
        box = t.box(".nbe-clip[data-id='c6']")
        v1 = t.box(".nbe-lane[data-track='V1']")
        x, y = box["x"] + 30, box["y"] + box["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x, v1["y"] + v1["height"] / 2, steps=4)
        # it shows on V1 while dragging
        page.wait_for_selector(".nbe-lane[data-track='V1'] .nbe-clip[data-id='c6'].nbe-dragging", timeout=5_000)
        page.mouse.up()
        assert t.recorded() == "s.move('c6', to=6, track='V1')"
        assert t.eval("[s.clip('c6').start, s.clip('c6').track]") == [6.0, "V1"]
        page.wait_for_selector(".nbe-lane[data-track='V1'] .nbe-clip[data-id='c6']:not(.nbe-dragging)")
        assert page.locator(".nbe-lane[data-track='V2'] .nbe-clip[data-id='c6']").count() == 0
    finally:
        t.close()


def test_shift_click_adds_to_the_selection_and_ctrl_v_pastes_it_at_the_playhead_in_notebook_7(lab, browser):
    t = Timeline(lab, browser, "paste", url="notebooks")
    try:
        t.start()
        page = t.page
        page.locator(".nbe-clip[data-id='c1']").first.click(position={"x": 40, "y": 10})
        page.locator(".nbe-clip[data-id='c5']").first.click(position={"x": 40, "y": 10}, modifiers=["Shift"])
        page.wait_for_function("document.querySelectorAll('.nbe-clip.nbe-selected').length === 2")
        t.until("ui.selection", ["c1", "c5"])
        page.keyboard.press("Control+c")
        page.locator(".nbe-ruler").first.click(position={"x": 100 + 240 * PX, "y": 10})
        page.keyboard.press("Control+v")
        assert t.recorded().startswith("s.paste(('c1', 'c5'), at=10)")
        copies = t.eval("ui.selection")
        assert t.eval(f"[(s.clip(c).start, s.clip(c).track) for c in {copies!r}]") == [[10.0, "V1"], [11.5, "V2"]]
        assert t.eval("len(s.clips)") == 11
    finally:
        t.close()


def test_the_ripple_tool_trims_an_edge_and_later_clips_follow_while_dragging(tl):
    page = tl.page
    page.keyboard.press("b")
    assert page.locator(".nbe-tool[data-tool='ripple']").get_attribute("aria-pressed") == "true"
    page.locator(".nbe-tl-head").first.screenshot(path=artifact("timeline-tools", tl.app))
    box = tl.box(".nbe-clip[data-id='c4'] .nbe-handle.nbe-out")
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    tl.drag(x, y, -30, during=lambda: assertion(tl.left("c3") == x_of(183)))  # c3 follows at once
    assert tl.recorded() == "s.trim('c4', src_out=4.625, ripple=True)"
    assert tl.eval("[s.clip('c4').duration, s.clip('c3').start]") == [1.625, 7.625]


def test_the_roll_tool_moves_the_cut_between_two_clips(tl):
    page = tl.page
    page.keyboard.press("n")
    box = tl.box(".nbe-clip[data-id='c2'] .nbe-handle.nbe-out")
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    tl.drag(x, y, 20, during=lambda: assertion(tl.left("c4") == x_of(150)))
    assert tl.recorded() == "s.roll('c2', 'c4', by=0.25)"
    assert tl.eval("[s.clip('c2').duration, s.clip('c4').start, s.clip('c4').duration]") == [2.25, 6.25, 1.75]


def test_the_slip_tool_shows_earlier_media_in_the_same_place(tl):
    page = tl.page
    page.keyboard.press("y")
    box = tl.box(".nbe-clip[data-id='c3']")
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    def during():
        assert page.locator(".nbe-clip[data-id='c3']").get_attribute("data-live") == "slip -9 fr"
        assert tl.left("c3") == x_of(192)  # the clip stays where it is

    tl.drag(x, y, 30, during=during)
    assert tl.recorded() == "s.slip('c3', by=-0.375)"
    assert tl.eval("[s.clip('c3').start, s.clip('c3').src_in]") == [8.0, 4.625]


def test_the_slide_tool_moves_a_clip_between_its_neighbours(tl):
    page = tl.page
    page.keyboard.press("u")
    box = tl.box(".nbe-clip[data-id='c4']")
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    tl.drag(x, y, 20, during=lambda: assertion(tl.left("c4") == x_of(150) and tl.left("c3") == x_of(198)))
    assert tl.recorded() == "s.slide('c4', by=0.25)"
    assert tl.eval("[s.clip('c2').duration, s.clip('c4').start, s.clip('c3').start]") == [2.25, 6.25, 8.25]


def test_the_blade_cuts_the_clicked_clip_at_the_clicked_frame(tl):
    page = tl.page
    page.locator(".nbe-tool[data-tool='blade']").first.click()
    box = tl.box(".nbe-clip[data-id='c3']")
    page.mouse.move(box["x"] + 24 * PX + 1, box["y"] + 10)
    page.wait_for_selector(".nbe-blade-line", state="visible")
    page.mouse.down()
    page.mouse.up()
    assert tl.recorded() == "s.split('c3', at=9)  # -> c10"
    assert tl.eval("[s.clip('c10').start, s.clip('c3').duration]") == [9.0, 1.0]


def test_escape_while_dragging_puts_the_clip_back_and_records_nothing(tl):
    page = tl.page
    box = tl.box(".nbe-clip[data-id='c6']")
    x, y = box["x"] + 30, box["y"] + box["height"] / 2

    def escape():
        assert tl.left("c6") == x_of(156)
        page.keyboard.press("Escape")
        assert tl.left("c6") == x_of(144)

    tl.drag(x, y, 40, during=escape)
    assert tl.eval("len(s.history)") == tl.history0
    assert tl.left("c6") == x_of(144)
    assert page.locator(".nbe-clip.nbe-dragging").count() == 0


def assertion(ok: bool) -> None:
    assert ok


def test_a_marquee_selects_every_clip_it_touches_and_delete_removes_them_in_one_cell(tl):
    page = tl.page
    v2 = tl.box(".nbe-lane[data-track='V2']")
    v1 = tl.box(".nbe-lane[data-track='V1']")
    x, y = v2["x"] + 100 + 120 * PX, v2["y"] + v2["height"] / 2  # empty V2 space between c5 and c6

    def during():
        page.wait_for_selector(".nbe-marquee")
        assert page.locator(".nbe-clip.nbe-selected").count() == 3  # shown selected while dragging
        tl.editor.screenshot(path=artifact("timeline-marquee", tl.app))

    tl.drag(x, y, 30 * PX, v1["y"] + v1["height"] / 2 - y, during=during)
    page.wait_for_function("document.querySelectorAll('.nbe-marquee').length === 0")
    page.wait_for_function("document.querySelectorAll('.nbe-clip.nbe-selected').length === 3")
    tl.until("ui.selection", ["c6", "c2", "c4"])
    page.keyboard.press("Delete")
    assert tl.recorded() == "s.delete(('c6', 'c2', 'c4'))"
    assert tl.eval("sorted(c.id for c in s.clips)") == ["c1", "c3", "c5", "c7", "c8", "c9"]


COVERED = """(id) => {
  const sc = document.querySelector('.nbe-scroller');
  const el = document.querySelector(`.nbe-clip[data-id='${id}']`);
  const left = parseFloat(el.style.left);
  const a = Math.max(0, sc.scrollLeft - left);
  const b = Math.min(parseFloat(el.style.width), sc.scrollLeft + sc.clientWidth - left);
  const spans = Array.from(el.querySelectorAll('.nbe-tile'), (d) => [parseFloat(d.style.left),
    parseFloat(d.style.left) + parseFloat(d.style.width), !!d.style.backgroundImage]).sort((x, y) => x[0] - y[0]);
  let at = a;
  for (const [l, r, shown] of spans) {
    if (l > at + 0.5) break;
    if (r > at) { if (!shown) return false; at = r; }
  }
  return at >= b - 0.5;
}"""

PEAKS_A_PX = """(id) => {
  const svgs = Array.from(document.querySelectorAll(`.nbe-clip[data-id='${id}'] .nbe-wave[data-peaks]`));
  const px = svgs.reduce((n, w) => n + parseFloat(w.style.width), 0);
  return svgs.reduce((n, w) => n + Number(w.dataset.peaks), 0) / px;
}"""


def test_thumbnails_cover_the_clip_in_view_and_waveforms_have_a_peak_a_pixel_at_any_zoom(tl):
    page = tl.page
    page.wait_for_function(f"({COVERED})('c1')", timeout=30_000)  # 80 px a second: the whole clip
    assert 0.8 < page.evaluate(f"({PEAKS_A_PX})('c9')") < 1.25
    tl.eval("setattr(ui, 'zoom', 2000.0) or 0")  # 8000 px for c1's 4 s
    page.wait_for_function("parseFloat(document.querySelector(\".nbe-clip[data-id='c1']\").style.width) > 7000")
    page.wait_for_function(f"({COVERED})('c1')", timeout=30_000)
    # only the chunks in view were asked for: not the 12 chunks of 8 tiles a frame that c1 has at this zoom
    assert page.locator(".nbe-clip[data-id='c1'] .nbe-tile").count() <= 5
    page.wait_for_function(f"({PEAKS_A_PX})('c9') > 0.8", timeout=30_000)
    assert page.evaluate(f"({PEAKS_A_PX})('c9')") < 1.25
    page.evaluate("document.querySelector('.nbe-scroller').scrollLeft = 4000")  # the middle of c1
    page.wait_for_function(f"({COVERED})('c1')", timeout=30_000)
    tl.editor.screenshot(path=artifact("timeline-zoomed", tl.app))
    page.wait_for_function(f"({PEAKS_A_PX})('c9') > 0.8", timeout=30_000)
    assert page.locator(".nbe-clip[data-id='c1'] .nbe-tile").count() <= 5
    page.evaluate("document.querySelector('.nbe-scroller').scrollLeft = 0")
