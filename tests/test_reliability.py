"""Reliability on real files (PyAV, OTIO, a real full disk): nothing nbedit writes replaces a source, edits from
other threads never interleave with a render or another edit, a corrupt project is refused at open naming the
field, and a failed or killed write leaves no temp file behind."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
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


# ---- one writer inside a process: threads ---------------------------------------------------------------------


def decoded(path: Path) -> list[str]:
    import av

    with av.open(str(path)) as c:
        return [hashlib.sha256(f.to_ndarray(format="rgb24").tobytes()).hexdigest() for f in c.decode(video=0)]


def test_edits_from_another_thread_during_a_render_do_not_reach_it(ab, tmp_path):
    c1 = ab.append("a", src_in=0, src_out=3)
    ab.append("b", src_in=0, src_out=2)
    settings = {"progress": False, "preset": "ultrafast", "audio": False}
    expected = decoded(ab.render(tmp_path / "before.mp4", **settings))
    rendering = threading.Thread(target=ab.render, args=(tmp_path / "during.mp4",), kwargs=settings)
    rendering.start()
    edits = 0
    while rendering.is_alive():  # a widget's gestures, arriving while the render runs
        ab.opacity(c1, 0.25)
        ab.slip(c1, by=0.5)
        ab.undo()
        ab.undo()
        edits += 1
    rendering.join()
    assert edits > 0
    assert decoded(tmp_path / "during.mp4") == expected


def test_an_edit_from_another_thread_waits_for_a_generation_to_finish(gs, footage):
    gs.import_media(footage["a"])
    generating = threading.Thread(
        target=gs.generate, args=("a red kite",), kwargs={"model": "ltx-video", "seconds": 1, "size": (64, 64)}
    )
    generating.start()
    while gs.mutex.acquire(blocking=False):  # free until the generation holds it
        gs.mutex.release()
        assert generating.is_alive()
    gs.append("a", src_in=0, src_out=1)  # the editor's gesture: queued behind the generation, not inside it
    generating.join()
    entries = [json.loads(line)["op"] for line in gs.journal.path.read_text().splitlines()]
    assert entries == ["import_media", "generate", "append"]
    assert nbedit.Session(gs.path, read_only=True).state() == gs.state()


def test_edits_from_two_threads_never_interleave(ab):
    ab.append("a", src_in=0, src_out=2)
    ab.append("b", src_in=0, src_out=2, track="V2")
    failures: list[BaseException] = []

    def gestures(clip: str) -> None:
        try:
            for k in range(20):
                ab.opacity(clip, 0.5 + k / 100)
                ab.slip(clip, by=-0.04 if k % 2 else 0.04)
        except BaseException as e:  # pragma: no cover - reported below
            failures.append(e)

    threads = [threading.Thread(target=gestures, args=(c,)) for c in ("c1", "c2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert len(ab.history) == 4 + 80
    lines = ab.journal.path.read_text().splitlines()
    assert len(lines) == 4 + 80 and all(json.loads(line)["op"] for line in lines)  # each entry whole
    assert nbedit.Session(ab.path, read_only=True).state() == ab.state()
