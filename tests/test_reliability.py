"""Reliability on real files (PyAV, OTIO, a real full disk): nothing nbedit writes replaces a source, edits from
other threads never interleave with a render or another edit, a corrupt project is refused at open naming the
field, and a failed or killed write leaves no temp file behind."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

import nbedit
from nbedit import media
from nbedit.proxy import IS_SOURCE, Proxies

pytest_plugins = ["tiny_models"]  # fixtures: the tiny checkpoints, and sessions that find them


def sha(path: str | os.PathLike) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def files(folder: Path) -> dict[str, bytes]:
    """Every file under a folder, with its bytes (what "the project folder is unchanged" compares)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ---- never overwrite a source ---------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".otio", ".fcpxml"])
def test_an_export_never_overwrites_a_source_of_the_project(ab, footage, tmp_path, suffix):
    ab.append("a", src_in=0, src_out=0.5)
    source = tmp_path / f"cut{suffix}"
    shutil.copy(footage["a"], source)  # media that happens to have the name the export asks for
    ab.import_media(str(source))
    link = tmp_path / f"link{suffix}"
    os.symlink(source, link)
    before = sha(source)
    for target in (source, link):
        with pytest.raises(nbedit.ProjectError, match="it is media 'cut' of this project"):
            ab.export(target)
    assert sha(source) == before and link.is_symlink()


def test_an_export_never_overwrites_a_source_with_its_sidecar(ab, footage, tmp_path):
    ab.append("a", src_in=0, src_out=0.5)
    sidecar = tmp_path / "cut.nbedit.otio"
    shutil.copy(footage["a"], sidecar)
    ab.import_media(str(sidecar), name="side")
    before = sha(sidecar)
    with pytest.raises(nbedit.ProjectError, match="it is media 'side' of this project"):
        ab.export(tmp_path / "cut.fcpxml")
    assert sha(sidecar) == before and not (tmp_path / "cut.fcpxml").exists()


def test_generated_media_is_never_written_over_a_source(gs, footage, tmp_path):
    made = gs.generate("a red kite", model="ltx-video", seconds=1, size=(64, 64), seed=7)
    target = Path(made.path)
    gs.undo()  # the generated media leaves the pool; its file name stays what the same call makes
    target.unlink()
    target.with_suffix(".json").unlink()
    source = tmp_path / "mine.mp4"
    shutil.copy(footage["a"], source)
    os.symlink(source, target)  # the project's own media, reached through a link where the new file would go
    gs.import_media(str(source))
    state, before = gs.state(), sha(source)
    with pytest.raises(nbedit.EditError, match="it is media 'mine' of this project"):
        gs.generate("a red kite", model="ltx-video", seconds=1, size=(64, 64), seed=7)
    assert sha(source) == before and target.is_symlink() and gs.state() == state


def test_a_proxy_is_never_made_over_media_of_the_project(tmp_path):
    src = media.testsrc(tmp_path / "long.mp4", seconds=1, size=(320, 240), gop=1000, audio=False)
    entry = media.probe(src).to_dict()
    proxies = Proxies(tmp_path / "proxies", max_width=160)
    target = proxies.path(entry["sha256"])
    target.parent.mkdir()
    other = media.testsrc(target, seconds=1, size=(160, 120), variant=1, audio=False)  # media kept in proxies/
    before = sha(other)
    proxies.request([entry, media.probe(other).to_dict()])
    assert proxies.wait(60)
    assert proxies.status()[entry["sha256"]].state == "failed"
    assert proxies.status()[entry["sha256"]].reason == IS_SOURCE
    assert sha(other) == before
