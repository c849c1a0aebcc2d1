"""Nothing lost: every operation is journaled before it returns, and reopening a folder restores the project."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import opentimelineio as otio
import pytest

import nbedit
from nbedit.folder import Journal


def edit_some(s: nbedit.Session) -> None:
    c1 = s.append("a", src_in=0, src_out=2)
    c2 = s.append("b", src_in=0.5, src_out=2)
    s.crossfade(c1, c2, duration=0.5)
    s.split(c1, at=1.0)
    s.slip(c2, by=0.25)


def test_reopening_a_folder_restores_the_timeline_and_history(ab, tmp_path):
    edit_some(ab)
    again = nbedit.Session(ab.path)
    assert again.state() == ab.state()
    assert [r.code for r in again.history] == [r.code for r in ab.history]


def test_undo_and_redo_survive_a_reopen(ab):
    edit_some(ab)
    ab.undo()
    ab.undo()
    ab.redo()
    again = nbedit.Session(ab.path)
    assert again.state() == ab.state()
    again.redo()  # the redo stack came back too
    ab.redo()
    assert again.state() == ab.state()


def test_each_operation_is_a_json_line_in_the_journal(ab):
    edit_some(ab)
    entries = [json.loads(line) for line in ab.journal.path.read_text().splitlines()]
    assert [e["op"] for e in entries] == [
        "import_media",
        "import_media",
        "append",
        "append",
        "crossfade",
        "split",
        "slip",
    ]
    assert entries[0]["extra"]["info"]["sha256"] == ab.media["a"].info.sha256


def test_the_project_is_also_a_plain_otio_file_once_saved(ab):
    edit_some(ab)
    ab.save()
    tl = otio.adapters.read_from_file(str(ab.path / "timeline.otio"))
    assert tl.to_json_string() == ab.state()


def test_the_snapshot_catches_up_in_the_background_when_editing_pauses(ab, monkeypatch):
    monkeypatch.setattr(nbedit.session, "SNAPSHOT_IDLE", 0.2)
    edit_some(ab)
    for _ in range(100):  # the thread wakes at least every SNAPSHOT_IDLE seconds
        path = ab.path / "timeline.otio"
        if path.exists() and otio.adapters.read_from_file(str(path)).to_json_string() == ab.state():
            break
        time.sleep(0.05)
    assert otio.adapters.read_from_file(str(ab.path / "timeline.otio")).to_json_string() == ab.state()


def test_a_snapshot_is_written_every_so_many_edits(ab, monkeypatch):
    monkeypatch.setattr(nbedit.session, "SNAPSHOT_EVERY", 3)
    monkeypatch.setattr(nbedit.session, "SNAPSHOT_IDLE", 3600.0)
    edit_some(ab)  # 5 edits after 2 imports: snapshots after the 3rd and 6th journal entry
    snap = json.loads((ab.path / "snapshot.json").read_text())
    assert snap["entries"] == 6


def test_reopening_replays_only_the_journal_after_the_snapshot(ab, monkeypatch):
    monkeypatch.setattr(nbedit.session, "SNAPSHOT_EVERY", 3)
    monkeypatch.setattr(nbedit.session, "SNAPSHOT_IDLE", 3600.0)
    edit_some(ab)
    replayed = []
    real = nbedit.session.context.run
    monkeypatch.setattr(nbedit.session.context, "run", lambda *a, **k: replayed.append(a[2]) or real(*a, **k))
    again = nbedit.Session(ab.path)
    assert replayed == ["slip"]  # the 7th entry; the first 6 came from the snapshot
    assert again.state() == ab.state()
    assert [r.code for r in again.history] == [r.code for r in ab.history]


def test_undo_reaches_behind_the_snapshot_after_a_reopen(ab, monkeypatch):
    monkeypatch.setattr(nbedit.session, "SNAPSHOT_EVERY", 3)
    edit_some(ab)
    states = []
    for _ in range(4):
        ab.undo()
        states.append(ab.state())
    for _ in range(4):
        ab.redo()
    again = nbedit.Session(ab.path)
    for want in states:
        again.undo()
        assert again.state() == want
    assert again.can_redo


def test_a_snapshot_that_does_not_match_its_journal_is_not_used(ab, monkeypatch):
    monkeypatch.setattr(nbedit.session, "SNAPSHOT_EVERY", 3)
    edit_some(ab)
    state = ab.state()
    (ab.path / "timeline.otio").write_text(nbedit.Session(ab.path.parent / "other").state())  # a stray file
    assert nbedit.Session(ab.path).state() == state


def test_a_torn_last_line_is_dropped_on_reopen(ab):
    edit_some(ab)
    with open(ab.journal.path, "a") as f:
        f.write('{"op": "delete", "args": ["c')  # a crash in the middle of a write
    again = nbedit.Session(ab.path)
    assert again.state() == ab.state()


def test_edits_after_a_torn_line_survive_later_reopens(ab):
    edit_some(ab)
    with open(ab.journal.path, "a") as f:
        f.write('{"op": "delete", "args": ["c')
    again = nbedit.Session(ab.path)
    again.slip("c1", by=0.25)
    assert nbedit.Session(ab.path).state() == again.state()


def test_an_edit_the_journal_cannot_take_is_not_made(ab):
    edit_some(ab)
    state, history = ab.state(), list(ab.history)
    ab.journal.path = ab.path / "unwritable"
    ab.journal.path.mkdir()  # writing to a folder fails like a full or read-only disk
    with pytest.raises(nbedit.ProjectError):
        ab.slip("c1", by=0.25)
    with pytest.raises(nbedit.ProjectError):
        ab.undo()
    assert ab.state() == state and ab.history == history


def test_a_project_opened_from_an_otio_file_reopens_without_it(ab, tmp_path):
    edit_some(ab)
    cut = ab.export(tmp_path / "cut.otio")
    s = nbedit.Session.from_otio(cut, folder=tmp_path / "from-otio")
    cut.unlink()
    again = nbedit.Session(tmp_path / "from-otio")
    assert again.state() == s.state() == ab.state()


def test_a_damaged_journal_keeps_the_edits_before_the_damage_and_sets_the_rest_aside(ab):
    edit_some(ab)
    lines = ab.journal.path.read_text().splitlines()
    lines[3] = "not json"  # the 4th entry (the crossfade) is damaged
    ab.journal.path.write_text("\n".join(lines) + "\n")
    ab.close()
    (ab.path / "snapshot.json").unlink(missing_ok=True)  # no newer saved timeline: the journal is all there is
    with pytest.warns(UserWarning, match=r"line 4, was damaged: the 3 edits before it were kept.*\(4 line\(s\)\)"):
        again = nbedit.Session(ab.path)
    assert [r.op for r in again.history] == ["import_media", "import_media", "append"]
    aside = list(ab.path.glob("journal.damaged-*.jsonl"))
    assert len(aside) == 1 and aside[0].read_text().splitlines() == ["not json", *lines[4:]]
    again.append("b", src_in=0, src_out=1)  # the repaired journal takes new edits and reopens
    assert nbedit.Session(ab.path).state() == again.state()


def test_a_deleted_journal_opens_the_saved_timeline_not_an_empty_project(ab):
    edit_some(ab)
    ab.save()
    state = ab.state()
    ab.close()
    ab.journal.path.unlink()
    with pytest.warns(UserWarning, match="holds 0 of the 7 edits"):
        again = nbedit.Session(ab.path)
    assert again.state() == state
    assert [r.op for r in again.history] == ["open_timeline"]
    assert nbedit.Session(ab.path).state() == state  # and that is what the new journal holds


def test_a_journal_cut_short_opens_the_saved_timeline_and_keeps_the_old_journal(ab):
    edit_some(ab)
    ab.save()
    state = ab.state()
    ab.close()
    lines = ab.journal.path.read_text().splitlines()
    ab.journal.path.write_text("\n".join(lines[:3]) + "\n")
    with pytest.warns(UserWarning, match="holds 3 of the 7 edits.*kept as journal.damaged-"):
        again = nbedit.Session(ab.path)
    assert again.state() == state


def test_a_folder_with_other_files_is_not_taken_over(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(nbedit.ProjectError, match="not empty"):
        nbedit.Session(tmp_path)
    with pytest.raises(nbedit.ProjectError, match="refusing"):
        nbedit.Session(tmp_path, fresh=True)
    assert (tmp_path / "notes.txt").read_text() == "mine"


CHILD = textwrap.dedent(
    """
    import sys, time, nbedit
    s = nbedit.Session(sys.argv[1])
    a = s.import_media(sys.argv[2])
    print("op", flush=True)
    for k in range(40):
        s.append(a, track="V1", src_in=0, src_out=0.5 + k / 24)
        print("op", flush=True)
    time.sleep(60)
    """
)


@pytest.mark.slow
def test_kill_9_loses_no_completed_operation(tmp_path, footage):
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path / "p"), footage["a"]], stdout=subprocess.PIPE, text=True
    )
    done = 0
    while done < 12:  # kill it mid-stream, with operations still running
        assert proc.stdout.readline() == "op\n"
        done += 1
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    s = nbedit.Session(tmp_path / "p")
    assert len(s.history) >= done  # each op printed only after it returned
    assert [r.op for r in s.history] == ["import_media"] + ["append"] * (len(s.history) - 1)
    durations = [round(c.duration * 24) for c in s.clips]
    assert durations == [12 + k for k in range(len(durations))]


@pytest.mark.parametrize("name", ["render", "save", "to_notebook", "__init__", "_replay_all", "export", "undo_all"])
def test_a_journal_entry_that_names_no_operation_is_refused_and_changes_nothing(ab, name):
    edit_some(ab)
    ab.save()
    with open(ab.journal.path, "a") as f:
        f.write(json.dumps({"op": name, "args": [str(ab.path / "x.mp4")], "kwargs": {"fresh": True}}) + "\n")
    before = {p: p.read_bytes() for p in ab.path.rglob("*") if p.is_file()}
    with pytest.raises(nbedit.ProjectError, match=f"names '{name}', which is not an operation"):
        nbedit.Session(ab.path)
    assert {p: p.read_bytes() for p in ab.path.rglob("*") if p.is_file()} == before


def test_a_write_that_fails_half_way_leaves_no_torn_line(ab, monkeypatch):
    edit_some(ab)
    good = ab.journal.path.read_bytes()
    real_fsync = os.fsync

    def full_disk(fd):  # the line is written, then the disk fills before it is synced
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(nbedit.ProjectError, match="No space left"):
        ab.slip("c1", by=0.25)
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert ab.journal.path.read_bytes() == good
    ab.slip("c1", by=0.5)  # the next edit starts a line of its own, and the project reopens
    assert nbedit.Session(ab.path).state() == ab.state()


HOLDER = textwrap.dedent(
    """
    import sys, time, nbedit
    s = nbedit.Session(sys.argv[1])
    print("open", flush=True)
    sys.stdin.readline()
    """
)


@pytest.mark.slow
def test_one_process_edits_a_project_at_a_time(ab, tmp_path):
    edit_some(ab)
    ab.close()
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(ab.path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline() == "open\n"
        before = ab.journal.path.read_bytes()
        with pytest.raises(nbedit.ProjectError, match=f"open for editing in another process \\(pid {proc.pid}\\)"):
            nbedit.Session(ab.path, name="other")
        look = nbedit.Session(ab.path, read_only=True)  # to look, play or render
        assert look.state() == ab.state() and look.frame(0.5).shape == (240, 320, 3)
        with pytest.raises(nbedit.ProjectError, match="read-only"):
            look.slip("c1", by=0.25)
        with pytest.raises(nbedit.ProjectError, match="read-only"):
            look.undo()
        assert ab.journal.path.read_bytes() == before
    finally:
        proc.communicate("\n", timeout=30)
    assert nbedit.Session(ab.path).state() == ab.state()  # the lock went with the process


def nested_otio(depth: int) -> str:
    """A timeline whose stacks nest ``depth`` deep: OTIO's own reader crashes the process on such a file."""
    inner = '{"OTIO_SCHEMA": "Stack.1", "children": ['
    return (
        '{"OTIO_SCHEMA": "Timeline.1", "name": "deep", "tracks": ' + inner * depth + "]}" * depth + "}"
    )


def test_a_timeline_file_nested_too_deeply_is_refused_before_otio_reads_it(ab, tmp_path):
    deep = tmp_path / "deep.otio"
    deep.write_text(nested_otio(50_000))
    state = ab.state()
    with pytest.raises(nbedit.ProjectError, match="nested too deeply"):
        ab.open_timeline(deep)
    with pytest.raises(nbedit.ProjectError, match="nested too deeply"):
        ab.import_timeline(deep)
    assert ab.state() == state


def test_setting_a_journal_aside_twice_in_one_second_keeps_both_parts(tmp_path):
    path = tmp_path / "journal.jsonl"
    path.write_bytes(b'{"a": 1}\n{"b": 2}\n{"torn')
    journal = Journal(path)
    first = journal.set_aside(18, "20261202-072500")
    second = journal.set_aside(0, "20261202-072500")
    assert first != second
    assert first.read_bytes() == b'{"torn' and second.read_bytes() == b'{"a": 1}\n{"b": 2}\n'
    assert path.read_bytes() == b""
