"""Recipes as artefacts: replay headless, diff two, verify a render, find moved media, say what differs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

import nbedit
from nbedit import media, recipes
from nbedit.cli import main
from nbedit.recipes import RecipeError


@pytest.fixture
def footage_dir(tmp_path: Path) -> Path:
    d = tmp_path / "footage"
    d.mkdir()
    media.testsrc(d / "a.mp4", seconds=2, fps=24, size=(160, 120), variant=0)
    media.testsrc(d / "b.mp4", seconds=2, fps=24, size=(160, 120), variant=1)
    return d


def make_recipe(tmp_path: Path, footage_dir: Path, name: str = "cut", *, trim: float = 0.5) -> tuple[Path, list[str]]:
    """A small edit (two clips, a trim, a crossfade), its recipe notebook and its frame hashes."""
    s = nbedit.Session(tmp_path / f"{name}-project", name=name)
    a = s.import_media(footage_dir / "a.mp4")
    b = s.import_media(footage_dir / "b.mp4")
    c1 = s.append(a)
    c2 = s.append(b)
    s.trim(c1, src_out=trim + 1.0)
    s.trim(c2, src_in=0.5)
    s.crossfade(c1, c2, duration=0.25)
    hashes = recipes.frame_hashes(s)
    path = s.to_notebook(tmp_path / f"{name}.ipynb", render_to=f"{name}.mp4")
    s.close()
    return path, hashes


def test_a_replayed_recipe_shows_the_same_frames_as_the_session_that_made_it(tmp_path, footage_dir):
    path, hashes = make_recipe(tmp_path, footage_dir)
    r = recipes.replay(path, progress=False)
    assert recipes.frame_hashes(r.session) == hashes
    assert r.warnings == [] and r.relinked == {}
    r.session.close()


def test_a_recipe_carries_the_versions_and_the_sha256_of_its_media(tmp_path, footage_dir):
    path, _ = make_recipe(tmp_path, footage_dir)
    meta = nbformat.read(path, as_version=4).metadata["nbedit"]
    assert meta["versions"]["nbedit"] == nbedit.__version__
    assert meta["versions"]["av"] == recipes.versions()["av"]
    shas = {m["path"]: m["sha256"] for m in meta["media"]}
    assert shas[str((footage_dir / "a.mp4").absolute())] == media.sha256_file(footage_dir / "a.mp4")


def test_replay_warns_when_a_version_differs(tmp_path, footage_dir):
    path, _ = make_recipe(tmp_path, footage_dir)
    nb = nbformat.read(path, as_version=4)
    nb.metadata["nbedit"]["versions"]["av"] = "0.0.1"
    nbformat.write(nb, path)
    r = recipes.replay(path, progress=False)
    assert len(r.warnings) == 1 and "av 0.0.1 made this recipe" in r.warnings[0]
    r.session.close()


def test_replay_finds_moved_media_by_sha256(tmp_path, footage_dir):
    path, hashes = make_recipe(tmp_path, footage_dir)
    moved = tmp_path / "elsewhere" / "deep"
    moved.mkdir(parents=True)
    for f in footage_dir.iterdir():
        shutil.move(f, moved / ("renamed-" + f.name))
    with pytest.raises(RecipeError, match=r"cell 3 .*--search"):
        recipes.replay(path, progress=False)
    r = recipes.replay(path, search=[tmp_path / "elsewhere"], progress=False)
    assert sorted(Path(p).name for p in r.relinked.values()) == ["renamed-a.mp4", "renamed-b.mp4"]
    assert recipes.frame_hashes(r.session) == hashes
    r.session.close()


def test_replay_stops_at_the_first_failing_cell_and_names_it(tmp_path, footage_dir):
    path, _ = make_recipe(tmp_path, footage_dir)
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(5, nbformat.v4.new_code_cell("s.trim('c99', src_out=1.0)", metadata={"tags": ["operation"]}))
    nbformat.write(nb, path)
    project = tmp_path / "rebuilt"
    with pytest.raises(RecipeError, match=r"cell 6 \(s.trim\('c99'"):
        recipes.replay(path, project=project, progress=False)
    assert not project.exists()  # nothing half-built is left behind


def test_replay_never_builds_over_an_existing_folder(tmp_path, footage_dir):
    path, _ = make_recipe(tmp_path, footage_dir)
    keep = tmp_path / "mine"
    keep.mkdir()
    (keep / "notes.txt").write_text("mine")
    with pytest.raises(nbedit.NbeditError, match="exists"):
        recipes.replay(path, project=keep, progress=False)
    assert (keep / "notes.txt").read_text() == "mine"


def test_verify_says_same_for_the_recipes_own_render_and_different_for_another(tmp_path, footage_dir):
    path, _ = make_recipe(tmp_path, footage_dir)
    r = recipes.replay(path, output=tmp_path / "out.mp4", progress=False)
    r.session.close()
    v = recipes.verify(path, tmp_path / "out.mp4", progress=False)
    assert v.same and v.frames == len(recipes.file_hashes(tmp_path / "out.mp4"))
    other, _ = make_recipe(tmp_path, footage_dir, "other", trim=0.25)
    r2 = recipes.replay(other, output=tmp_path / "other.mp4", progress=False)
    r2.session.close()
    v2 = recipes.verify(path, tmp_path / "other.mp4", progress=False)
    assert not v2.same and v2.first_difference is not None


def test_diff_names_the_changed_operation_and_the_frames_it_changes(tmp_path, footage_dir):
    a, ha = make_recipe(tmp_path, footage_dir, "a", trim=0.5)
    b, hb = make_recipe(tmp_path, footage_dir, "b", trim=0.25)
    d = recipes.diff(a, b, strip_to=tmp_path / "strip.png", progress=False)
    assert any(line.startswith("-s.trim('c1', src_out=1.5)") for line in d.operations)
    assert any(line.startswith("+s.trim('c1', src_out=1.25)") for line in d.operations)
    assert d.frames == recipes.changed_ranges(ha, hb) != []
    # a shorter first clip moves everything after its new end: the first change is where the cut moved
    assert d.frames[0][0] == min(i for i in range(min(len(ha), len(hb))) if ha[i] != hb[i])
    assert (tmp_path / "strip.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_diff_of_a_recipe_with_itself_finds_nothing(tmp_path, footage_dir):
    a, _ = make_recipe(tmp_path, footage_dir)
    d = recipes.diff(a, a, progress=False)
    assert d.operations == [] and d.frames == []
    assert "every frame is the same" in str(d)


def test_the_command_line_replays_renders_and_verifies(tmp_path, footage_dir, capsys):
    path, _ = make_recipe(tmp_path, footage_dir)
    out = tmp_path / "cli.mp4"
    assert main(["replay", str(path), "-o", str(out), "--quiet"]) == 0
    assert out.exists() and "replayed" in capsys.readouterr().out
    assert main(["verify", str(path), str(out), "--quiet"]) == 0
    assert "same: all" in capsys.readouterr().out
    assert main(["diff", str(path), str(path), "--quiet"]) == 0
    assert main(["replay", str(tmp_path / "nope.ipynb"), "--quiet"]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_a_recipe_that_is_not_a_notebook_is_a_typed_error(tmp_path):
    bad = tmp_path / "bad.ipynb"
    bad.write_text(json.dumps({"not": "a notebook"}))
    with pytest.raises(RecipeError, match="not a notebook"):
        recipes.read(bad)


# ---- the recipe inside the render ----------------------------------------------------------------------------


def rendered(tmp_path: Path, footage_dir: Path, **kw) -> tuple[Path, Path]:
    s = nbedit.Session(tmp_path / "made", name="made")
    c1 = s.append(s.import_media(footage_dir / "a.mp4"))
    s.append(s.import_media(footage_dir / "b.mp4"))
    s.trim(c1, src_out=1.5)
    out = s.render(tmp_path / "made.mp4", progress=False, **kw)
    s.close()
    return out, tmp_path / "made"


def test_a_render_carries_its_recipe_and_rebuilds_after_the_project_is_gone(tmp_path, footage_dir):
    out, project = rendered(tmp_path, footage_dir)
    shutil.rmtree(project)
    nb = recipes.recipe_of_render(out)
    assert nb == tmp_path / "made.recipe.ipynb"
    summary = {"name": "made", "clips": 2, "seconds": 3.5, "fps": "24", "tracks": ["V1"], "media": ["a", "b"]}
    assert recipes.summary_of_render(out) == summary
    v = recipes.verify(nb, out, progress=False)
    assert v.same, str(v)


def test_the_recipe_survives_an_ffmpeg_remux(tmp_path, footage_dir):
    import subprocess

    import imageio_ffmpeg

    out, _ = rendered(tmp_path, footage_dir)
    for ext in (".mp4", ".mkv"):
        again = tmp_path / f"remuxed{ext}"
        ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
        subprocess.run([ffmpeg, "-loglevel", "error", "-i", str(out), "-c", "copy", str(again)], check=True)
        nb = recipes.recipe_of_render(again, tmp_path / f"from{ext}.ipynb")
        first = recipes.recipe_of_render(out, tmp_path / "o.ipynb")
        assert recipes.read(nb).operations == recipes.read(first).operations
        first.unlink()


def test_session_from_render_rebuilds_the_same_timeline(tmp_path, footage_dir):
    out, project = rendered(tmp_path, footage_dir)
    original = nbedit.Session(project, read_only=True)
    want = recipes.frame_hashes(original)
    original.close()
    s = nbedit.Session.from_render(out, tmp_path / "rebuilt", progress=False)
    assert recipes.frame_hashes(s) == want
    s.close()


def test_recipe_false_leaves_the_recipe_out(tmp_path, footage_dir):
    out, _ = rendered(tmp_path, footage_dir, recipe=False)
    with pytest.raises(RecipeError, match="holds no nbedit recipe"):
        recipes.recipe_of_render(out)


def test_getting_a_recipe_back_never_writes_over_a_file(tmp_path, footage_dir, capsys):
    out, _ = rendered(tmp_path, footage_dir)
    mine = tmp_path / "made.recipe.ipynb"
    mine.write_text("mine")
    assert main(["recipe", str(out)]) == 1
    assert "exists" in capsys.readouterr().err and mine.read_text() == "mine"
    assert main(["recipe", str(out), "-o", str(tmp_path / "other.ipynb")]) == 0


def test_a_render_in_segments_carries_the_recipe_too(tmp_path, footage_dir):
    out, _ = rendered(tmp_path, footage_dir, scheduler="segments")
    assert recipes.summary_of_render(out)["clips"] == 2


def test_the_recipe_in_a_render_renders_with_that_renders_settings(tmp_path, footage_dir):
    out, _ = rendered(tmp_path, footage_dir, size=(96, 72), crf=30, end=2.0)
    nb = recipes.recipe_of_render(out)
    assert recipes.read(nb).render_cell.source == "s.render('made.mp4', size=(96, 72), crf=30, end=2.0)"
    assert recipes.verify(nb, out, progress=False).same


def test_two_renders_of_one_edit_to_two_names_are_the_same_bytes(tmp_path, footage_dir):
    out, project = rendered(tmp_path, footage_dir)
    s = nbedit.Session(project, read_only=True)
    again = s.render(tmp_path / "another-name.mp4", progress=False)
    s.close()
    assert again.read_bytes() == out.read_bytes()


def test_a_quiet_replay_shows_no_progress_bar_even_for_its_render_cell(tmp_path, footage_dir, capfd):
    path, _ = make_recipe(tmp_path, footage_dir)
    capfd.readouterr()
    r = recipes.replay(path, output=tmp_path / "out.mp4", progress=False)
    r.session.close()
    assert r.output is not None and r.output.exists()
    err = capfd.readouterr().err
    assert "it/s" not in err and "frame" not in err
