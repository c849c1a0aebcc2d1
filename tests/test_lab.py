"""`nbedit lab` starts JupyterLab on the notebooks with the models in place, and says where to open it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_nbedit_lab_builds_the_models_and_serves_the_notebooks(tmp_path: Path):
    (tmp_path / "hello.ipynb").write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "nbedit", "lab", str(tmp_path), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        start_new_session=True,
    )
    try:
        url = None
        seen = []
        deadline = time.monotonic() + 240
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line)
            if m := re.search(r"open\s+(http://127\.0\.0\.1:\d+/lab\?token=\w+)", line):
                url = m.group(1)
        assert url is not None, "".join(seen)
        assert (tmp_path / "models" / "ltx-video" / "model_index.json").exists()
        token = url.split("token=")[1]
        contents = None
        while contents is None and time.monotonic() < deadline:
            try:
                api = f"http://127.0.0.1:{port}/api/contents?token={token}"
                contents = urllib.request.urlopen(api, timeout=5).read().decode()
            except OSError:
                time.sleep(1)
        assert contents is not None and "hello.ipynb" in contents
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)


def test_nbedit_lab_refuses_a_folder_that_does_not_exist(tmp_path: Path, capsys):
    from nbedit.cli import main

    assert main(["lab", str(tmp_path / "nope")]) == 1
    assert "is not a folder of notebooks" in capsys.readouterr().err
