"""End to end, in a real JupyterLab (and Notebook 7) in headless Chromium: the timeline's In and Out marks on the
ruler, the media pool and source monitor, three-point editing (Insert and Overwrite of the marked source range as
recorded s.insert / s.overwrite cells) and the render of the In-Out range from the widget.

The demo's timeline is 24 fps at 80 px a second, and its ruler's first frame is 100 px from its left edge.
"""

from __future__ import annotations

import time

from browser_helpers import (
    APPS,
    ARTIFACTS,
    IN_EACH_APP,
    MARKS,
    Kernel,
    artifact,
    cells_of,
    editing,
    open_editor,
)

pytestmark = MARKS


def x_of(seconds: float) -> float:
    return 100 + 80 * seconds


def wait_for(kernel: Kernel, expr: str, want, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    got = kernel.eval(expr)
    while got != want and time.monotonic() < deadline:
        time.sleep(0.2)
        got = kernel.eval(expr)
    assert got == want, f"{expr} is {got!r}, not {want!r}"


def open_pool(page) -> None:
    """The media pool and source monitor, shown from the timeline's head (hidden until asked for)."""
    page.locator(".nbe-pool-toggle").first.click()
    page.wait_for_selector(".nbe-source-panel", state="visible")


def open_source(page, media: str) -> None:
    if not page.locator(".nbe-source-panel").first.is_visible():
        open_pool(page)
    item = page.locator(f".nbe-pool-item[data-media='{media}']").first
    item.scroll_into_view_if_needed()
    item.dblclick()
    page.wait_for_selector(f".nbe-source-frame[data-media='{media}']", timeout=30_000)


@IN_EACH_APP
def test_in_and_out_marks_are_drawn_on_the_ruler_with_their_timecodes_and_alt_x_clears_them(lab, browser, app):
    with editing(lab, browser, f"marks-{APPS[app]}", app=app) as (page, kernel):
        editor = page.locator(".nbe-editor").first
        ruler = page.locator(".nbe-ruler").first
        ruler.scroll_into_view_if_needed()
        edits = kernel.eval("len(s.history)")
        ruler.click(position={"x": x_of(1.0), "y": 10})
        page.keyboard.press("i")
        ruler.click(position={"x": x_of(2.5), "y": 10})
        page.keyboard.press("o")
        wait_for(kernel, "[ui.mark_in, ui.mark_out]", [24, 60])
        shade = page.locator(".nbe-ruler .nbe-io-range").first
        box, at = shade.bounding_box(), ruler.bounding_box()
        assert abs(box["x"] - at["x"] - x_of(1.0)) <= 1
        assert abs(box["width"] - 80 * (61 - 24) / 24) <= 1  # the Out mark's frame is inside the range
        assert page.locator(".nbe-io-tc").first.text_content() == (
            "In 00:00:01:00  Out 00:00:02:12  Duration 00:00:01:13"
        )
        editor.screenshot(path=artifact("source-marked-range", app))

        page.keyboard.press("Alt+x")
        wait_for(kernel, "[ui.mark_in, ui.mark_out]", [-1, -1])
        page.wait_for_selector(".nbe-ruler .nbe-io-range", state="detached", timeout=10_000)
        assert kernel.eval("len(s.history)") == edits  # marks are the view's: setting them edits nothing


def test_a_pool_item_opens_in_the_source_monitor_and_scrubs_its_own_frames_in_notebook_7(lab, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    editor = open_editor(page, f"{lab['url']}/notebooks/editor.ipynb")
    kernel = Kernel(lab, "editor.ipynb")
    try:
        pool = kernel.eval("sorted(s.media)")
        assert not page.locator(".nbe-source-panel").first.is_visible()  # until asked for
        open_pool(page)
        page.wait_for_function(f"document.querySelectorAll('.nbe-pool-item').length === {len(pool)}")
        names = page.locator(".nbe-pool-name").all_text_contents()
        assert "harbour.mp4" in names and "music.wav" in names
        assert page.locator(".nbe-pool-item[data-media='harbour'] .nbe-pool-dur").first.text_content() == "00:00:06:00"
        page.wait_for_function(
            "getComputedStyle(document.querySelector(\".nbe-pool-item[data-media='harbour'] .nbe-pool-thumb\"))"
            ".backgroundImage.startsWith('url(')"
        )

        open_source(page, "harbour")
        wait_for(kernel, "[ui.source, ui.source_playhead]", ["harbour", 0])
        scrub = page.locator(".nbe-source-scrub").first
        box = scrub.bounding_box()
        page.mouse.move(box["x"] + 2, box["y"] + 6)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 6, steps=5)
        page.mouse.up()
        page.wait_for_function("+document.querySelector('.nbe-source-frame').dataset.frame >= 70", timeout=20_000)
        shown = int(page.locator(".nbe-source-frame").first.get_attribute("data-frame"))
        assert shown == kernel.eval("ui.source_playhead") and abs(shown - 72) <= 2  # half of 144 frames
        assert kernel.eval("ui.playhead") == 0  # the timeline's playhead stays where it was

        # its own marks: the keys go to the monitor clicked last
        page.keyboard.press("i")
        page.keyboard.press("Shift+ArrowRight")
        page.keyboard.press("o")
        wait_for(kernel, "[ui.source_in, ui.source_out, ui.mark_in]", [shown, shown + 10, -1])
        assert page.locator(".nbe-source-marks").first.text_content().endswith("Duration 00:00:00:11")
        editor.screenshot(path=str(ARTIFACTS / "source-view.png"))
    finally:
        kernel.close()
        page.close()


@IN_EACH_APP
def test_insert_and_overwrite_put_the_marked_source_at_the_playhead_as_recorded_cells(lab, browser, app):
    with editing(lab, browser, f"threepoint-{APPS[app]}", app=app) as (page, kernel):
        open_source(page, "harbour")
        page.keyboard.press("End")  # the source's last frame, then back a second
        for _ in range(24):
            page.keyboard.press("ArrowLeft")
        page.keyboard.press("i")
        page.keyboard.press("End")
        page.keyboard.press("o")
        wait_for(kernel, "[ui.source_in, ui.source_out]", [119, 143])

        ruler = page.locator(".nbe-ruler").first
        ruler.scroll_into_view_if_needed()
        ruler.click(position={"x": x_of(2.0), "y": 10})
        wait_for(kernel, "ui.playhead", 48)
        length = kernel.eval("s.end_frame()")
        page.keyboard.press(",")
        wait_for(kernel, "s.history[-1].op", "insert", timeout=30)
        code = kernel.eval("s.history[-1].code")
        assert code.startswith("s.insert('harbour', track='V1', at=2, src_in=4.958333, src_out=6, audio='A1')")
        assert kernel.eval("s.end_frame()") == length + 25  # what was after the playhead moved right
        page.wait_for_function("(document.querySelector('.nbe-editor').dataset.cellsPlaced || 0) >= 1")
        assert code in cells_of(page)

        # the timeline's In mark wins over the playhead; overwrite moves nothing
        ruler.click(position={"x": x_of(0.5), "y": 10})
        page.keyboard.press("i")
        ruler.click(position={"x": x_of(3.0), "y": 10})
        wait_for(kernel, "[ui.mark_in, ui.playhead]", [12, 72])
        length = kernel.eval("s.end_frame()")
        page.keyboard.press(".")
        wait_for(kernel, "s.history[-1].op", "overwrite", timeout=30)
        code = kernel.eval("s.history[-1].code")
        assert code.startswith("s.overwrite('harbour', track='V1', at=0.5, src_in=4.958333, src_out=6, audio='A1')")
        assert kernel.eval("s.end_frame()") == length
        page.wait_for_function("(document.querySelector('.nbe-editor').dataset.cellsPlaced || 0) >= 2")
        cells = cells_of(page)
        at = next(i for i, c in enumerate(cells) if c.startswith("ui = s.ui()"))
        assert cells[at + 1 : at + 3] == kernel.eval("[r.code for r in s.history][-2:]")  # in order
        assert page.evaluate("!!document.activeElement.closest('.nbe-editor')")  # the keyboard stays


@IN_EACH_APP
def test_render_in_out_asks_for_a_file_name_shows_progress_and_records_the_call(lab, browser, app):
    folder = f"renderio-{APPS[app]}-demo"
    with editing(lab, browser, f"renderio-{APPS[app]}", app=app) as (page, kernel):
        edits = kernel.eval("len(s.history)")
        ruler = page.locator(".nbe-ruler").first
        ruler.scroll_into_view_if_needed()
        ruler.click(position={"x": x_of(1.0), "y": 10})
        page.keyboard.press("i")
        ruler.click(position={"x": x_of(1.5), "y": 10})
        page.keyboard.press("o")
        wait_for(kernel, "[ui.mark_in, ui.mark_out]", [24, 36])
        page.locator(".nbe-render-io").first.click()
        field = page.locator(".nbe-render-name").first
        field.wait_for(timeout=10_000)
        default = field.input_value()
        assert default == f"{folder}/renders/demo-in-out.mp4"
        page.keyboard.type("short")  # typed over the selected name; its letters are not the editor's keys
        page.keyboard.press("Enter")
        page.wait_for_selector(".nbe-io[data-rendered]", timeout=60_000)
        path = f"{folder}/renders/short.mp4"
        assert page.locator(".nbe-render-msg").first.text_content() == f"rendered {path} (0.542 s)"
        assert kernel.eval(f"__import__('av').open({path!r}).streams.video[0].frames") == 13
        page.wait_for_function("(document.querySelector('.nbe-editor').dataset.cellsPlaced || 0) >= 1")
        assert f"s.render({path!r}, start=1, end=1.5416666666666667)" in cells_of(page)
        assert kernel.eval("len(s.history)") == edits  # a render edits nothing, and the "s" typed split nothing


RELINK_DEMO = """import shutil
from pathlib import Path

import nbedit
from nbedit import media

here = Path("relink-demo").absolute()
here.mkdir(exist_ok=True)
a = media.testsrc(here / "a.mp4", seconds=4, fps=24, size=(320, 240))
first = nbedit.Session(here / "first", fresh=True)
first.import_media(a)
first.append("a", src_in=0, src_out=2)
xml = first.export(here / "cut.xml").path
(here / "moved").mkdir(exist_ok=True)
shutil.move(a, here / "moved" / "a.mp4")  # the file moves after the export: the import finds it offline
s = nbedit.Session(here / "project", fresh=True)
s.import_timeline(xml)"""


def test_an_offline_pool_item_is_relinked_from_the_pool_by_typing_its_folder(lab, browser):
    with editing(lab, browser, "relink", RELINK_DEMO) as (page, kernel):
        assert kernel.eval("s.media['a'].online") is False
        open_pool(page)
        row = page.locator(".nbe-pool-item[data-media='a']").first
        row.wait_for()
        assert "nbe-offline" in row.get_attribute("class")
        page.locator(".nbe-source-panel").first.screenshot(path=artifact("relink-offline", "lab/tree"))
        row.locator(".nbe-relink-go").click()
        field = row.locator(".nbe-relink-path")
        field.fill("/no/such/folder")
        field.press("Enter")  # refused: the reason shows, and the field stays, with what was typed, to mend it
        page.wait_for_function("document.querySelector('.nbe-status').textContent.startsWith('No file at')")
        field = page.locator(".nbe-pool-item[data-media='a'] .nbe-relink-path").first
        assert field.is_visible() and field.input_value() == "/no/such/folder"
        folder = kernel.eval("str(here / 'moved')")
        field.fill(folder)
        page.locator(".nbe-source-panel").first.screenshot(path=artifact("relink", "lab/tree"))
        field.press("Enter")
        wait_for(kernel, "s.media['a'].online", True)
        page.wait_for_function(
            "!document.querySelector(\".nbe-pool-item[data-media='a']\").classList.contains('nbe-offline')",
            timeout=20_000,
        )
        assert page.locator(".nbe-pool-item[data-media='a'] .nbe-relink-go").count() == 0  # online: no button
        sha = kernel.eval("s.media['a'].info.sha256")
        code = f"s.relink('a', {folder + '/a.mp4'!r}, sha256={sha!r})"
        deadline = time.monotonic() + 20
        while code not in cells_of(page) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert code in cells_of(page)
        assert kernel.eval("ui.status") == ""
