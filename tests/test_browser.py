"""End to end: a real JupyterLab (and Notebook 7) in a real headless Chromium, driving the editor widget.

The server runs on 127.0.0.1 with a temporary config, runtime and settings folder; the notebook comes from
notebooks/ (copied into the server's scratch root, so running it writes nothing into the repository). The kernel's
state is read over its own connection, as a second client.
"""

from __future__ import annotations

import json
import time

from browser_helpers import (
    APPS,
    ARTIFACTS,
    IN_EACH_APP,
    MARKS,
    PLAY_AND_WAIT,
    REPO,
    Kernel,
    artifact,
    cells_of,
    notebook_scroll,
    open_editor,
    open_notebook,
)

pytestmark = MARKS


def test_editor_renders_scrubs_trims_and_undoes_in_jupyterlab(lab, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    editor = open_editor(page, f"{lab['url']}/lab/tree/editor.ipynb")
    editor.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    editor.screenshot(path=str(ARTIFACTS / "editor.png"))
    kernel = Kernel(lab)
    try:
        # scrubbing: drag along the ruler, the preview follows
        ruler = page.locator(".nbe-ruler").first.bounding_box()
        page.mouse.move(ruler["x"] + 60, ruler["y"] + 10)
        page.mouse.down()
        page.mouse.move(ruler["x"] + 200, ruler["y"] + 10, steps=5)
        page.mouse.up()
        # the drag's last frame shows, and the kernel's playhead catches up with the view's (it hears later)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            shown = int(page.locator(".nbe-frame").first.get_attribute("data-frame"))
            wanted = int(page.locator(".nbe-playhead").first.get_attribute("data-frame"))
            if shown == wanted and kernel.eval("ui.playhead") == wanted:
                break
            time.sleep(0.2)
        assert wanted > 0 and shown == wanted and kernel.eval("ui.playhead") == wanted

        # playing: space starts real-time playback from the playhead, space stops it
        page.locator(".nbe-ruler").first.click(position={"x": 110, "y": 10})
        page.wait_for_timeout(500)
        start = int(page.locator(".nbe-frame").first.get_attribute("data-frame"))
        page.keyboard.press(" ")
        page.wait_for_timeout(1500)
        page.keyboard.press(" ")
        page.wait_for_timeout(500)
        assert int(page.locator(".nbe-frame").first.get_attribute("data-frame")) > start + 6

        # trimming: drag the start of the last clip on V1 to the right
        before = kernel.eval("s.state()")
        handle = page.locator(".nbe-clip[data-id='c3'] .nbe-handle.nbe-in").first
        handle.scroll_into_view_if_needed()
        box = handle.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + 60, y, steps=6)
        page.mouse.up()
        deadline = time.monotonic() + 30
        while kernel.eval("s.history[-1].op") != "trim" and time.monotonic() < deadline:
            time.sleep(0.3)
        code = kernel.eval("s.history[-1].code")
        assert code.startswith("s.trim('c3', src_in=")
        assert kernel.eval("s.state()") != before
        # ...and the notebook got a new cell holding that code
        page.wait_for_selector(f'.jp-Cell .jp-InputArea-editor:has-text("{code[:20]}")', timeout=20_000)

        # undo from the keyboard, with the editor focused
        page.locator(".nbe-ruler").first.click(position={"x": 300, "y": 10})
        page.keyboard.press("Control+z")
        deadline = time.monotonic() + 30
        while kernel.eval("s.state()") != before and time.monotonic() < deadline:
            time.sleep(0.3)
        assert kernel.eval("s.state()") == before

        # the README's picture (docs/editor.png): a clip selected, its properties in the inspector
        page.locator(".nbe-clip", has_text="a-red-kite").first.click()
        page.wait_for_selector(".nbe-insp-row", timeout=20_000)
        page.wait_for_timeout(2000)  # the thumbnails of the clips in view
        editor.screenshot(path=str(ARTIFACTS / "editor-selected.png"))
    finally:
        kernel.close()
        page.close()


def test_editor_renders_in_notebook_7(lab, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    try:
        editor = open_editor(page, f"{lab['url']}/notebooks/editor.ipynb")
        assert editor.locator(".nbe-lane").count() == 4
        assert editor.locator(".nbe-xfade").count() == 1
    finally:
        page.close()


def contrast(rgb_a: str, rgb_b: str) -> float:
    """WCAG contrast ratio of two CSS rgb() colours."""

    def luminance(css: str) -> float:
        parts = [int(float(v)) / 255 for v in css[css.index("(") + 1 : css.index(")")].split(",")[:3]]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in parts]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((luminance(rgb_a), luminance(rgb_b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_editor_reads_well_in_the_dark_theme(lab, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    try:
        editor = open_editor(page, f"{lab['url']}/lab/tree/editor.ipynb")
        page.locator(".lm-MenuBar-item", has_text="Settings").first.click()
        page.locator(".lm-Menu-item", has_text="Theme").first.hover()
        page.locator(".lm-Menu-item", has_text="JupyterLab Dark").first.click()
        page.wait_for_function("document.body.dataset.jpThemeLight === 'false'", timeout=20_000)
        page.wait_for_timeout(500)
        editor.scroll_into_view_if_needed()
        editor.screenshot(path=str(ARTIFACTS / "editor-dark.png"))
        colours = editor.evaluate(
            "el => { const s = getComputedStyle(el); const t = getComputedStyle(el.querySelector('.nbe-tl-info'));"
            " return [s.backgroundColor, s.color, t.color]; }"
        )
        background, text, info = colours
        assert contrast(background, text) > 7 and contrast(background, info) > 3
        assert contrast(background, "rgb(0, 0, 0)") < 3  # really a dark background
    finally:
        page.locator(".lm-MenuBar-item", has_text="Settings").first.click()
        page.locator(".lm-Menu-item", has_text="Theme").first.hover()
        page.locator(".lm-Menu-item", has_text="JupyterLab Light").first.click()
        page.close()


LONG_CLIPS = 2000  # over V1, V2, A1, A2: 500 one-second clips each, a crossfade at every 25th cut


def test_a_long_timeline_draws_only_the_clips_in_view(lab, browser):
    """2,000 clips, written as an .otio file and opened in one operation (appending them one by one with the old
    core would take minutes). Prints the DOM counts and the gesture-to-redraw times; asserts no timing."""
    import nbformat

    from nbedit import media
    from nbedit.demo import long_timeline

    work = lab["work"]
    video = media.testsrc(work / "long-src.mp4", seconds=4, fps=24, size=(320, 240), variant=0, tone_hz=440)
    long_timeline(work / "long.otio", str(video), clips=LONG_CLIPS)
    cells = ["import nbedit\ns = nbedit.Session.from_otio('long.otio', 'long-project')\nui = s.ui()\nui"]
    nbk = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbk.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nbk, work / "long.ipynb")
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    try:
        open_notebook(page, f"{lab['url']}/lab/tree/long.ipynb")
        page.wait_for_selector(".nbe-frame[data-frame='0']", timeout=120_000)
        page.wait_for_selector(".nbe-clip[data-id='c1']", timeout=60_000)
        kernel = Kernel(lab, "long.ipynb")
        try:
            drawn = page.locator(".nbe-clip").count()
            print(f"\n{LONG_CLIPS} clips: {drawn} clip elements drawn at first")
            assert 0 < drawn < LONG_CLIPS / 10
            assert page.locator(".nbe-clip[data-id='c500']").count() == 0  # V1's last clip, 500 s away
            assert page.locator(".nbe-tick").count() < 100  # the ruler too: only the ticks in view

            # scrolling draws what comes into view, and lets go of what left it
            t = page.evaluate(
                """async () => {
                  const sc = document.querySelector('.nbe-scroller');
                  const t0 = performance.now();
                  sc.scrollLeft = 44 + 250 * 80;  // 250 s in, at 80 px a second
                  while (!document.querySelector(".nbe-clip[data-id='c251']")) await new Promise(requestAnimationFrame);
                  return performance.now() - t0;
                }"""
            )
            drawn_after = page.locator(".nbe-clip").count()
            print(f"scrolled 250 s: {drawn_after} clip elements, drawn in {t:.1f} ms")
            assert page.locator(".nbe-clip[data-id='c1']").count() == 0
            assert 0 < drawn_after < LONG_CLIPS / 10
            # a waveform and thumbnails arrive for the clips drawn there
            page.wait_for_selector(".nbe-clip[data-id='c1251'] .nbe-wave[data-peaks]", timeout=30_000)  # A1's 251st
            page.wait_for_function(
                "(document.querySelector(\".nbe-clip[data-id='c251'] .nbe-tile\") || {style: {}}).style"
                ".backgroundImage",
                timeout=30_000,
            )
            ARTIFACTS.mkdir(exist_ok=True)
            page.locator(".nbe-editor").first.screenshot(path=str(ARTIFACTS / "editor-long.png"))
            thumbs = kernel.eval("sum(1 for k, _ in ui.traffic if k == 'thumbs')")
            print(f"thumbnail strips sent: {thumbs} (of {LONG_CLIPS // 2} video clips)")
            assert thumbs < LONG_CLIPS / 10

            # gesture -> kernel -> the changed track redrawn: a split from the keyboard, then undo
            view = page.locator(".nbe-scroller").first.bounding_box()  # click where it shows: no scroll back
            page.mouse.click(view["x"] + 430, view["y"] + 10)  # inside a clip, not on a cut
            page.wait_for_function(f"document.querySelector('.nbe-frame').dataset.frame > {250 * 24}", timeout=30_000)
            timings = {}
            for name, key in (("split (S)", {"key": "s"}), ("undo (Ctrl+Z)", {"key": "z", "ctrlKey": True})):
                timings[name] = t = page.evaluate(
                    """async (key) => {
                      const box = document.querySelector('.nbe-timeline');
                      const seq = box.dataset.seq;
                      const t0 = performance.now();
                      const ev = new KeyboardEvent('keydown', { ...key, bubbles: true, cancelable: true });
                      document.querySelector('.nbe-editor').dispatchEvent(ev);
                      const status = document.querySelector('.nbe-status');
                      while (box.dataset.seq === seq) {
                        if (status.textContent || performance.now() - t0 > 60000) return [-1, status.textContent];
                        await new Promise((r) => setTimeout(r, 1));
                      }
                      return [performance.now() - t0, +box.dataset.drawMs];
                    }""",
                    key,
                )
                assert t[0] > 0, f"{name}: {t[1] or 'no redraw in a minute'}"
            for name, (total, js) in timings.items():
                print(f"{name}: {total:.0f} ms from the key to the redrawn timeline ({js:.1f} ms of it drawing)")
            history = kernel.eval("[r.op for r in s.history]")
            assert history == ["open_timeline"] and kernel.eval("s.can_redo")  # split, then undone
            assert page.locator(f".nbe-clip[data-id='c{LONG_CLIPS + 1}']").count() == 0
            sizes = kernel.eval("[n for k, n in ui.traffic if k == 'tracks']")
            full = kernel.eval("ui.traffic[0]")  # the whole doc the view asked for first
            print(f"bytes: whole doc {full[1]}, split {sizes[-2]}, undo {sizes[-1]}")
            assert full[0] == "doc" and max(sizes[-2:]) < full[1] / 20

            # zooming draws again for the new scale: in, fewer clips in view; far out, clips too narrow to ask for
            # thumbnails or waveforms
            before = page.locator(".nbe-clip").count()
            press = "k => document.querySelector('.nbe-editor').dispatchEvent(new KeyboardEvent('keydown', {key: k}))"
            page.evaluate(press, "+")
            page.wait_for_function(f"document.querySelectorAll('.nbe-clip').length < {before}", timeout=30_000)
            zoomed_in = page.locator(".nbe-clip").count()
            for _ in range(9):  # to 3 px a second: the whole timeline in view, each clip 3 px wide
                page.evaluate(press, "-")
            page.wait_for_function(f"document.querySelectorAll('.nbe-clip').length > {2 * before}", timeout=30_000)
            page.wait_for_timeout(1000)
            zoomed_out = page.locator(".nbe-clip").count()
            asked = kernel.eval("sum(1 for k, _ in ui.traffic if k in ('thumbs', 'peaks'))")
            print(f"zoomed in: {zoomed_in} clip elements; far out: {zoomed_out}, thumbnail and peak answers: {asked}")
            assert asked < zoomed_out / 3
        finally:
            kernel.close()
    finally:
        page.close()


# the live session and a replay of the saved notebook, as one line of JSON: the state (its folder written as
# <root>), frame hashes across the edit, the markers and the track switches
SUMMARY = """
import hashlib as _hl, json as _js
from nbedit.model import track_flags as _tf
_st = s.state().replace(str(s.path.parent), "<root>")
_fr = [_hl.sha256(s.frame(s.duration * _k / 7).tobytes()).hexdigest()[:16] for _k in range(1, 7)]
print("SUMMARY " + _js.dumps([_st, _fr, s.markers(), {t.name: _tf(t) for t in s.timeline.tracks}]))
"""


def summary(text: str) -> list:
    line = next(x for x in text.splitlines() if x.startswith("SUMMARY "))
    return json.loads(line[len("SUMMARY ") :])


@IN_EACH_APP
def test_gestures_become_cells_in_order_and_the_saved_notebook_replays_them(lab, browser, tmp_path, app):
    """Six gestures (split, trim, move, delete, marker, mute) and an undo and a redo: each one's cell lands after the
    ones before it, the keyboard stays in the editor and the notebook does not scroll; the saved notebook, run in a
    fresh kernel, makes the same timeline and the same frames; run again in the live kernel it changes nothing."""
    import nbformat
    from nbclient import NotebookClient

    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    # a project folder of its own: the editor notebook's kernel from an earlier test still holds editor-demo's lock
    name = f"record-{APPS[app]}"
    text = (REPO / "notebooks" / "editor.ipynb").read_text().replace("editor-demo", f"{name}-demo")
    (lab["work"] / f"{name}.ipynb").write_text(text)
    editor = open_editor(page, f"{lab['url']}/{app}/{name}.ipynb")
    kernel = Kernel(lab, f"{name}.ipynb")
    try:
        editor.scroll_into_view_if_needed()
        scroll0 = notebook_scroll(page)
        done = [0]

        def recorded(op: str) -> None:
            done[0] += 1
            page.wait_for_function(
                f"(document.querySelector('.nbe-editor').dataset.cellsPlaced || 0) >= {done[0]}", timeout=30_000
            )
            assert kernel.eval("s.history[-1].op") == op or op in ("undo", "redo")
            focused = page.evaluate("!!document.activeElement.closest('.nbe-editor')")
            assert focused, f"{op}: the editor lost the keyboard"

        def drag(selector: str, dx: float, dy: float = 0) -> None:
            el = page.locator(selector).first
            el.scroll_into_view_if_needed()
            box = el.bounding_box()
            x, y = box["x"] + min(box["width"] / 2, 30), box["y"] + box["height"] / 2
            page.mouse.move(x, y)
            page.mouse.down()
            page.mouse.move(x + dx, y + dy, steps=6)
            page.mouse.up()

        ruler = page.locator(".nbe-ruler").first
        ruler.click(position={"x": 100 + 80 * 2.5, "y": 10})  # 2.5 s: inside c1 on V1
        page.keyboard.press("s")
        recorded("split")
        drag(".nbe-clip[data-id='c3'] .nbe-handle.nbe-in", 40)
        recorded("trim")
        drag(".nbe-clip[data-id='c6']", 60)  # the generated clip on V2, later
        recorded("move")
        page.locator(".nbe-clip[data-id='c5']").first.click()  # the inset
        page.keyboard.press("Delete")
        recorded("delete")
        ruler.click(position={"x": 100 + 80 * 1.0, "y": 10})
        page.keyboard.press("m")
        recorded("add_marker")
        page.locator(".nbe-lane[data-track='A2'] .nbe-switch.nbe-mute").first.click()
        recorded("mute")
        page.wait_for_selector(".nbe-lane[data-track='A2'].nbe-is-mute")
        page.wait_for_selector(".nbe-ruler .nbe-marker")
        after_six = kernel.eval("s.state()")
        page.keyboard.press("Control+z")
        recorded("undo")
        page.keyboard.press("Control+Shift+z")
        recorded("redo")
        assert kernel.eval("s.state()") == after_six
        editor.screenshot(path=artifact("editor-recorded", app))
        assert abs(notebook_scroll(page) - scroll0) <= 2

        codes = kernel.eval("[r.code for r in s.history][-6:]") + ["s.undo()", "s.redo()"]
        cells = cells_of(page)
        at = next(i for i, c in enumerate(cells) if c.startswith("ui = s.ui()"))
        assert cells[at + 1 : at + 1 + len(codes)] == codes  # in order, right after the editor's cell

        page.locator(".lm-MenuBar-item", has_text="File").first.click()
        page.locator(".lm-Menu-item", has_text="Save Notebook").first.click()
        deadline = time.monotonic() + 30
        while "s.redo()" not in (lab["work"] / f"{name}.ipynb").read_text() and time.monotonic() < deadline:
            time.sleep(0.3)
        saved = nbformat.read(lab["work"] / f"{name}.ipynb", as_version=4)
        assert [c.source for c in saved.cells if c.cell_type == "code"][2 : 2 + len(codes)] == codes

        # a fresh kernel, in a folder of its own: it replays the edit from the cells
        saved.cells.append(nbformat.v4.new_code_cell(SUMMARY))
        replay = tmp_path / "replay"
        replay.mkdir()
        NotebookClient(saved, timeout=600, resources={"metadata": {"path": str(replay)}}).execute()
        replayed = summary("".join(o.get("text", "") for o in saved.cells[-1].outputs))
        live = []
        kernel.client.execute_interactive(
            SUMMARY, timeout=120, output_hook=lambda m: live.append(m["content"].get("text", ""))
        )
        live = summary("".join(live))
        assert replayed[2:] == live[2:]  # markers, switches
        assert replayed[0] == live[0]  # the timeline
        assert replayed[1] == live[1]  # the frames

        # the recorded cells run again in the live kernel: each says its edit is applied, and nothing changes
        state = kernel.eval("s.state()")
        out = []
        for code in codes:
            kernel.client.execute_interactive(
                code, timeout=60, output_hook=lambda m: out.append(m["content"].get("text", ""))
            )
        assert "".join(out).count("already applied from the editor") == len(codes)
        assert kernel.eval("s.state()") == state
    finally:
        kernel.close()


PLAY_CELL = """
import nbedit
from fractions import Fraction
from nbedit import media
src = media.testsrc('src-{name}.mp4', seconds={seconds}, fps={fps}, size={size}, gop={gop}, tone_hz=440)
s_{name} = nbedit.Session('play-{name}')
s_{name}.append(s_{name}.import_media(src), track='V1', src_in=0, src_out={seconds})
s_{name}.append('src-{name}', track='A1', src_in=0, src_out={seconds})
ui_{name} = s_{name}.ui()
if {warm}:
    for _n in range(ui_{name}.doc['frames']):
        ui_{name}.preview.jpeg(_n)  # every frame cached: what is measured is the streaming, not the compositing
ui_{name}
"""


def play_notebook(lab, name: str, cells: list[str]) -> str:
    import nbformat

    nbk = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbk.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nbk, lab["work"] / name)
    return name


def report(label: str, d: dict) -> tuple[float, float]:
    rate, fps, shown, dropped = float(d["playRate"]), float(d["playFps"]), int(d["playShown"]), int(d["playDropped"])
    pct = 100 * dropped / max(1, shown + dropped)
    print(
        f"{label}: {fps:.2f} of {rate:.3f} fps delivered, {shown} shown, {dropped} dropped ({pct:.1f}%), "
        f"audio {d['playAudio']}, A/V offset mean {d.get('playAvMs') or '-'} ms, max |{d.get('playAvMaxMs') or '-'}| ms"
    )
    return fps / rate, pct


def test_playback_holds_the_timeline_rate_with_sound_in_sync(lab, browser):
    """24, 30 and 60 fps timelines, every frame cached: space plays to the end on the audio clock. Prints the
    delivered rate, the dropped frames and the A/V offset; asserts generous bounds (a loaded 2-core machine)."""
    cells = [
        PLAY_CELL.format(name=f"r{fps}", seconds=4, fps=fps, size=(320, 180), gop=12, warm=True) for fps in (24, 30, 60)
    ]
    name = play_notebook(lab, "play.ipynb", cells)
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    try:
        open_notebook(page, f"{lab['url']}/lab/tree/{name}")
        three = "document.querySelectorAll(\".nbe-frame[data-frame='0']\").length === 3"
        page.wait_for_function(three, timeout=180_000)
        page.wait_for_timeout(1000)
        for i, fps in enumerate((24, 30, 60)):
            d = page.evaluate(PLAY_AND_WAIT, [i, " ", 30_000])
            assert d["playState"] == "stopped", d
            share, pct = report(f"{fps} fps timeline", d)
            assert int(d["frame"]) == 4 * fps - 1  # played to the last frame
            # loose: the figures are the benchmark's (bench/playback_1080p.py); this catches a player that stalls
            # (a CI run at load 12 on 2 cores delivered 45 % of the frames, dropping the rest, on the audio clock)
            assert share >= 0.25 and pct < 75
            if d["playAudio"] == "on" and d.get("playAvMaxMs"):
                assert abs(float(d["playAvMs"])) < 2000 / fps  # picture within two frames of the sound, on average
        # J/K/L: L twice is 2x forward, J backwards at 1x, K stops; the kernel's playhead is where it stopped
        kernel = Kernel(lab, name)
        try:
            press = (
                "([i, k]) => document.querySelectorAll('.nbe-editor')[i]"
                ".dispatchEvent(new KeyboardEvent('keydown', {key: k, bubbles: true}))"
            )
            page.evaluate(press, [0, "Home"])
            page.wait_for_timeout(300)
            page.evaluate(press, [0, "l"])
            page.evaluate(press, [0, "l"])
            page.wait_for_timeout(800)
            root = page.locator(".nbe-editor").nth(0)
            assert root.locator(".nbe-speed").text_content() == "2×"
            forward = int(root.locator(".nbe-frame").get_attribute("data-frame"))
            assert forward > 10
            page.evaluate(press, [0, "j"])
            page.wait_for_timeout(600)
            page.evaluate(press, [0, "k"])
            page.wait_for_timeout(500)
            back = int(root.locator(".nbe-frame").get_attribute("data-frame"))
            assert back < forward + 12 and root.get_attribute("data-play-state") == "stopped"
            deadline = time.monotonic() + 20
            while kernel.eval("ui_r24.playhead") != back and time.monotonic() < deadline:
                time.sleep(0.2)
            assert kernel.eval("ui_r24.playhead") == back
            assert kernel.eval("ui_r24.preview.playback is None")  # the kernel stopped making frames
            # scrubbing while paused plays a snippet of the sound at the playhead
            if root.get_attribute("data-play-audio") == "on":
                page.evaluate(press, [0, "ArrowRight"])
                page.wait_for_function(
                    f"document.querySelectorAll('.nbe-editor')[0].dataset.scrubAudio == '{back + 1}'", timeout=20_000
                )
        finally:
            kernel.close()
    finally:
        page.close()
