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

import opentimelineio as otio
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


# ---- a corrupt project is refused at open, naming the field ----------------------------------------------------


def nb_of(obj) -> dict:
    return obj.metadata["nbedit"]


def first_clip(tl):
    return next(iter(tl.find_clips()))


def nested(depth: int):
    inner = otio.schema.Gap(duration=otio.opentime.RationalTime(24, 24))
    for _ in range(depth):
        inner = otio.schema.Stack(children=[otio.schema.Track(children=[inner])])
    return inner


CORRUPT = {
    "opacity as text": (lambda tl: first_clip(tl).metadata["nbedit"].update(opacity="half"), "clip 'c1' opacity is"),
    "unknown effect": (
        lambda tl: nb_of(first_clip(tl)).update(effects=[{"id": "e1", "kind": "sparkle", "params": {}}]),
        "unknown kind 'sparkle'",
    ),
    "fps 0": (lambda tl: nb_of(tl)["format"].update(fps=0), "format fps must be above 0"),
    "width as text": (lambda tl: nb_of(tl)["format"].update(width="320"), "format width is '320'"),
    "next id as text": (lambda tl: nb_of(tl).update(next_id="9"), "next_id is '9'"),
    "next id behind the clips": (lambda tl: nb_of(tl).update(next_id=1), "would take an id in use"),
    "blur radius 1e5": (
        lambda tl: nb_of(first_clip(tl)).update(effects=[{"id": "e1", "kind": "blur", "params": {"radius": 1e5}}]),
        "blur radius must be between 0 and 500, not 100000",
    ),
    "media width as text": (lambda tl: nb_of(tl)["media"]["a"].update(width="320"), "media 'a' width is '320'"),
    "a 31-year gap": (
        lambda tl: tl.tracks[0].insert(
            0, otio.schema.Gap(duration=otio.opentime.RationalTime(24 * 86400 * 365 * 31, 24))
        ),
        "a gap of 31 years is beyond 24 hours",
    ),
    "a day and a half of clips": (
        lambda tl: [
            tl.tracks[0].append(otio.schema.Gap(duration=otio.opentime.RationalTime(24 * 3600 * 20, 24)))
            for _ in range(2)
        ],
        "lasts more than 24 hours",
    ),
    "stacks nested 20 deep": (lambda tl: tl.tracks[0].append(nested(20)), "nested more than 16 deep"),
    "a compound clip in a track": (lambda tl: tl.tracks[0].append(nested(1)), "is a nested stack"),
}


@pytest.mark.parametrize("case", CORRUPT)
def test_a_corrupt_timeline_file_is_refused_at_open_naming_the_field(ab, tmp_path, case):
    ab.append("a", src_in=0, src_out=1)
    path = ab.save(tmp_path / "cut.otio")
    tl = otio.adapters.read_from_file(str(path))
    corrupt, message = CORRUPT[case]
    corrupt(tl)
    otio.adapters.write_to_file(tl, str(path))
    state, before = ab.state(), files(ab.path)
    with pytest.raises(nbedit.ProjectError, match=message):
        ab.open_timeline(path)
    assert ab.state() == state and files(ab.path) == before


def test_a_limit_can_be_raised_for_unusual_work(ab, tmp_path, monkeypatch):
    ab.append("a", src_in=0, src_out=1)
    path = ab.save(tmp_path / "long.otio")
    tl = otio.adapters.read_from_file(str(path))
    tl.tracks[0].append(otio.schema.Gap(duration=otio.opentime.RationalTime(24 * 3600 * 30, 24)))
    otio.adapters.write_to_file(tl, str(path))
    monkeypatch.setattr(nbedit.args.LIMITS, "max_seconds", 48 * 3600)
    ab.open_timeline(path)
    assert ab.duration > 30 * 3600


def saved_and_corrupted(s: nbedit.Session, corrupt) -> None:
    """Close the project (its snapshot then holds every edit) and corrupt the saved timeline the way a tool
    that also rewrites the snapshot's checksum would."""
    s.close()
    tl = otio.adapters.read_from_file(str(s.path / "timeline.otio"))
    corrupt(tl)
    text = tl.to_json_string().encode()
    (s.path / "timeline.otio").write_bytes(text)
    snap = json.loads((s.path / "snapshot.json").read_text())
    snap["timeline_sha256"] = hashlib.sha256(text).hexdigest()
    (s.path / "snapshot.json").write_text(json.dumps(snap))


def test_a_corrupt_saved_timeline_reopens_from_the_journal_with_a_warning(ab):
    ab.append("a", src_in=0, src_out=1)
    state = ab.state()
    saved_and_corrupted(ab, CORRUPT["opacity as text"][0])
    with pytest.warns(UserWarning, match="clip 'c1' opacity is 'half'.*reopens from its journal"):
        again = nbedit.Session(ab.path)
    assert again.state() == state


def test_a_corrupt_saved_timeline_without_its_journal_is_refused_naming_the_field(ab):
    ab.append("a", src_in=0, src_out=1)
    saved_and_corrupted(ab, CORRUPT["blur radius 1e5"][0])
    ab.journal.path.write_bytes(b"")  # the journal lost: the saved timeline is all there is
    before = files(ab.path)
    with pytest.raises(nbedit.ProjectError, match="blur radius must be between 0 and 500"):
        nbedit.Session(ab.path)
    assert files(ab.path) == before


def test_a_corrupt_media_entry_in_the_journal_is_refused_at_open_naming_the_field(ab):
    ab.append("a", src_in=0, src_out=1)
    ab.close()
    lines = ab.journal.path.read_text().splitlines()
    entry = json.loads(lines[0])
    entry["extra"]["info"]["fps"] = "fast"
    (ab.path / "snapshot.json").unlink()  # the whole journal is replayed
    ab.journal.path.write_text("\n".join([json.dumps(entry), *lines[1:]]) + "\n")
    before = files(ab.path)
    with pytest.raises(nbedit.ProjectError, match="entry 1 .* media .a.mp4. fps must be a number or a fraction"):
        nbedit.Session(ab.path)
    assert files(ab.path) == before


def test_effect_values_beyond_their_range_are_clamped_before_painting():
    from nbedit.tools import effects

    assert effects.resolve({"kind": "blur", "params": {"radius": 1e5}}, 0) == ("blur", (("radius", 500.0),))
    assert effects.resolve({"kind": "color", "params": {"gamma": -3.0}}, 0)[1][3] == ("gamma", 0.1)
