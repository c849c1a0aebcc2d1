"""Make docs/editor.png: the editor on the demo edit in a real JupyterLab, in Debian's headless Chromium.

    python docs/make_editor_png.py       # needs the test extra (jupyterlab, playwright) and /usr/bin/chromium

It starts JupyterLab on 127.0.0.1 with a scratch config and root (nothing is written into the repository but the
picture), opens notebooks/editor.ipynb there, runs it, selects the generated clip so the inspector and the
compositing graph show it, and photographs the editor. The browser parts are the browser tests' own
(tests/browser_helpers.py), so the picture is what those tests see.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from browser_helpers import CHROMIUM, FLAGS, free_port, open_editor  # noqa: E402


def serve(root: Path) -> tuple[subprocess.Popen, str]:
    work, config, runtime = root / "work", root / "config", root / "runtime"
    for d in (work, config / "labconfig", runtime):
        d.mkdir(parents=True)
    shutil.copy(REPO / "notebooks" / "editor.ipynb", work / "editor.ipynb")
    (config / "labconfig" / "page_config.json").write_text(
        '{"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": true}}'
    )
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(config),
        "JUPYTER_RUNTIME_DIR": str(runtime),
        "IPYTHONDIR": str(root / "ipython"),
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    }
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip", "127.0.0.1", f"--port={port}"]
        + ["--ServerApp.token=", "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True"]
        + [f"--ServerApp.root_dir={work}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(root / "server.log", "w"),  # noqa: SIM115 (open as long as the server runs)
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/api/status", timeout=2)
            return server, url
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("JupyterLab did not start")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--out", default=str(Path(__file__).parent / "editor.png"))
    out = Path(ap.parse_args().out)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as d:
        server, url = serve(Path(d))
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                page = browser.new_page(viewport={"width": 1280, "height": 1000})
                editor = open_editor(page, f"{url}/lab/tree/editor.ipynb")
                page.locator(".nbe-clip", has_text="a-red-kite").first.click()
                page.wait_for_selector(".nbe-insp-row", timeout=30_000)
                page.wait_for_selector(".nbe-proxy[data-state='ready']", timeout=120_000)  # not a passing "93%"
                page.locator(".nbe-ruler").first.click(position={"x": 250, "y": 10})  # the playhead into the edit
                page.locator(".nbe-clip", has_text="a-red-kite").first.click()
                page.wait_for_timeout(2500)  # the thumbnails of the clips in view, the frame at the playhead
                editor.scroll_into_view_if_needed()
                editor.screenshot(path=str(out))
                browser.close()
        except Exception:
            print((Path(d) / "server.log").read_text()[-3000:], file=sys.stderr)
            raise
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"{out}: {out.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
