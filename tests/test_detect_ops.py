"""s.speech, s.remove_silence and s.detect_shots: detectors as recorded operations, on footage whose truth is
known (espeak-ng sentences mixed into noise at known times; scikit-image photos joined by cuts at known frames)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from detect_footage import shots, spoken

import nbedit
from nbedit import media
from nbedit.errors import EditError, MediaError, NbeditError
from nbedit.tools import speech as sp

SENTENCES = [(1.0, "The quick brown fox jumps over the lazy dog"), (5.5, "Editing video in a notebook is easy")]
SECONDS = 10.0
FPS = 24


@pytest.fixture(scope="module")
def talk(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list]:
    """10 s of H.264 with its frame number drawn, and AAC of two sentences over noise 10 dB below them."""
    return spoken(tmp_path_factory.mktemp("talk") / "talk.mp4", SENTENCES, seconds=SECONDS, snr_db=10.0)


@pytest.fixture(scope="module")
def cut_footage(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[int]]:
    """Three panned photos, one second each at 24 fps: hard cuts at frames 24 and 48."""
    return shots(tmp_path_factory.mktemp("shots") / "shots.mp4", ["astronaut", "coffee", "chelsea"], frames=FPS)


@pytest.fixture
def no_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A session of this test finds no model folder at all."""
    empty = tmp_path / "no-models"
    empty.mkdir()
    monkeypatch.setenv("NBEDIT_MODELS", str(empty))
    return empty


def _talk_session(path: Path, talk: tuple[str, list]) -> tuple[nbedit.Session, str]:
    s = nbedit.Session(path)
    s.import_media(talk[0], name="talk")
    return s, s.append("talk", audio="A1").id


def _layout(s: nbedit.Session) -> list:
    """Every track's items as (id, timeline start, frames, source start, links)."""
    out = []
    for t in s.timeline.tracks:
        for x in t:
            d = x.metadata.get("nbedit", {})
            out.append(
                (t.name, d.get("id"), x.range_in_parent().start_time.value, x.duration().value,
                 x.source_range.start_time.value, tuple(d.get("linked", ())))
            )  # fmt: skip
    return out


# ---- speech ---------------------------------------------------------------------------------------------


def test_speech_marks_each_sentence_within_a_tenth_of_a_second_with_the_learned_detector(with_bundled, tmp_path, talk):
    s, c = _talk_session(tmp_path / "p", talk)
    found = s.speech(c, progress=False)
    assert found.method == "learned: speech-detector" and found.ran
    assert found.model["model"] == "speech-detector" and found.model["source"] == "silero-vad 6.2.3"
    marks = [m for m in s.markers() if m["name"] == "speech"]
    assert len(marks) == len(talk[1]) == 2
    for m, (a, b) in zip(marks, talk[1], strict=True):
        start, end = m["at"] / FPS, (m["at"] + m["duration"]) / FPS
        assert abs(start - a) <= 0.1 and abs(end - b) <= 0.1, (start, end, a, b)
    truth = sp.frame_labels(talk[1], SECONDS)
    assert sp.f1(sp.frame_labels(found.found, SECONDS), truth) > 0.95


def test_speech_records_the_model_that_ran_on_the_clip(with_bundled, tmp_path, talk):
    s, c = _talk_session(tmp_path / "p", talk)
    s.speech(c, progress=False)
    detected = nbedit.model.detected_of(s.timeline.tracks[0][0])["speech"]
    assert detected["model"] == "speech-detector" and len(detected["weights_sha256"]) == 64
    assert detected["licence"] == "MIT"
    assert "method='learned'" in s.history[-1].code and "regions=((" in s.history[-1].code


def test_speech_falls_back_to_the_energy_detector_and_says_so(no_models, tmp_path, talk):
    s, c = _talk_session(tmp_path / "p", talk)
    found = s.speech(c, progress=False)
    assert found.method == "classic: energy" and found.model is None
    assert all(m["note"] == "classic: energy" for m in s.markers())
    assert nbedit.model.detected_of(s.timeline.tracks[0][0])["speech"] == {"method": "classic: energy"}
    assert sp.f1(sp.frame_labels(found.found, SECONDS), sp.frame_labels(talk[1], SECONDS)) > 0.9
    assert "method='classic'" in s.history[-1].code


def test_speech_asked_for_the_learned_detector_without_it_is_an_error_that_changes_nothing(no_models, tmp_path, talk):
    s, c = _talk_session(tmp_path / "p", talk)
    before, ops = s.state(), len(s.history)
    with pytest.raises(EditError, match="install-bundled"):
        s.speech(c, method="learned", progress=False)
    assert s.state() == before and len(s.history) == ops


def test_speech_of_a_clip_without_sound_is_a_media_error(no_models, s, tmp_path):
    s.import_media(media.testsrc(tmp_path / "mute.mp4", seconds=1, audio=False), name="mute")
    c = s.append("mute")
    before = s.state()
    with pytest.raises(MediaError, match="has none"):
        s.speech(c)
    with pytest.raises(MediaError):
        s.remove_silence(c)
    assert s.state() == before


def test_reopening_a_project_marks_the_same_speech_without_running_a_detector(with_bundled, tmp_path, talk):
    s, c = _talk_session(tmp_path / "p", talk)
    s.speech(c, progress=False)
    state = s.state()
    s.close()
    again = nbedit.Session(tmp_path / "p")
    assert again.state() == state  # the journal kept the model's provenance: the clip's data is the same


# ---- remove_silence -----------------------------------------------------------------------------------------


def test_remove_silence_keeps_each_sentence_with_pad_seconds_either_side(with_bundled, tmp_path, talk):
    s, c = _talk_session(tmp_path / "p", talk)
    speech = s.speech(c, progress=False).found
    s.undo()
    done = s.remove_silence(c, min_gap=0.5, pad=0.1, progress=False)
    assert done.method == "learned: speech-detector" and len(done.clips) == 2
    v1 = [x for x in _layout(s) if x[0] == "V1"]
    for (_, _, _, frames, src, _), (a, b) in zip(v1, speech, strict=True):
        # each piece shows its sentence and 0.1 s of pause each side (the first starts at the clip's start)
        lo = max(0.0, a - 0.1)
        assert abs(src / FPS - lo) <= 1 / FPS and abs((src + frames) / FPS - (b + 0.1)) <= 1 / FPS
    assert abs(s.duration - sum(min(b + 0.1, SECONDS) - max(a - 0.1, 0) for a, b in speech)) <= 2 / FPS


def test_remove_silence_cuts_the_linked_sound_with_the_picture(with_bundled, tmp_path, talk):
    s, c = _talk_session(tmp_path / "p", talk)
    s.remove_silence(c, progress=False)
    layout = _layout(s)
    v1 = [x[2:5] for x in layout if x[0] == "V1"]
    a1 = [x[2:5] for x in layout if x[0] == "A1"]
    assert v1 == a1 and len(v1) == 2  # same places, lengths and source points: in sync
    links = {x[1]: x[5] for x in layout}
    v_ids, a_ids = [x[1] for x in layout if x[0] == "V1"], [x[1] for x in layout if x[0] == "A1"]
    assert all(links[v] == (a,) and links[a] == (v,) for v, a in zip(v_ids, a_ids, strict=True))


def test_remove_silence_shows_the_pictures_after_each_pause(with_bundled, tmp_path, talk):
    s, c = _talk_session(tmp_path / "p", talk)
    done = s.remove_silence(c, progress=False)
    (_, head_end), (_, pause_end) = done.found[0], done.found[1]  # timeline seconds before the cut = media's here
    second = [x for x in _layout(s) if x[0] == "V1"][1]
    # the number drawn on the picture is the media frame: each piece starts where a cut pause ended
    assert media.read_counter(s.frame(0)) == round(head_end * FPS)
    assert media.read_counter(s.frame(second[2] / FPS)) == round(pause_end * FPS)


def test_remove_silence_is_undone_in_one_step(with_bundled, tmp_path, talk):
    s, c = _talk_session(tmp_path / "p", talk)
    before, ops = s.state(), len(s.history)
    s.remove_silence(c, progress=False)
    assert s.state() != before and len(s.history) == ops + 1
    s.undo()
    assert s.state() == before


def test_remove_silence_recipe_replays_to_the_same_timeline_without_the_model(
    bundled_models, tmp_path, talk, monkeypatch
):
    monkeypatch.setenv("NBEDIT_MODELS", str(bundled_models))
    s, c = _talk_session(tmp_path / "p", talk)
    done = s.remove_silence(c, min_gap=0.5, pad=0.1, progress=False)
    assert done.model["model"] == "speech-detector"
    recipe = s.recipe()
    assert "s.remove_silence('c1', min_gap=0.5, pad=0.1, method='learned', cuts=((0.0, " in recipe
    empty = tmp_path / "none"
    empty.mkdir()
    monkeypatch.setenv("NBEDIT_MODELS", str(empty))  # the replay finds no model: it needs none
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(recipe, namespace)
    assert namespace["s"].state() == s.state()


def test_remove_silence_of_a_clip_with_no_speech_changes_nothing(no_models, tmp_path):
    s = nbedit.Session(tmp_path / "p")
    path, _ = spoken(tmp_path / "hush.mp4", [], seconds=3, snr_db=None)
    s.import_media(path, name="hush")
    c = s.append("hush", audio="A1")
    before = s.state()
    with pytest.raises(EditError, match="no speech"):
        s.remove_silence(c, progress=False)
    assert s.state() == before


@pytest.mark.parametrize(
    "kwargs", [{"min_gap": -1}, {"pad": "x"}, {"min_gap": 0.2, "pad": 0.1}, {"method": "magic"}, {"cuts": ((3, 2),)}]
)
def test_remove_silence_refuses_bad_settings_with_a_typed_error(no_models, tmp_path, talk, kwargs):
    s, c = _talk_session(tmp_path / "p", talk)
    before = s.state()
    with pytest.raises(NbeditError):
        s.remove_silence(c, progress=False, **kwargs)
    assert s.state() == before


# ---- shots ---------------------------------------------------------------------------------------------------


def _shots_session(path: Path, footage: tuple[str, list[int]]) -> tuple[nbedit.Session, str]:
    s = nbedit.Session(path)
    s.import_media(footage[0], name="shots")
    return s, s.append("shots").id


def test_detect_shots_marks_each_cut_at_its_exact_frame(tmp_path, cut_footage):
    s, c = _shots_session(tmp_path / "p", cut_footage)
    found = s.detect_shots(c, progress=False)
    assert found.method == "scenedetect: content"
    assert [m["at"] for m in s.markers() if m["name"] == "shot"] == cut_footage[1] == [24, 48]
    assert "method='scenedetect', cuts=(1.0, 2.0)" in s.history[-1].code


def test_detect_shots_classic_frame_difference_finds_the_same_frames(tmp_path, cut_footage):
    s, c = _shots_session(tmp_path / "p", cut_footage)
    found = s.detect_shots(c, method="classic", progress=False)
    assert found.method == "classic: frame difference"
    assert [round(t * FPS) for t in found.found] == cut_footage[1]


def test_detect_shots_with_split_leaves_one_clip_per_shot(tmp_path, cut_footage):
    s, c = _shots_session(tmp_path / "p", cut_footage)
    found = s.detect_shots(c, split=True, progress=False)
    v1 = [x for x in _layout(s) if x[0] == "V1"]
    assert [(x[2], x[3]) for x in v1] == [(0, 24), (24, 24), (48, 24)]
    assert [x[1] for x in v1] == list(found.clips)
    first = np.asarray(s.frame(24 / FPS), np.float32)
    last = np.asarray(s.frame(23 / FPS), np.float32)
    assert np.abs(first - last).mean() > 20  # the split sits on the cut: the pictures either side differ


def test_detect_shots_needs_a_video_clip(tmp_path, talk, cut_footage):
    s, _ = _talk_session(tmp_path / "p", talk)
    before = s.state()
    with pytest.raises(EditError, match="video clips"):
        s.detect_shots("c2")  # the sound on A1
    with pytest.raises(EditError, match="split must be"):
        s.detect_shots("c1", split="yes")
    assert s.state() == before


@pytest.mark.parametrize("method", ["scenedetect", "classic"])
def test_detect_shots_finds_no_cut_in_one_panning_shot(tmp_path, method):
    s, c = _shots_session(tmp_path / "p", shots(tmp_path / "one.mp4", ["coffee"], frames=48))
    assert s.detect_shots(c, method=method, progress=False).found == ()


def test_the_learned_speech_detector_finds_the_same_regions_in_two_independent_sessions(with_bundled, tmp_path, talk):
    first = _talk_session(tmp_path / "a", talk)
    second = _talk_session(tmp_path / "b", talk)
    assert first[0].speech(first[1], progress=False).found == second[0].speech(second[1], progress=False).found


def test_the_learned_detector_tells_speech_from_bursts_of_noise_where_energy_cannot(with_bundled, tmp_path):
    path, truth = spoken(tmp_path / "street.mp4", SENTENCES, seconds=SECONDS, snr_db=10.0, seed=4, bursts=True)
    s = nbedit.Session(tmp_path / "p")
    s.import_media(path, name="street")
    c = s.append("street").id
    labels = sp.frame_labels(truth, SECONDS)
    learned = sp.f1(sp.frame_labels(s.speech(c, method="learned", progress=False).found, SECONDS), labels)
    classic = sp.f1(sp.frame_labels(s.speech(c, method="classic", progress=False).found, SECONDS), labels)
    assert learned > 0.95 and learned > classic + 0.1, (learned, classic)


def test_install_bundled_builds_the_speech_detector_folder_from_the_silero_wheel(bundled_models):
    from nbedit.models.bundled import read_installed

    inst = read_installed(bundled_models / "speech-detector")
    assert (inst.task, inst.runtime, inst.licence, inst.source) == ("speech-detection", "onnxruntime", "MIT",
                                                                   "silero-vad 6.2.3")  # fmt: skip
    assert inst.weights.name == "silero_vad.onnx" and len(inst.weights_sha256) == 64


def test_a_split_keeps_each_speech_marker_on_the_piece_that_shows_it(no_models, tmp_path, talk):
    s, c = _talk_session(tmp_path / "p", talk)
    s.speech(c, progress=False)
    s.split(c, at=4.5)
    marks = s.markers()
    assert [m["clip"] for m in marks] == ["c1", "c5"] and len({m["id"] for m in marks}) == 2
