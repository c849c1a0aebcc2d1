"""LTX-2 through nbedit's generative verbs: the tiny ``ltx-2`` checkpoint (an LTX2Pipeline folder) runs through
the same paths as a user's real one; text-to-video, image-to-video by class swap, conditions by LTX2ConditionPipeline.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from model_helpers import frames_of, frames_sha

import nbedit
from nbedit.errors import EditError, NbeditError
from nbedit.models.cards import read_card
from nbedit.models.folders import folder_digest
from nbedit.models.pipelines import Keyframe, Request, latent_index, run

pytest_plugins = ["tiny_models"]  # fixtures: the tiny checkpoints, and sessions that find them

KITE = "a red kite over a beach at dusk"
SMALL = {"model": "ltx-2", "seconds": 0.4, "size": (64, 64), "seed": 7}  # 9 frames at 24 fps, 2 steps (the card's)


def unchanged(s: nbedit.Session):
    return s.state(), [r.code for r in s.history], sorted(s.media)


@pytest.fixture(scope="module")
def made(tiny_models, tmp_path_factory):
    """One text-to-video take, made once for the tests that only read it."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NBEDIT_MODELS", str(tiny_models))
        mp.setenv("NBEDIT_DEVICE", os.environ.get("NBEDIT_TEST_DEVICE", "cpu"))
        s = nbedit.Session(tmp_path_factory.mktemp("ltx2") / "project")
        yield s, s.generate(KITE, **SMALL)


def test_the_tiny_ltx2_folder_loads_offline_as_an_ltx2_pipeline(tiny_models):
    from diffusers import DiffusionPipeline

    pipe = DiffusionPipeline.from_pretrained(str(tiny_models / "ltx-2"), local_files_only=True)
    assert type(pipe).__name__ == "LTX2Pipeline"
    parts = {k: type(v).__name__ for k, v in pipe.components.items() if v is not None}
    assert parts["text_encoder"] == "Gemma3ForConditionalGeneration" and parts["tokenizer"] == "GemmaTokenizer"
    assert {"connectors", "audio_vae", "vocoder"} <= set(parts)
    assert pipe.tokenizer("a kite").input_ids[0] == pipe.tokenizer.bos_token_id  # a prompt is tokens, no download
    card = read_card(tiny_models / "ltx-2")
    assert card.pipeline == "LTX2Pipeline"
    assert {"text-to-video", "image-to-video", "keyframes-to-video", "video-to-video"} <= card.tasks


def test_the_tiny_ltx2_folder_is_the_same_bytes_every_build(tmp_path, tiny_models):
    from nbedit.models.tiny import make_tiny

    again = make_tiny(tmp_path, names=["ltx-2"])["ltx-2"]
    assert folder_digest(again) == folder_digest(tiny_models / "ltx-2") == read_card(again).sha256


def test_generate_makes_media_of_the_asked_size_and_frames(made, tiny_models):
    s, media = made
    assert (media.info.frame_count, media.info.width, media.info.height) == (9, 64, 64)
    gen = s.generation(media)
    assert (gen["pipeline"], gen["frames"], gen["steps"]) == ("LTX2Pipeline", 9, 2)
    sha = folder_digest(tiny_models / "ltx-2")
    assert s.history[-1].code == (
        f"s.generate({KITE!r}, model='ltx-2', seconds=0.4, size=(64, 64), seed=7, steps=2, guidance=3.0, "
        f"weights_sha256={sha!r})"
    )


def test_the_same_seed_gives_the_same_frames(made, gs):
    _, first = made
    second = gs.generate(KITE, **SMALL)  # another project, another load of the checkpoint
    assert frames_sha(second.path) == frames_sha(first.path)


def test_image_to_video_starts_from_the_picture(made, gs):
    _, text_only = made
    picture = np.zeros((64, 64, 3), np.uint8)
    picture[:, 32:] = (255, 200, 0)
    moving = gs.image_to_video(picture, KITE, **SMALL)
    assert moving.info.frame_count == 9
    assert not np.array_equal(frames_of(moving.path), frames_of(text_only.path))  # same seed: the picture counts
    code = gs.history[-1].code
    assert code.startswith("s.image_to_video(") and "image_sha256=" in code and "model='ltx-2'" in code
    assert "LTX2ImageToVideoPipeline" in gs.models.get("ltx-2").views  # the same components, another class


def test_fill_gap_conditions_on_the_clips_either_side(made, gs):
    _, take = made
    footage = gs.import_media(take.path)
    left = gs.append(footage, track="V1")
    right = gs.overwrite(footage, track="V1", at=left.end + 0.25)
    filled = gs.fill_gap("V1", at=left.end + 0.1, prompt="waves", model="ltx-2", seed=5)
    assert (filled.start, filled.duration) == (left.end, 0.25)
    assert right.start == pytest.approx(filled.end)
    assert "LTX2ConditionPipeline" in gs.models.get("ltx-2").views
    gen = gs.generation(filled)
    first, last = gen["sources"]
    assert (first["index"], last["index"]) == (0, 7) and gen["frames"] == 9  # 6 frames between two pictures


def test_stylize_takes_the_clip_whole_as_a_condition(made, gs):
    _, take = made
    clip = gs.append(gs.import_media(take.path), track="V1")
    styled = gs.stylize(clip, "charcoal drawing", model="ltx-2", strength=0.5, seed=3)
    assert styled.info.frame_count == 9
    assert gs.generation(styled)["task"] == "video-to-video"
    assert not np.array_equal(frames_of(styled.path), frames_of(take.path))


def test_a_keyframe_past_frame_zero_steers_the_condition_pipeline(gs):
    m = gs.models.get("ltx-2", task="keyframes-to-video")

    def with_keyframe(value: int) -> np.ndarray:
        key = Keyframe(np.full((1, 64, 64, 3), value, np.uint8), index=8)  # the last frame: latent frame 1
        ask = Request("keyframes-to-video", KITE, None, 7, 2, 3.0, 64, 64, 9, 24.0, keyframes=(key,))
        return run(m, ask, progress=False)

    dark, light = with_keyframe(0), with_keyframe(255)
    assert dark.shape == (9, 64, 64, 3)
    assert not np.array_equal(dark, light)


def test_an_output_frame_maps_to_the_latent_frame_that_holds_it():
    # LTX-2 conditions name latent frames: 0 is output frame 0, k > 0 is output frames 8(k-1)+1 .. 8k
    assert [latent_index(f, 8) for f in (0, 1, 7, 8, 9, 16, 17)] == [0, 1, 1, 1, 2, 2, 3]
    assert latent_index(24, 8) == (25 - 1) // 8  # the last frame of 25 is in the last latent frame: kept, not skipped


@pytest.mark.parametrize("bad", [{"size": (0, 64)}, {"steps": 0}, {"seconds": -1}])
def test_bad_parameters_are_nbedit_errors_and_change_nothing(gs, bad):
    before = unchanged(gs)
    with pytest.raises(NbeditError):
        gs.generate(KITE, **{**SMALL, **bad})
    assert unchanged(gs) == before


def test_a_picture_that_is_not_one_is_an_edit_error_and_changes_nothing(gs):
    before = unchanged(gs)
    with pytest.raises(EditError, match="uint8"):
        gs.image_to_video(np.zeros((64, 64, 3), np.float32), KITE, **SMALL)
    assert unchanged(gs) == before
