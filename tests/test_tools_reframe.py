"""Auto-reframe: the crop follows a subject whose true position is known, holds still, cuts with the shot."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from test_tools_footage import scene_session

import nbedit
from nbedit.errors import EditError
from nbedit.render import Compositor, Sources
from nbedit.tools.detect import face_cascade
from nbedit.tools.synthetic import Scene


def crops(s: nbedit.Session, frames: range) -> np.ndarray:
    """(left, top, width, height) of the top clip's crop at each timeline frame, in source pixels."""
    comp = Compositor(s.timeline, Sources())
    out = []
    for n in frames:
        layer = comp.plan(n)[-1]
        left, top, right, bottom = layer.transform[3]
        w, h = int(layer.entry["width"]), int(layer.entry["height"])
        out.append((left, top, w - left - right, h - top - bottom))
    return np.asarray(out, np.float64)


def tracking_error(s: nbedit.Session, scene: Scene, n: int) -> np.ndarray:
    """Horizontal distance (pixels) from the crop's centre to where a perfect camera would be: the subject's centre,
    kept far enough from the picture's edges for the crop to stay inside it."""
    c = crops(s, range(n))
    width = c[0, 2]
    ideal = np.clip([scene.centre(k)[0] for k in range(n)], width / 2, scene.size[0] - width / 2)
    return np.abs(c[:, 0] + c[:, 2] / 2 - ideal)


def unchanged(s: nbedit.Session):
    return s.state(), [r.code for r in s.history], sorted(s.media)


def test_the_crop_follows_a_moving_subject_within_a_few_pixels(tmp_path):
    scene = Scene(speed=(6, 2))
    s, cid = scene_session(tmp_path, scene, frames=48)
    s.reframe(cid, aspect="9:16", subject="saliency", progress=False)
    err = tracking_error(s, scene, 48)
    assert err.mean() < 3 and err.max() < 16  # measured: 1.9 px mean; the worst frames are the first and last


def test_the_camera_holds_still_while_the_subject_barely_moves(tmp_path):
    scene = Scene(jitter=3, start=(140, 90))
    s, cid = scene_session(tmp_path, scene, frames=36)
    s.reframe(cid, aspect="1:1", progress=False)
    c = crops(s, range(36))
    assert (c == c[0]).all()
    assert len(s.clip(cid).otio.metadata["nbedit"]["reframe"]["center"]["keys"]) <= 2


def test_the_camera_cuts_with_the_shot_instead_of_panning_across_it(tmp_path):
    scene = Scene(speed=(4, 2), cut_at=24, start=(30, 40))
    s, cid = scene_session(tmp_path, scene, frames=48)
    s.reframe(cid, aspect="9:16", progress=False)
    assert list(s.clip(cid).otio.metadata["nbedit"]["reframe"]["shots"]) == [24]
    steps = np.abs(np.diff(crops(s, range(48))[:, 0]))
    assert steps[23] > 100  # one jump, at the cut
    assert np.delete(steps, 23).max() <= 8  # smooth within each shot


@pytest.mark.skipif(
    face_cascade() is None, reason="this OpenCV ships no face cascade (opencv-python-headless 5): pin it below 5"
)
def test_subject_face_follows_the_face_rather_than_a_brighter_patch(tmp_path):
    scene = Scene(subject="face", side=60, speed=(4, 2), decoy=True)
    s, cid = scene_session(tmp_path, scene, frames=36)
    s.reframe(cid, aspect="9:16", subject="face", progress=False)
    assert list(s.clip(cid).otio.metadata["nbedit"]["reframe"]["found_by"]) == ["face"]
    assert tracking_error(s, scene, 36).mean() < 5


def test_reframing_the_timeline_changes_its_format_and_fills_the_frame(tmp_path):
    scene = Scene(speed=(6, 2))
    s, cid = scene_session(tmp_path, scene, frames=24)
    s.reframe(aspect="9:16", progress=False)
    assert (s.format["width"], s.format["height"]) == (134, 240)
    left, top, w, h = crops(s, range(10, 11))[0].astype(int)
    assert (w, h) == (134, 240)
    assert np.array_equal(s.frame(10 / 24), scene.frame(10)[top : top + h, left : left + w])


def test_picture_in_picture_clips_keep_their_placement_when_the_timeline_is_reframed(tmp_path):
    s, cid = scene_session(tmp_path, Scene(), frames=12)
    inset = s.append("square", track="V2")
    s.transform(inset, x=20, y=20, scale=0.3)
    s.reframe(aspect="1:1", progress=False)
    assert "reframe" in s.clip(cid).otio.metadata["nbedit"]
    assert "reframe" not in inset.otio.metadata["nbedit"]


def test_the_render_shows_the_reframed_picture(tmp_path):
    import av

    scene = Scene(speed=(6, 2))
    s, cid = scene_session(tmp_path, scene, frames=12)
    s.reframe(aspect="9:16", progress=False)
    expected = s.frame(7 / 24)
    out = s.render(tmp_path / "v.mp4", crf=0, progress=False)
    with av.open(str(out)) as c:
        got = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)][7]
    assert got.shape == expected.shape and np.abs(got.astype(int) - expected).mean() < 2


def test_a_key_moves_the_crop_where_it_is_set(tmp_path):
    s, cid = scene_session(tmp_path, Scene(jitter=2, start=(140, 90)), frames=24)
    s.reframe(cid, aspect="1:1", progress=False)
    s.keyframe(cid, "reframe", at=0.5, value=(60.0, 120.0), ease="hold")
    c = crops(s, range(24))
    assert c[12, 0] == 0 and c[22, 0] == 0  # centre 60 with a 240-wide crop: as far left as it goes, held
    assert c[0, 0] == 40 and c[23, 0] == 40  # the reframe's own keys before and after


def test_reframe_is_recorded_and_a_reopened_project_has_the_same_crops(tmp_path):
    scene = Scene(speed=(6, 2))
    s, cid = scene_session(tmp_path, scene, frames=24)
    s.reframe(cid, aspect="4:5", subject="saliency", progress=False)
    assert s.history[-1].code == "s.reframe(clip='c1', aspect='4:5', subject='saliency', progress=False)"
    again = nbedit.Session(s.path)
    assert again.state() == s.state()
    assert np.array_equal(crops(again, range(24)), crops(s, range(24)))


@pytest.mark.parametrize(
    "kwargs",
    [{"aspect": "9-16"}, {"aspect": "0:16"}, {"aspect": -1.0}, {"subject": "dog"}],
    ids=["aspect-not-a-ratio", "aspect-zero", "aspect-negative", "unknown-subject"],
)
def test_bad_parameters_raise_and_change_nothing(tmp_path, kwargs):
    s, cid = scene_session(tmp_path, Scene(), frames=4)
    before = unchanged(s)
    with pytest.raises(EditError):
        s.reframe(cid, progress=False, **kwargs)
    assert unchanged(s) == before


def hot_red_model(folder: Path) -> None:
    """A tiny subject model: heat = red minus the mean of green and blue (the square is orange, the rest is not)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    folder.mkdir(parents=True)
    weight = numpy_helper.from_array(np.asarray([1.0, -0.5, -0.5], np.float32).reshape(1, 3, 1, 1), "w")
    graph = helper.make_graph(
        [helper.make_node("Conv", ["image", "w"], ["heat"])],
        "red",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, "h", "w"])],
        [helper.make_tensor_value_info("heat", TensorProto.FLOAT, [1, 1, "h", "w"])],
        initializer=[weight],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(folder / "model.onnx"))


def test_a_named_subject_model_folder_finds_the_subject(tmp_path):
    scene = Scene(speed=(6, 2))
    s, cid = scene_session(tmp_path, scene, frames=24)
    hot_red_model(s.path / "models" / "red")
    s.models.refresh()
    s.reframe(cid, aspect="9:16", model="red", progress=False)
    assert list(s.clip(cid).otio.metadata["nbedit"]["reframe"]["found_by"]) == ["model"]
    assert tracking_error(s, scene, 24).mean() < 3


KEYS = textwrap.dedent(
    """
    import json, sys
    import nbedit
    from nbedit.tools.synthetic import Scene
    folder = sys.argv[1]
    path = Scene(speed=(6, 2), cut_at=12).write(folder + "/square.avi", frames=24)
    s = nbedit.Session(folder + "/project")
    s.import_media(path)
    s.append("square")
    s.reframe(aspect="9:16", progress=False)
    keys = s.timeline.find_clips()[0].metadata["nbedit"]["reframe"]["center"]["keys"]
    print(json.dumps([[k[0], list(k[1]), *k[2:]] for k in keys]))
    """
)


@pytest.mark.slow
def test_two_processes_find_the_same_camera_path(tmp_path):
    outs = []
    for k in range(2):
        (tmp_path / f"run{k}").mkdir()
        done = subprocess.run([sys.executable, "-c", KEYS, str(tmp_path / f"run{k}")], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        outs.append(json.loads(done.stdout))
    assert outs[0] == outs[1] and len(outs[0]) >= 2
