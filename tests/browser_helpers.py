"""The browser tests' shared parts: a real JupyterLab (and Notebook 7) on 127.0.0.1 and Debian's headless Chromium.

The server runs with a temporary config, runtime and settings folder; the notebook comes from notebooks/ (copied into
the server's scratch root, so running it writes nothing into the repository). The kernel's state is read over its own
connection, as a second client. The fixtures ``lab`` and ``browser`` reach every test module through conftest.py;
a browser test module marks itself with ``pytestmark = MARKS``.
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
from contextlib import contextmanager
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
    "--autoplay-policy=no-user-gesture-required",
]

# the apps that show a notebook, as the URL prefix of its page, and the test ids of the tests run in each
APPS = {"lab/tree": "lab", "notebooks": "notebook7"}
IN_EACH_APP = pytest.mark.parametrize("app", list(APPS), ids=list(APPS.values()))

MARKS = [
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

    def __init__(self, lab: dict, notebook: str | None = None):
        from jupyter_client import BlockingKernelClient

        sessions = json.load(urllib.request.urlopen(f"{lab['url']}/api/sessions"))
        if notebook is not None:
            sessions = [s for s in sessions if s["path"].endswith(notebook)]
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


def open_notebook(page, url: str) -> None:
    """Open a notebook and run all its cells. Run All is asked again until a cell shows it started: on a loaded
    machine the kernel may not be connected when the page first shows (and then nothing runs), and a slow kernel
    start may ask which kernel to use (the notebook's own is taken)."""
    from playwright.sync_api import TimeoutError as Timeout

    # ?reset: only this notebook open (JupyterLab would bring back the earlier tests' notebooks, hidden behind it)
    page.goto(url if "?" in url or "/lab/" not in url else f"{url}?reset")
    page.wait_for_selector(".jp-Notebook", timeout=90_000)
    started = "[...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].some((p) => /[*0-9]/.test(p.textContent))"
    for _ in range(8):
        page.wait_for_timeout(1500)  # the kernel connects
        dialog = page.locator(".jp-Dialog")
        if dialog.count():
            dialog.locator(".jp-mod-accept").first.click()
            continue
        run_all(page)
        try:
            page.wait_for_function(started, timeout=15_000)
            return
        except Timeout:
            continue


def own_notebook(lab: dict, name: str, code: str | None = None) -> str:
    """A notebook of the test's own, with a project folder of its own (another notebook's kernel may hold the
    editor demo's lock): the editor notebook with its folder renamed, or one cell of ``code`` and the editor."""
    import nbformat

    if code is None:
        text = (REPO / "notebooks" / "editor.ipynb").read_text().replace("editor-demo", f"{name}-demo")
    else:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(code), nbformat.v4.new_code_cell("ui = s.ui()\nui")]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        text = nbformat.writes(nb)
    (lab["work"] / f"{name}.ipynb").write_text(text)
    return f"{name}.ipynb"


def artifact(stem: str, app: str) -> str:
    """Where a screenshot taken in ``app`` goes: its name says the app."""
    ARTIFACTS.mkdir(exist_ok=True)
    return str(ARTIFACTS / f"{stem}-{APPS[app]}.png")


@contextmanager
def editing(lab: dict, browser, name: str, code: str | None = None, width: int = 1280, app: str = "lab/tree"):
    """A page of ``app`` (JupyterLab unless told) showing the editor of ``own_notebook(lab, name, code)``, and a
    second client on its kernel."""
    page = browser.new_page(viewport={"width": width, "height": 1000})
    notebook = own_notebook(lab, name, code)
    try:
        open_editor(page, f"{lab['url']}/{app}/{notebook}")
        kernel = Kernel(lab, notebook)
        try:
            yield page, kernel
        finally:
            kernel.close()
    finally:
        page.close()


def notebook_scroll(page) -> float:
    """How far the notebook is scrolled, in whichever app: JupyterLab 4 and Notebook 7.6 both scroll the notebook's
    own panel (measured), and the page is counted too should a layout scroll it instead."""
    return page.evaluate(
        """() => document.scrollingElement.scrollTop +
             (document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer') || { scrollTop: 0 }).scrollTop"""
    )


def cells_of(page) -> list[str]:
    """The text of each cell of the notebook on the page, in order."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell'), (c) =>
             Array.from(c.querySelectorAll('.jp-InputArea-editor .cm-line'), (l) => l.textContent).join('\\n'))"""
    )


# press ``key`` in the i-th editor and wait (at most ``ms``) until a play has run and stopped: the editor's counters
PLAY_AND_WAIT = """async ([i, key, ms]) => {
  const root = document.querySelectorAll('.nbe-editor')[i];
  const plays = +(root.dataset.playPlays || 0);
  root.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true }));
  const t0 = performance.now();
  while (+(root.dataset.playPlays || 0) === plays || root.dataset.playState !== 'stopped') {
    if (performance.now() - t0 > ms) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { ...root.dataset, frame: root.querySelector('.nbe-frame').dataset.frame, ms: performance.now() - t0 };
}"""


def open_editor(page, url: str):
    open_notebook(page, url)
    page.wait_for_selector(".nbe-frame[data-frame='0']", timeout=300_000)
    page.wait_for_selector(".nbe-clip[data-id='c1']", timeout=30_000)
    return page.locator(".nbe-editor").first
