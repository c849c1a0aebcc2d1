"""End to end: a real JupyterLab (and Notebook 7) in a real headless Chromium, driving the editor widget.

The server runs on 127.0.0.1 with a temporary config, runtime and settings folder; the notebook comes from
notebooks/ (copied into the server's scratch root, so running it writes nothing into the repository). The kernel's
state is read over its own connection, as a second client.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
REPO = Path(__file__).parent.parent
ARTIFACTS = REPO / "test-artifacts"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory, theme="JupyterLab Light"):
    root = tmp_path_factory.mktemp("lab")
    work, config, runtime = root / "work", root / "config", root / "runtime"
    for d in (work, config, runtime):
        d.mkdir()
    shutil.copy(REPO / "notebooks" / "editor.ipynb", work / "editor.ipynb")
    (config / "labconfig").mkdir()
    # no news pop-up over the page
    (config / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    )
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(config),
        "JUPYTER_RUNTIME_DIR": str(runtime),
        "IPYTHONDIR": str(root / "ipython"),
        "HF_HUB_OFFLINE": "1",
    }
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--allow-root",
            "--ip",
            "127.0.0.1",
            f"--port={port}",
            "--ServerApp.token=",
            "--ServerApp.password=",
            "--ServerApp.disable_check_xsrf=True",
            f"--ServerApp.root_dir={work}",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(root / "server.log", "w"),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/api/status", timeout=2)
            break
        except OSError:
            time.sleep(0.3)
    else:
        server.kill()
        pytest.fail("JupyterLab did not start: " + (root / "server.log").read_text()[-2000:])
    yield {"url": url, "work": work, "runtime": runtime, "config": config}
    server.terminate()
    server.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


class Kernel:
    """A second client on the notebook's kernel, to read the session's state."""

    def __init__(self, lab: dict):
        from jupyter_client import BlockingKernelClient

        sessions = json.load(urllib.request.urlopen(f"{lab['url']}/api/sessions"))
        kernel_id = sessions[-1]["kernel"]["id"]
        self.client = BlockingKernelClient(connection_file=str(lab["runtime"] / f"kernel-{kernel_id}.json"))
        self.client.load_connection_file()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)

    def eval(self, expr: str):
        out = []
        self.client.execute_interactive(
            f"import json as _j; print(_j.dumps({expr}))",
            timeout=60,
            output_hook=lambda m: out.append(m["content"].get("text", "")) if m["msg_type"] == "stream" else None,
        )
        return json.loads("".join(out))

    def close(self):
        self.client.stop_channels()


def run_all(page) -> None:
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.locator(".lm-Menu-item", has_text="Run All Cells").first.click()


def open_editor(page, url: str):
    page.goto(url)
    page.wait_for_selector(".jp-Notebook", timeout=90_000)
    page.wait_for_timeout(1500)  # the kernel connects
    run_all(page)
    page.wait_for_selector(".nbe-frame[data-frame='0']", timeout=120_000)
    page.wait_for_selector(".nbe-clip[data-id='c1']", timeout=30_000)
    return page.locator(".nbe-editor").first


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
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # the last frame asked for arrives last
            shown = int(page.locator(".nbe-frame").first.get_attribute("data-frame"))
            if shown > 0 and shown == kernel.eval("ui.playhead"):
                break
            time.sleep(0.2)
        assert shown > 0 and shown == kernel.eval("ui.playhead")

        # playing: space starts real-time playback from the playhead, space stops it
        page.locator(".nbe-ruler").first.click(position={"x": 50, "y": 10})
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
