"""Recorded recipes: history as code, a script and a notebook that rebuild the same edit, cells from outside."""

from __future__ import annotations

import hashlib

import nbformat
import pytest
from nbclient import NotebookClient
from opentimelineio.opentime import RationalTime

import nbedit


def build(s: nbedit.Session, footage: dict[str, str]) -> nbedit.Session:
    a = s.import_media(footage["a"])
    b = s.import_media(footage["b"])
    tone = s.import_media(footage["tone"])
    c1 = s.append(a, track="V1", src_in=0.5, src_out=2.5)
    c2 = s.append(b, track="V1", src_in=0.5, src_out=2.5)
    s.crossfade(c1, c2, duration=0.5)
    s.split(c2, at=RationalTime(72, 24))
    pip = s.overwrite(a, track="V2", at=0.5, duration=1.0)
    s.transform(pip, x=60, y=-40, scale=0.3)
    s.speed(c1, 1.5)
    s.append(tone, track="A1", src_in=0, src_out=2)
    return s


def frame_hashes(s: nbedit.Session) -> list[str]:
    times = [k / 6 for k in range(int(s.duration * 6))]
    return [hashlib.sha256(s.frame(t).tobytes()).hexdigest() for t in times]


def test_each_operation_is_one_line_of_code_with_literal_arguments(s, footage):
    build(s, footage)
    codes = [r.code for r in s.history]
    assert codes[0].startswith(f"s.import_media({footage['a']!r}, sha256=")
    assert codes[3] == "s.append('a', track='V1', src_in=0.5, src_out=2.5)  # -> c1"
    assert codes[5] == "s.crossfade('c1', 'c2', duration=0.5)"
    assert codes[6] == "s.split('c2', at=RationalTime(72.0, 24.0))  # -> c3"
    assert all("\n" not in c for c in codes)


def test_recipe_script_rebuilds_the_same_timeline(s, footage, tmp_path, monkeypatch):
    build(s, footage)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(s.recipe(), namespace)
    replay = namespace["s"]
    assert replay.path != s.path
    assert replay.state() == s.state()
    assert frame_hashes(replay) == frame_hashes(s)


def test_recipe_imports_media_by_path_and_sha256(s, footage):
    build(s, footage)
    sha = s.media["a"].info.sha256
    assert s.history[0].code == f"s.import_media({footage['a']!r}, sha256={sha!r})"


def test_recipe_records_media_by_full_path(s, footage, tmp_path, monkeypatch):
    import shutil

    (tmp_path / "media").mkdir()
    shutil.copy(footage["a"], tmp_path / "media" / "a.mp4")
    monkeypatch.chdir(tmp_path)
    s.import_media("media/a.mp4")
    assert s.history[0].args == (str(tmp_path / "media" / "a.mp4"),)


def test_recipe_refuses_a_different_file_at_the_recorded_path(s, footage, tmp_path, monkeypatch):
    import shutil

    own = tmp_path / "own.mp4"
    shutil.copy(footage["a"], own)
    s.append(s.import_media(own), src_in=0, src_out=1)
    shutil.copy(footage["b"], own)  # a different file now sits at the recorded path
    monkeypatch.chdir(tmp_path)
    with pytest.raises(nbedit.MediaError, match="not the recorded file"):
        exec(s.recipe(), {})


@pytest.mark.slow
def test_recipe_notebook_replays_in_a_fresh_kernel_to_the_same_timeline_and_frames(s, footage, tmp_path):
    build(s, footage)
    path = s.to_notebook(tmp_path / "recipe.ipynb", render_to="replay.mp4")
    nbk = nbformat.read(path, as_version=4)
    assert [c.cell_type for c in nbk.cells] == ["markdown", "code"] + ["code"] * len(s.history) + ["code"]
    NotebookClient(nbk, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    replay = nbedit.Session(tmp_path / f"{s.name}.recipe")
    assert replay.state() == s.state()
    assert frame_hashes(replay) == frame_hashes(s)
    assert (tmp_path / "replay.mp4").stat().st_size > 0


def test_notebooks_are_written_without_outputs(s, footage, tmp_path):
    build(s, footage)
    nbk = nbformat.read(s.to_notebook(tmp_path / "r.ipynb"), as_version=4)
    nbformat.validate(nbk)
    assert all(not c.get("outputs") for c in nbk.cells if c.cell_type == "code")


@pytest.fixture
def shell():
    from IPython.core.interactiveshell import InteractiveShell

    sh = InteractiveShell.instance()
    yield sh
    InteractiveShell.clear_instance()


def test_operations_from_outside_a_cell_become_the_next_input_cell(ab, shell):
    ab.append("a", src_in=0, src_out=2)
    shell.user_ns["s"] = ab
    shell.run_cell("with s.external('widget'):\n    s.split('c1', at=1.0)\n    s.slip('c1', by=0.5)")
    payload = shell.payload_manager.read_payload()
    assert payload == [
        {"source": "set_next_input", "text": "s.split('c1', at=1.0)  # -> c2\ns.slip('c1', by=0.5)", "replace": False}
    ]


def test_operations_typed_in_a_cell_are_not_emitted_again(ab, shell):
    shell.user_ns["s"] = ab
    shell.run_cell("s.append('a', src_in=0, src_out=2)")
    assert shell.payload_manager.read_payload() == []


def test_emitted_code_waits_for_the_next_cell_when_none_is_running(ab, shell):
    shell.user_ns["s"] = ab
    shell.run_cell("c = s.append('a', src_in=0, src_out=2)")
    shell.payload_manager.clear_payload()
    with ab.external("widget"):  # a widget message, handled between cells
        ab.undo()
    assert ab.cells.pending == ["s.undo()"]
    shell.run_cell("1 + 1")
    assert shell.payload_manager.read_payload()[0]["text"] == "s.undo()"
    assert ab.cells.pending == []


def test_running_an_emitted_cell_in_the_same_kernel_says_it_is_applied_and_changes_nothing(ab, shell, capsys):
    shell.user_ns["s"] = ab
    shell.run_cell("c = s.append('a', src_in=0, src_out=2)")
    shell.payload_manager.clear_payload()
    inserted = []
    ab.cells.insert = lambda code: inserted.append(code) or True  # a front end that puts each code in a cell
    with ab.external("widget"):
        ab.split("c1", at=1.0)
        ab.trim("c1", src_out=0.5, ripple=False)
    state, history = ab.state(), len(ab.history)
    assert inserted == ["s.split('c1', at=1.0)  # -> c2", "s.trim('c1', src_out=0.5, ripple=False)"]
    capsys.readouterr()
    for code in inserted:  # run in order, as the saved notebook would be
        shell.transform_cell(code)  # ipykernel transforms a cell once more, first, to see whether it awaits
        shell.run_cell(code)
    out = capsys.readouterr().out
    assert out.count(ab.cells.NOTE) == 2 and "s.split('c1', at=1.0)" in out
    assert ab.state() == state and len(ab.history) == history
    assert ab.cells.applied == []
    shell.run_cell(inserted[1] + "\n")  # run again on purpose: now it is an ordinary cell
    assert len(ab.history) == history + 1
    shell.run_cell("s.undo()  ")  # an unrelated cell that happens to look like code never emitted: it runs
    assert len(ab.history) == history


def test_the_recipe_notebook_is_byte_for_byte_what_nbformat_writes_and_it_validates(s, footage, tmp_path):
    build(s, footage)
    path = s.to_notebook(tmp_path / "recipe.ipynb")
    text = path.read_text()
    nb = nbformat.reads(text, as_version=4)
    nbformat.validate(nb)
    assert nbformat.writes(nb) == text
    assert [c.metadata.get("tags") for c in nb.cells][-1] == ["render"]


def test_a_render_carries_its_recipe_without_loading_nbformat(footage, tmp_path):
    import subprocess
    import sys

    code = (
        "import sys, nbedit\n"
        f"s = nbedit.Session({str(tmp_path / 'p')!r})\n"
        f"s.append(s.import_media({footage['a']!r}), track='V1', src_in=0, src_out=0.5)\n"
        f"s.render({str(tmp_path / 'out.mp4')!r}, progress=False)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('nbformat', 'jsonschema')))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"
    assert nbedit.Session.from_render(tmp_path / "out.mp4", tmp_path / "back").clips
