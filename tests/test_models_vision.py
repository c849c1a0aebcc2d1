"""The bundled face detector and person segmenter: built from the mediapipe wheel, measured on a real photograph
moved along a known path, used by reframe and mask, replaced by the classic tools when not installed."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

import nbedit
from nbedit.errors import EditError
from nbedit.media import VideoReader
from nbedit.models import bundled, vision
from nbedit.render import Compositor, Sources
from nbedit.tools import detect
from nbedit.tools.photoscene import FACE, PhotoScene, box_iou, mask_iou, photo

# the face moves right and down while the photo zooms in by 1% a frame
FACE_PATH = PhotoScene(size=(426, 240), scale=0.4, start=(10.0, 0.0), speed=(5.0, 0.5), zoom=0.01)
# the person cut out of the photo, standing at the bottom of the frame and walking right
PERSON_PATH = PhotoScene(size=(320, 240), scale=0.55, start=(0.0, 240 - 0.55 * 336), speed=(3.0, 0.0), cutout=True)
PERSON_BOX = (0, 40, 240, 240)  # around the person in frame 0 (x 12..199, y 55..240)


def scene_session(folder: Path, scene: PhotoScene, frames: int) -> tuple[nbedit.Session, str]:
    folder.mkdir(parents=True, exist_ok=True)
    path = scene.write(folder / "astronaut.avi", frames=frames)
    s = nbedit.Session(folder / "project")
    s.import_media(path)
    return s, s.append("astronaut", track="V1").id


def unchanged(s: nbedit.Session):
    return s.state(), [r.code for r in s.history], sorted(s.media)


def runner(folder: Path, name: str):
    load = {"face-detector": vision.load_face_detector, "person-segmenter": vision.load_person_segmenter}[name]
    return load(bundled.read_installed(folder / name), "cpu")[0]


def mask_ious(s: nbedit.Session, m: nbedit.Media, scene: PhotoScene) -> list[float]:
    with VideoReader(m.path) as r:
        return [mask_iou(r.frame(i)[..., 0], scene.person(i)) for i in range(len(r))]


def crop_centres(s: nbedit.Session, n: int) -> np.ndarray:
    comp = Compositor(s.timeline, Sources())
    out = []
    for k in range(n):
        layer = comp.plan(k)[-1]
        left, top, right, bottom = layer.transform[3]
        w, h = int(layer.entry["width"]), int(layer.entry["height"])
        out.append(((left + w - right) / 2, (top + h - bottom) / 2))
    return np.asarray(out)


@pytest.fixture
def no_models(tmp_path, monkeypatch):
    """A session that finds no model folders at all: the classic tools run."""
    empty = tmp_path / "no-models"
    empty.mkdir()
    monkeypatch.setenv("NBEDIT_MODELS", str(empty))


# ---- the folders -------------------------------------------------------------------------------------------


def test_install_bundled_builds_both_folders_with_cards_naming_the_wheel(bundled_models):
    for name, task, weights in [
        ("face-detector", "face-detection", vision.FACE_FILE),
        ("person-segmenter", "person-segmentation", vision.PERSON_FILE),
    ]:
        inst = bundled.read_installed(bundled_models / name)
        assert (inst.task, inst.runtime, inst.weights.name) == (task, "tflite", weights)
        assert (inst.source, inst.licence) == ("mediapipe 0.10.21", "Apache-2.0")
        assert inst.weights_sha256 == hashlib.sha256(inst.weights.read_bytes()).hexdigest()


def test_the_anchor_grid_is_blazefaces_16x16_by_2_then_8x8_by_6():
    a = vision.anchors()
    assert a.shape == (896, 2)
    assert np.allclose(a[:2], [[1 / 32, 1 / 32]] * 2) and np.allclose(a[2], [3 / 32, 1 / 32])
    assert np.allclose(a[512:518], [[1 / 16, 1 / 16]] * 6) and np.allclose(a[-1], [15 / 16, 15 / 16])


# ---- the models on a real photograph -------------------------------------------------------------------------


def test_the_learned_face_box_on_the_astronaut_beats_the_haar_cascade(bundled_models):
    img = photo("astronaut")
    learned = runner(bundled_models, "face-detector").faces(img)
    x, y, w, h = detect.faces(img, detect.face_cascade())[0]
    assert len(learned) == 1 and learned[0].score > 0.9
    assert box_iou(learned[0].box, FACE) > 0.8  # measured: 0.845
    assert box_iou(learned[0].box, FACE) >= box_iou((x, y, x + w, y + h), FACE)  # measured: Haar 0.651


def test_the_face_detector_follows_the_face_along_its_path(bundled_models):
    fd = runner(bundled_models, "face-detector")
    for t in (0, 12, 24, 35):
        found = fd.faces(FACE_PATH.frame(t))
        assert found and box_iou(found[0].box, FACE_PATH.face_box(t)) > 0.75


def test_the_person_segmenter_finds_the_pasted_person(bundled_models):
    seg = runner(bundled_models, "person-segmenter")
    for t in (0, 11):
        assert mask_iou(seg.mask(PERSON_PATH.frame(t)), PERSON_PATH.person(t)) > 0.95  # measured: 0.98


def test_two_loads_of_the_models_give_exactly_the_same_answers(bundled_models):
    img = FACE_PATH.frame(7)
    a, b = runner(bundled_models, "face-detector"), runner(bundled_models, "face-detector")
    assert a.faces(img) == b.faces(img) and a.faces(img) == a.faces(img)
    p, q = runner(bundled_models, "person-segmenter"), runner(bundled_models, "person-segmenter")
    assert np.array_equal(p.probability(img), q.probability(img))


def test_the_runners_refuse_what_is_not_an_rgb_picture(bundled_models):
    with pytest.raises(ValueError, match="RGB uint8"):
        runner(bundled_models, "face-detector").faces(np.zeros((64, 64), np.uint8))
    with pytest.raises(ValueError, match="RGB uint8"):
        runner(bundled_models, "person-segmenter").probability(np.zeros((64, 64, 3), np.float32))


# ---- reframe -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def face_clip(tmp_path_factory):
    return FACE_PATH.write(tmp_path_factory.mktemp("face") / "astronaut.avi", frames=36)


def reframed(folder: Path, clip: str, subject: str = "auto") -> tuple[nbedit.Session, str]:
    s = nbedit.Session(folder)
    s.import_media(clip)
    cid = s.append("astronaut", track="V1").id
    s.reframe(cid, aspect="9:16", subject=subject, progress=False)
    return s, cid


def test_reframe_follows_the_face_the_learned_detector_finds(with_bundled, face_clip, tmp_path):
    s, cid = reframed(tmp_path / "p", face_clip)
    r = s.clip(cid).otio.metadata["nbedit"]["reframe"]
    assert list(r["found_by"]) == ["face"] and list(r["method"]) == ["learned: face-detector"]
    sha = bundled.read_installed(with_bundled / "face-detector").weights_sha256
    assert [dict(p) for p in r["models"]][0]["weights_sha256"] == sha
    crop_w = int(r["size"][0])
    ideal = np.clip([FACE_PATH.face_centre(t)[0] for t in range(36)], crop_w / 2, 426 - crop_w / 2)
    err = np.abs(crop_centres(s, 36)[:, 0] - ideal)
    assert err.mean() < 3 and err.max() < 8  # measured: see bench/accuracy_vision.py


def test_reframe_follows_a_face_too_small_for_the_haar_cascade(with_bundled, tmp_path):
    small = PhotoScene(size=(426, 240), scale=0.25, start=(40.0, 30.0), speed=(4.0, 0.5), zoom=0.015)
    assert not detect.faces(small.frame(0), detect.face_cascade())  # the classic fallback sees no face here
    s, cid = scene_session(tmp_path, small, frames=24)
    s.reframe(cid, aspect="9:16", subject="face", progress=False)
    crop_w = int(s.clip(cid).otio.metadata["nbedit"]["reframe"]["size"][0])
    ideal = np.clip([small.face_centre(t)[0] for t in range(24)], crop_w / 2, 426 - crop_w / 2)
    assert np.abs(crop_centres(s, 24)[:, 0] - ideal).max() < 4  # measured: 1.0


def test_reframe_without_the_models_says_the_haar_cascade_ran(no_models, face_clip, tmp_path):
    s, cid = reframed(tmp_path / "p", face_clip)
    r = s.clip(cid).otio.metadata["nbedit"]["reframe"]
    assert list(r["method"]) == ["classic: haar cascade"] and list(r["models"]) == []


def test_reframe_on_a_person_uses_the_segmenter(with_bundled, tmp_path):
    s, cid = scene_session(tmp_path, PERSON_PATH, frames=12)
    s.reframe(cid, aspect="9:16", subject="person", progress=False)
    r = s.clip(cid).otio.metadata["nbedit"]["reframe"]
    assert list(r["method"]) == ["learned: person-segmenter"]
    body_x = [float(np.nonzero(PERSON_PATH.person(t))[1].mean()) for t in range(12)]
    assert np.abs(crop_centres(s, 12)[:, 0] - body_x).max() < 12


def test_reframe_on_a_person_without_the_segmenter_is_refused_and_changes_nothing(no_models, tmp_path):
    s, cid = scene_session(tmp_path, PERSON_PATH, frames=4)
    before = unchanged(s)
    with pytest.raises(EditError, match="person segmenter"):
        s.reframe(cid, aspect="9:16", subject="person", progress=False)
    assert unchanged(s) == before


def test_reframe_with_the_learned_detector_is_the_same_twice(with_bundled, face_clip, tmp_path):
    a, ca = reframed(tmp_path / "a", face_clip)
    b, cb = reframed(tmp_path / "b", face_clip)
    ra, rb = (x.clip(c).otio.metadata["nbedit"]["reframe"] for x, c in ((a, ca), (b, cb)))
    assert nbedit.model.plain(ra["center"]) == nbedit.model.plain(rb["center"])


# ---- mask ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def person_clip(tmp_path_factory):
    return PERSON_PATH.write(tmp_path_factory.mktemp("person") / "astronaut.avi", frames=12)


def person_session(folder: Path, clip: str) -> tuple[nbedit.Session, str]:
    s = nbedit.Session(folder)
    s.import_media(clip)
    return s, s.append("astronaut", track="V1").id


def test_a_prompt_free_person_mask_covers_the_person_in_every_frame(with_bundled, person_clip, tmp_path):
    s, cid = person_session(tmp_path / "p", person_clip)
    m = s.mask(cid, subject="person", progress=False)
    ious = mask_ious(s, m, PERSON_PATH)
    assert len(ious) == 12 and min(ious) > 0.95  # measured: 0.976 to 0.986
    gen = s.timeline.metadata["nbedit"]["media"][m.id]["generation"]
    assert gen["ran"] == "learned: person-segmenter" and Path(m.path).parent == tmp_path / "p" / "tools"
    assert gen["method"]["weights_sha256"] == bundled.read_installed(with_bundled / "person-segmenter").weights_sha256
    assert s.history[-1].code == "s.mask('c1', subject='person', progress=False)"


def test_a_person_in_a_box_is_segmented_and_carried_through_the_clip(with_bundled, person_clip, tmp_path):
    s, cid = person_session(tmp_path / "p", person_clip)
    m = s.mask(cid, box=PERSON_BOX, subject="person", progress=False)
    assert min(mask_ious(s, m, PERSON_PATH)) > 0.93
    assert s.timeline.metadata["nbedit"]["media"][m.id]["generation"]["ran"] == "learned: person-segmenter"


def test_without_the_segmenter_a_person_mask_falls_back_to_grabcut_and_says_so(no_models, person_clip, tmp_path):
    s, cid = person_session(tmp_path / "p", person_clip)
    m = s.mask(cid, subject="person", progress=False)
    gen = s.timeline.metadata["nbedit"]["media"][m.id]["generation"]
    assert gen["ran"] == "classic: haar+grabcut+flow" and gen["method"] == "haar+grabcut+flow"
    assert np.mean(mask_ious(s, m, PERSON_PATH)) > 0.8  # measured: 0.885


def test_the_learned_person_mask_is_the_same_twice(with_bundled, person_clip, tmp_path):
    digests = []
    for name in ("a", "b"):
        s, cid = person_session(tmp_path / name, person_clip)
        m = s.mask(cid, subject="person", progress=False)
        with VideoReader(m.path) as r:
            digests.append(hashlib.sha256(b"".join(r.frame(i).tobytes() for i in range(len(r)))).hexdigest())
    assert digests[0] == digests[1]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"subject": "people"}, "subject is 'person'"),
        ({"subject": "person", "points": [(50, 50)]}, "no points"),
        ({"subject": "person", "box": (0, 0, 400, 100)}, "outside"),
        ({}, "subject='person'"),
    ],
)
def test_bad_person_masks_are_refused_and_change_nothing(with_bundled, person_clip, tmp_path, kwargs, match):
    s, cid = person_session(tmp_path / "p", person_clip)
    before = unchanged(s)
    with pytest.raises(EditError, match=match):
        s.mask(cid, progress=False, **kwargs)
    assert unchanged(s) == before
    assert not list((tmp_path / "p").glob("tools/*"))


def test_undo_takes_a_person_mask_away(with_bundled, person_clip, tmp_path):
    s, cid = person_session(tmp_path / "p", person_clip)
    s.mask(cid, subject="person", progress=False)
    s.undo()
    assert list(s.clip(cid).otio.metadata["nbedit"].get("masks", [])) == []


def test_a_project_reopens_with_its_learned_mask_and_reframe_where_the_models_are_gone(
    with_bundled, person_clip, tmp_path, monkeypatch
):
    s, cid = person_session(tmp_path / "p", person_clip)
    s.mask(cid, subject="person", progress=False)
    s.reframe(cid, aspect="9:16", subject="person", progress=False)
    empty = tmp_path / "no-models"
    empty.mkdir()
    monkeypatch.setenv("NBEDIT_MODELS", str(empty))
    again = nbedit.Session(s.path)
    assert again.state() == s.state()


def test_weights_that_no_longer_match_their_card_are_refused_and_change_nothing(
    bundled_models, person_clip, tmp_path, monkeypatch
):
    import shutil

    copy = tmp_path / "models"
    shutil.copytree(bundled_models / "person-segmenter", copy / "person-segmenter")
    weights = copy / "person-segmenter" / vision.PERSON_FILE
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    monkeypatch.setenv("NBEDIT_MODELS", str(copy))
    s, cid = person_session(tmp_path / "p", person_clip)
    before = unchanged(s)
    with pytest.raises(EditError, match="sha256"):
        s.mask(cid, subject="person", progress=False)
    assert unchanged(s) == before


def test_without_the_segmenter_a_clip_with_no_face_asks_for_a_box(no_models, tmp_path):
    s, cid = scene_session(tmp_path, PhotoScene(scale=0.04, start=(150.0, 200.0)), frames=3)
    before = unchanged(s)
    with pytest.raises(EditError, match="Give box="):
        s.mask(cid, subject="person", progress=False)
    assert unchanged(s) == before
