"""The inspector, the editor's messages, the proxy badge, timecode entry and the layout at any aspect and width, in
a real JupyterLab (and Notebook 7) in a real headless Chromium. Screenshots go to test-artifacts/."""

from __future__ import annotations

import re
import time
from pathlib import Path

import av
import pytest
from browser_helpers import (
    APPS,
    ARTIFACTS,
    IN_EACH_APP,
    MARKS,
    Kernel,
    artifact,
    editing,
    open_editor,
    open_notebook,
    own_notebook,
)

pytestmark = MARKS


def wait_for(predicate, timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def type_into(page, selector: str, text: str) -> None:
    box = page.locator(selector).first
    box.click()
    box.fill(text)
    box.press("Enter")


# a light project (no generated clip, so no model to load): two cuts on V1, a placed, blurred inset on V2 (c3),
# sound on A1 (c4)
LIGHT_CELL = """import nbedit
from nbedit import media
a = media.testsrc('{folder}-a.mp4', seconds=4, fps=24, size=(640, 360), variant=0, tone_hz=440)
b = media.testsrc('{folder}-b.mp4', seconds=4, fps=24, size=(320, 240), variant=1, tone_hz=660)
s = nbedit.Session('{folder}', fresh=True)
s.append(s.import_media(a), track='V1', src_in=0, src_out=4)
s.append(s.import_media(b), track='V1', src_in=0, src_out=4)
inset = s.overwrite('{folder}-b', track='V2', at=1.5, src_in=0, src_out=3)
s.transform(inset, x=190, y=-95, scale=0.35)
s.opacity(inset, 0.9)
s.effect(inset, 'blur', radius=2)
s.gain(s.append('{folder}-a', track='A1', src_in=0, src_out=4), -9.0)"""


@IN_EACH_APP
def test_the_inspector_shows_the_selected_clip_and_each_change_there_is_one_recorded_cell(lab, browser, app):
    folder = f"inspect-{APPS[app]}"
    with editing(lab, browser, folder, LIGHT_CELL.format(folder=folder), app=app) as (page, kernel):
        editor = page.locator(".nbe-editor").first
        page.locator(".nbe-clip[data-id='c3']").first.click()  # the inset on V2
        panel = ".nbe-inspector[data-clip='c3']"
        page.wait_for_selector(panel)
        rows = page.evaluate(
            f"""() => Object.fromEntries(Array.from(document.querySelectorAll("{panel} .nbe-insp-row"), (r) =>
                 [r.querySelector('.nbe-insp-label').textContent,
                  (r.querySelector('input[type=text]') || {{}}).value ?? r.lastChild.textContent]))"""
        )
        assert rows["Name"] == rows["Media"] == f"{folder}-b.mp4" and rows["Track"] == "V2"
        assert rows["Start"] == "00:00:01:12" and rows["Duration"].startswith("00:00:03:00")
        assert rows["Source in"] == "00:00:00:00" and rows["Source out"] == "00:00:03:00"
        assert (rows["Speed"], rows["Scale"], rows["Opacity"]) == ("1", "0.35", "0.9")
        assert page.locator(f"{panel} [data-field='x']").input_value() == "190"
        assert page.locator(f"{panel} [data-field='effect.e1.radius']").input_value() == "2"

        history = kernel.eval("len(s.history)")
        type_into(page, f"{panel} [data-field='opacity']", "0.5")
        wait_for(lambda: kernel.eval("len(s.history)") == history + 1, what="the opacity change")
        assert kernel.eval("s.history[-1].code") == "s.opacity('c3', 0.5)"
        page.wait_for_selector(".jp-Cell .jp-InputArea-editor:has-text(\"s.opacity('c3', 0.5)\")", timeout=20_000)
        page.wait_for_function(f"document.querySelector(\"{panel} [data-field='opacity']\").value === '0.5'")

        type_into(page, f"{panel} [data-field='x']", "120")
        wait_for(lambda: kernel.eval("len(s.history)") == history + 2, what="the move")
        assert kernel.eval("s.history[-1].code") == "s.transform('c3', x=120, y=-95.0, scale=0.35)"
        type_into(page, f"{panel} [data-field='effect.e1.radius']", "6")
        wait_for(lambda: kernel.eval("len(s.history)") == history + 3, what="the blur")
        assert kernel.eval("s.history[-1].code") == "s.effect('c3', 'e1', radius=6)"

        type_into(page, f"{panel} [data-field='src_in']", "00:00:00:12")
        wait_for(lambda: kernel.eval("len(s.history)") == history + 4, what="the trim")
        assert kernel.eval("s.history[-1].code") == "s.trim('c3', src_in=0.5, ripple=False)"

        # a value out of range: the reason in the panel, the session as it was, the field back to the clip's value
        state = kernel.eval("s.state()")
        type_into(page, f"{panel} [data-field='opacity']", "2")
        page.wait_for_selector(".nbe-insp-error:has-text('Opacity must be between 0 and 1, not 2')")
        said, shown = (page.locator(s).first.bounding_box() for s in (".nbe-insp-error", ".nbe-inspector"))
        assert shown["y"] <= said["y"] and said["y"] + said["height"] <= shown["y"] + shown["height"]  # in view
        assert page.locator(f"{panel} [data-field='opacity']").input_value() == "0.5"
        assert kernel.eval("s.state()") == state and kernel.eval("len(s.history)") == history + 4
        editor.screenshot(path=artifact("inspector", app))
        page.keyboard.press("ArrowRight")  # the next action takes the message away
        page.wait_for_function("document.querySelector('.nbe-insp-error').textContent === ''")


@IN_EACH_APP
def test_a_refused_gesture_says_why_in_an_editors_words_until_the_next_action(lab, browser, app):
    with editing(lab, browser, f"message-{APPS[app]}", app=app) as (page, kernel):
        state = kernel.eval("s.state()")
        handle = page.locator(".nbe-clip[data-id='c3'] .nbe-handle.nbe-out").first  # street.mp4, 8 s to 10.5 s
        handle.scroll_into_view_if_needed()
        box = handle.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + 160, y, steps=6)  # two seconds more than the media holds
        page.mouse.up()
        status = page.locator(".nbe-status").first
        page.wait_for_function("document.querySelector('.nbe-status').textContent.length > 0", timeout=20_000)
        text = status.text_content()
        assert text.startswith("Clip “street.mp4” (at 00:00:08:00): it reads up to "), text
        assert "'c3'" not in text and "Error" not in text and "src_" not in text
        assert kernel.eval("s.state()") == state
        page.keyboard.press("ArrowLeft")  # the next keypress takes it away
        page.wait_for_function("document.querySelector('.nbe-status').textContent === ''")
        deadline = time.monotonic() + 20  # the view's change reaches the kernel by its own channel, a moment later
        while kernel.eval("ui.status") != "" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert kernel.eval("ui.status") == ""


def damaged(src: Path, out: Path) -> Path:
    """A copy of ``src`` with its middle frame's packet overwritten: it opens, and decoding fails half way."""
    with av.open(str(src)) as c:
        packets = sorted((p for p in c.demux(video=0) if p.size), key=lambda p: p.pts)
        mid = packets[len(packets) // 2]
    data = bytearray(src.read_bytes())
    data[mid.pos : mid.pos + mid.size] = b"\xff" * mid.size
    out.write_bytes(bytes(data))
    return out


PROXY_CELL = """import nbedit
from nbedit import media
src = media.testsrc('{name}-src.mp4', seconds=24, fps=24, size=(960, 540), gop=1000, audio=False)
s = nbedit.Session('{name}-demo', fresh=True)
s.append(s.import_media(src), track='V1', src_in=0, src_out=24)"""


@IN_EACH_APP
def test_the_proxy_badge_shows_a_build_with_its_progress_then_ready_then_a_failure_with_its_reason(lab, browser, app):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    stem = f"proxy-{APPS[app]}"
    name = own_notebook(lab, stem, PROXY_CELL.format(name=stem))
    try:
        open_notebook(page, f"{lab['url']}/{app}/{name}")
        badge = ".nbe-proxy"
        page.wait_for_selector(f"{badge}[data-state='building']", timeout=120_000)
        progress = []
        read = f"() => {{ const b = document.querySelector('{badge}'); return [b.dataset.state, b.textContent]; }}"
        while (shown := page.evaluate(read))[0] == "building":
            assert re.fullmatch(r"proxy \d+%", shown[1]), shown[1]
            progress.append(int(shown[1][6:-1]))
            page.wait_for_timeout(150)
        assert page.locator(badge).first.get_attribute("data-state") == "ready"
        assert page.locator(badge).first.text_content() == "proxy ready"
        assert len(set(progress)) >= 2 and progress == sorted(progress)  # it moved while the build ran
        kernel = Kernel(lab, name)
        try:
            damaged(lab["work"] / f"{stem}-src.mp4", lab["work"] / f"{stem}-bad.mp4")
            kernel.eval(f"s.append(s.import_media('{stem}-bad.mp4'), track='V1', src_in=0, src_out=1) and 0")
        finally:
            kernel.close()
        page.wait_for_selector(f"{badge}[data-state='failed']", timeout=60_000)
        text = page.locator(badge).first.text_content()
        assert text.startswith(f"proxy failed: {stem}-bad.mp4: Frame ") and text.endswith("could not be decoded."), text
        page.locator(".nbe-editor").first.screenshot(path=artifact("proxy-failed", app))
    finally:
        page.close()


@IN_EACH_APP
def test_timecode_entry_jumps_the_playhead_and_says_when_the_text_is_not_a_time(lab, browser, app):
    with editing(lab, browser, f"jump-{APPS[app]}", app=app) as (page, kernel):
        page.locator(".nbe-timecode").first.click()
        entry = page.locator(".nbe-tc-entry").first
        entry.fill("00:00:05:12")
        entry.press("Enter")
        page.wait_for_selector(".nbe-frame[data-frame='132']", timeout=20_000)
        assert kernel.eval("ui.playhead") == 132
        page.keyboard.press("Control+j")  # the editor has the keyboard again: Ctrl+J opens the entry
        entry.fill("+12")
        entry.press("Enter")
        page.wait_for_selector(".nbe-frame[data-frame='144']", timeout=20_000)
        page.keyboard.press("Control+j")
        entry.fill("48")
        entry.press("Enter")
        page.wait_for_selector(".nbe-frame[data-frame='48']", timeout=20_000)
        page.keyboard.press("Control+j")
        entry.fill("00:02:00:00")
        entry.press("Enter")
        page.wait_for_selector(".nbe-status:has-text('00:02:00:00 is past the end of the timeline')")
        entry.fill("half past")
        entry.press("Enter")
        page.wait_for_selector(".nbe-status:has-text('“half past” is not a timecode')")
        assert entry.is_visible() and kernel.eval("ui.playhead") == 48
        entry.press("Escape")
        page.wait_for_function("document.querySelector('.nbe-status').textContent === ''")
        assert page.locator(".nbe-timecode").first.is_visible()


TALL_CELL = """import nbedit
from nbedit import media
src = media.testsrc('tall-src.mp4', seconds=2, fps=30, size=(320, 240))
s = nbedit.Session('tall-demo', fresh=True)
s.set_format(1080, 1920, 30)
s.append(s.import_media(src), track='V1', src_in=0, src_out=2)"""


def test_a_9_by_16_timeline_fits_its_preview_and_leaves_the_timeline_in_view(lab, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    name = own_notebook(lab, "tall", TALL_CELL)
    try:
        open_notebook(page, f"{lab['url']}/lab/tree/{name}")
        page.wait_for_selector(".nbe-frame[data-frame='0']", timeout=120_000)
        page.wait_for_selector(".nbe-clip[data-id='c1']", timeout=30_000)
        editor = page.locator(".nbe-editor").first
        editor.scroll_into_view_if_needed()
        page.wait_for_timeout(300)  # the picture's own size is known once it loads
        stage = page.locator(".nbe-stage").first.bounding_box()
        assert abs(stage["width"] / stage["height"] - 9 / 16) < 0.02
        assert stage["height"] <= 0.45 * 900
        whole = editor.bounding_box()
        assert whole["height"] < 900  # preview, inspector and timeline on one screen
        lane = page.locator(".nbe-lane[data-track='V1']").first.bounding_box()
        assert lane["y"] + lane["height"] <= 900 and lane["y"] > stage["y"] + stage["height"]
        ARTIFACTS.mkdir(exist_ok=True)
        editor.screenshot(path=str(ARTIFACTS / "editor-9x16.png"))
    finally:
        page.close()


@pytest.mark.parametrize("app", ["lab/tree", "notebooks"], ids=["jupyterlab", "notebook7"])
def test_at_900_px_wide_the_editor_shows_preview_inspector_and_timeline_without_page_overflow(lab, browser, app):
    page = browser.new_page(viewport={"width": 900, "height": 1000})
    folder = f"narrow-{app.split('/')[0]}"
    name = own_notebook(lab, folder, LIGHT_CELL.format(folder=folder))
    try:
        editor = open_editor(page, f"{lab['url']}/{app}/{name}")
        page.locator(".nbe-clip[data-id='c3']").first.click()
        page.wait_for_selector(".nbe-inspector[data-clip='c3']")
        editor.scroll_into_view_if_needed()
        overflow = page.evaluate(
            """() => [document.scrollingElement, ...document.querySelectorAll('.jp-WindowedPanel-outer, .nbe-editor')]
                 .filter((el) => el.scrollWidth > el.clientWidth + 1).map((el) => el.className || el.tagName)"""
        )
        assert overflow == []
        boxes = {
            part: page.locator(f".nbe-editor {part}").first.bounding_box()
            for part in (".nbe-stage", ".nbe-inspector", ".nbe-scroller", ".nbe-transport")
        }
        for part, b in boxes.items():
            assert b["x"] >= 0 and b["x"] + b["width"] <= 900, part
            assert b["y"] >= 0 and b["y"] + min(b["height"], 40) <= 1000, part  # on screen, at least its top
            assert b["width"] >= 150, part
        ARTIFACTS.mkdir(exist_ok=True)
        editor.screenshot(path=str(ARTIFACTS / f"editor-900px-{app.split('/')[0]}.png"))
    finally:
        page.close()
