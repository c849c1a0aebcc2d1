"""Reliability on real files (PyAV, OTIO, a real full disk): nothing nbedit writes replaces a source, edits from
other threads never interleave with a render or another edit, a corrupt project is refused at open naming the
field, and a failed or killed write leaves no temp file behind."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
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


def test_saving_the_timeline_or_its_notebook_never_overwrites_a_source(ab, footage, tmp_path):
    ab.append("a", src_in=0, src_out=0.5)
    link = tmp_path / "a.otio"
    os.symlink(footage["a"], link)
    before = sha(footage["a"])
    with pytest.raises(nbedit.ProjectError, match="it is media 'a' of this project"):
        ab.save(link)
    with pytest.raises(nbedit.ProjectError, match="it is media 'a' of this project"):
        ab.to_notebook(footage["a"])
    assert sha(footage["a"]) == before and link.is_symlink()


@pytest.mark.parametrize("name", ["journal.jsonl", "project.json", "snapshot.json", "timeline.otio", "lock"])
def test_no_save_export_or_render_writes_over_a_file_the_project_keeps_for_itself(ab, name):
    ab.append("a", src_in=0, src_out=0.5)
    ab.save()
    target = ab.path / name
    before = files(ab.path)
    for write in (ab.save, ab.to_notebook):
        with pytest.raises(nbedit.ProjectError, match=f"it is the project's own {name}"):
            write(target)
    for write in (ab.export, lambda p: ab.render(p, progress=False)):  # refused, if not for this then for its kind
        with pytest.raises(nbedit.NbeditError):
            write(target)
    assert files(ab.path) == before


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
    "a marker a year away": (
        lambda tl: first_clip(tl).markers.append(
            otio.schema.Marker(marked_range=otio.opentime.TimeRange(otio.opentime.RationalTime(24 * 86400 * 365, 24)))
        ),
        "marker '' at 3.1536e.07 s",
    ),
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


def test_importing_compound_clips_nested_too_deeply_is_refused_before_flattening(ab, tmp_path):
    ab.append("a", src_in=0, src_out=1)
    path = ab.save(tmp_path / "deep.otio")
    tl = otio.adapters.read_from_file(str(path))
    tl.tracks[0].append(nested(20))
    otio.adapters.write_to_file(tl, str(path))
    state = ab.state()
    with pytest.raises(nbedit.ProjectError, match="nested more than 16 deep"):
        ab.import_timeline(path)
    assert ab.state() == state


def json_clip(doc: dict) -> dict:
    return next(c for c in doc["tracks"]["children"][0]["children"] if c["OTIO_SCHEMA"].startswith("Clip"))


DAMAGED_EXPORT = {
    "a time that is not a number": (
        lambda doc: json_clip(doc)["source_range"]["start_time"].update(value=float("nan")),
        "clip 'a.mp4' start is .* not a finite time",
    ),
    "the pool as a list": (lambda doc: doc["metadata"]["nbedit"].update(media=[1]), "the media pool is list"),
    "a clip id as a number": (
        lambda doc: json_clip(doc)["metadata"]["nbedit"].update(id=5),
        "clip id is 5, not text",
    ),
    "a media path as a number": (
        lambda doc: doc["metadata"]["nbedit"]["media"]["a"].update(path=3),
        "media 'a' path is 3, not text",
    ),
    "the nbedit data as text": (lambda doc: doc["metadata"].update(nbedit="x"), "nbedit data is a str"),
}


@pytest.mark.parametrize("case", DAMAGED_EXPORT)
def test_importing_an_export_with_damaged_values_is_refused_naming_the_field(ab, tmp_path, case):
    ab.append("a", src_in=0, src_out=1)
    doc = json.loads(ab.state())
    damage, message = DAMAGED_EXPORT[case]
    damage(doc)
    path = tmp_path / "cut.otio"
    path.write_text(json.dumps(doc))
    state, before = ab.state(), files(ab.path)
    with pytest.raises(nbedit.ProjectError, match=message):
        ab.import_timeline(path)
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


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda info: info.update(bogus=1), "has fields a probe does not: bogus"),
        (lambda info: info.pop("pix_fmt"), "lacks fields of a probe: pix_fmt"),
        (lambda info: info.update(width="320"), "width is '320', not a whole number"),
    ],
    ids=["an unknown field", "a missing field", "width as text"],
)
def test_a_damaged_probe_in_the_journal_is_refused_at_open_naming_the_field(ab, damage, message):
    ab.append("a", src_in=0, src_out=1)
    ab.close()
    lines = ab.journal.path.read_text().splitlines()
    entry = json.loads(lines[0])
    damage(entry["extra"]["info"])
    (ab.path / "snapshot.json").unlink()
    ab.journal.path.write_text("\n".join([json.dumps(entry), *lines[1:]]) + "\n")
    before = files(ab.path)
    with pytest.raises(nbedit.ProjectError, match=message):
        nbedit.Session(ab.path)
    assert files(ab.path) == before


def test_a_journal_entry_of_the_wrong_shape_is_set_aside_like_a_damaged_line(ab):
    ab.append("a", src_in=0, src_out=1)
    ab.append("a", src_in=1, src_out=2)
    ab.close()
    lines = ab.journal.path.read_text().splitlines()
    entry = json.loads(lines[3])
    entry["kwargs"] = "src_in=1"
    (ab.path / "snapshot.json").unlink()
    ab.journal.path.write_text("\n".join([*lines[:3], json.dumps(entry)]) + "\n")
    with pytest.warns(UserWarning, match="line 4, was damaged: the 3 edits before it were kept"):
        again = nbedit.Session(ab.path)
    assert [r.op for r in again.history] == ["import_media", "import_media", "append"]


def test_effect_values_beyond_their_range_are_clamped_before_painting():
    from nbedit.tools import effects

    assert effects.resolve({"kind": "blur", "params": {"radius": 1e5}}, 0) == ("blur", (("radius", 500.0),))
    assert effects.resolve({"kind": "color", "params": {"gamma": -3.0}}, 0)[1][3] == ("gamma", 0.1)


def test_an_edit_that_would_make_a_track_last_more_than_a_day_is_refused(ab):
    c1 = ab.append("a", src_in=0, src_out=1)
    ab.move(c1, to=86399)  # within the limit: the clip ends a day after the start
    state = ab.state()
    with pytest.raises(nbedit.TimeRangeError, match="track 'V1' would last 24:00:01, beyond 24 hours"):
        ab.append("a", src_in=0, src_out=1)
    assert ab.state() == state


# ---- a full disk and killed writers leave no temp file ---------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A real 32 MiB file system (tmpfs) for a test to fill: what a full disk does to each writer."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (CI runs as root): {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path, leave: int = 0) -> Path:
    """Fill the disk to the last block, then give back ``leave`` bytes."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 2**16)
        except OSError:
            pass
    if leave:
        os.truncate(filler, filler.stat().st_size - leave)
    return filler


def temp_files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob(".*") if p.name != ".lock")


def test_an_export_onto_a_full_disk_is_a_typed_error_and_leaves_no_temp_file(ab, small_disk):
    ab.append("a", src_in=0, src_out=1)
    fill(small_disk)
    for name in ("cut.otio", "cut.fcpxml", "cut.edl"):
        with pytest.raises(nbedit.ProjectError, match="the disk is full"):
            ab.export(small_disk / name)
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]


def test_a_render_onto_a_full_disk_is_a_typed_error_and_leaves_no_partial_file(ab, small_disk):
    ab.append("a", src_in=0, src_out=2)
    fill(small_disk, leave=32 * 2**10)
    with pytest.raises(nbedit.RenderError, match="rendering cut.mp4 failed: the disk is full"):
        ab.render(small_disk / "cut.mp4", progress=False, preset="ultrafast", crf=0, smart=False)  # a big file
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]


def test_a_snapshot_that_cannot_be_written_leaves_no_temp_file(footage, small_disk):
    s = nbedit.Session(small_disk / "project")
    s.import_media(footage["a"])
    s.append("a", src_in=0, src_out=1)
    before = files(s.path)
    filler = fill(small_disk)
    with pytest.warns(UserWarning, match="cannot write .*timeline.otio: the disk is full"):
        s.save()
    assert temp_files(s.path) == [] and files(s.path) == before
    filler.unlink()
    s.close()  # space again: the snapshot catches up
    assert otio.adapters.read_from_file(str(s.path / "timeline.otio")).to_json_string() == s.state()


def test_generating_onto_a_full_disk_is_a_typed_error_and_leaves_nothing(tiny_models, small_disk, monkeypatch):
    monkeypatch.setenv("NBEDIT_MODELS", str(tiny_models))
    monkeypatch.setenv("NBEDIT_DEVICE", "cpu")
    monkeypatch.setattr(nbedit.session, "SNAPSHOT_IDLE", 3600.0)  # no snapshot written behind the test's back
    s = nbedit.Session(small_disk / "project")
    s.set_format(64, 64, fps=24)
    state, before = s.state(), files(s.path)
    filler = fill(small_disk, leave=16 * 2**10)  # room for the journal's line, not for the media
    with pytest.raises(nbedit.ProjectError, match="cannot write the new media .* the disk is full"):
        s.generate("a red kite", model="ltx-video", seconds=1, size=(64, 64), seed=7)
    assert s.state() == state and files(s.path) == before and temp_files(s.path) == []
    filler.unlink()
    s.close()


def test_an_otioz_import_onto_a_full_disk_leaves_no_media_in_imports(ab, small_disk, tmp_path):
    ab.append("a", src_in=0, src_out=1)
    bundle = ab.export(tmp_path / "cut.otioz").path
    s = nbedit.Session(small_disk / "project")
    state, before = s.state(), files(s.path)
    filler = fill(small_disk, leave=16 * 2**10)  # the bundle's media is larger
    with pytest.raises(nbedit.ProjectError, match="cannot unpack its media into .* the disk is full"):
        s.import_timeline(bundle)
    assert s.state() == state and files(s.path) == before
    assert not any((s.path / "imports").iterdir())
    filler.unlink()
    s.close()


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


RENDER = """
import sys, nbedit
s = nbedit.Session(sys.argv[1], read_only=True)
print("rendering", flush=True)
s.render(sys.argv[2], progress=False, preset="veryslow", smart=False)  # a copy would end before the kill
"""


@pytest.mark.slow
def test_the_partial_file_of_a_killed_render_is_removed_by_the_next_render(ab, tmp_path):
    ab.append("a", src_in=0, src_out=4)
    ab.close()
    out = tmp_path / "renders"
    out.mkdir()
    env = {**os.environ, "PYTHONPATH": str(Path(nbedit.__file__).parents[1])}
    args = [sys.executable, "-c", RENDER, str(ab.path), str(out / "cut.mp4")]
    child = subprocess.Popen(args, stdout=subprocess.PIPE, env=env)
    assert child.stdout.readline().strip() == b"rendering"
    while not any(out.iterdir()):
        assert child.poll() is None
    child.kill()  # no finally, no atexit: the partial file stays
    child.wait(60)
    assert [p.name.endswith(".partial.mp4") for p in out.iterdir()] == [True]
    ab.render(out / "other.mp4", progress=False, preset="ultrafast", end=0.5)
    assert [p.name for p in out.iterdir()] == ["other.mp4"]


def test_taking_a_projects_lock_removes_the_temp_files_dead_writers_left(ab):
    ab.append("a", src_in=0, src_out=1)
    ab.close()
    dead, live = dead_pid(), os.getppid()
    left = [
        ".timeline.otio.tmp",  # a snapshot cut short
        ".snapshot.json.tmp",
        f".cut.{dead}-k2x9_abc.partial.mp4",  # a render into the project folder, killed
        "generated/.generate-0123456789abcdef.partial.mp4",  # generated media half written
        "generated/.generate-0123456789abcdef.json.partial",
        "generated/stills/.0123456789abcdef.png.partial",  # a still kept for image_to_video
        "tools/.mask-0123456789abcdef.partial.avi",  # a mask half written
    ]
    unpacking = f"imports/.cut-0123456789ab.{dead}-cdef0123.partial"  # an .otioz import unpacking, killed
    kept = [
        f".cut.{live}-k2x9_abd.partial.mp4",  # a live process's render
        ".notes.tmp",  # the user's own files
        f".backup.{dead}-01.partial",
        "generated/.mine.partial.mp4",
        "footage/.timeline.otio.tmp",
    ]
    for name in left + kept:
        (ab.path / name).parent.mkdir(parents=True, exist_ok=True)
        (ab.path / name).write_text("x")
    (ab.path / unpacking / "media").mkdir(parents=True)
    again = nbedit.Session(ab.path)
    assert temp_files(again.path) == sorted(kept)
