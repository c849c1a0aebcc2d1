"""AI masking and compositing: masks measured against the square's true box, composites laid as asked."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from test_tools_footage import scene_session

import nbedit
from nbedit.errors import EditError, TimeRangeError
from nbedit.media import VideoReader
from nbedit.tools.synthetic import Scene, iou

SCENE = Scene(speed=(6, 2))
BOX = (32, 52, 96, 116)  # the square at frame 0 is (40, 60, 88, 108): a loose box around it


def mask_frames(media: nbedit.Media) -> list[np.ndarray]:
    with VideoReader(media.path) as r:
        return [r.frame(i)[..., 0] for i in range(len(r))]


def unchanged(s: nbedit.Session):
    return s.state(), [r.code for r in s.history], sorted(s.media)


@pytest.fixture(scope="module")
def boxed(tmp_path_factory):
    s, cid = scene_session(tmp_path_factory.mktemp("mask"), SCENE, frames=24)
    return s, s.mask(cid, box=BOX, progress=False)


def test_a_box_mask_covers_the_moving_square_through_the_clip(boxed):
    _, m = boxed
    ious = [iou(f, SCENE.box(k)) for k, f in enumerate(mask_frames(m))]
    assert len(ious) == 24 and np.mean(ious) > 0.95 and min(ious) > 0.9  # measured: 1.000 and 1.000


def test_points_pick_out_the_object_under_them_on_the_frame_given(tmp_path):
    s, cid = scene_session(tmp_path, SCENE, frames=24)
    cx, cy = SCENE.centre(12)
    m = s.mask(cid, points=[(cx, cy)], at=0.5, progress=False)
    ious = [iou(f, SCENE.box(k)) for k, f in enumerate(mask_frames(m))]
    assert np.mean(ious) > 0.9
    assert s.timeline.metadata["nbedit"]["media"][m.id]["generation"]["at"] == 12


def test_the_mask_is_lossless_grey_media_linked_to_its_clip(boxed):
    s, m = boxed
    assert m.info.pix_fmt == "gray" and m.info.frame_count == 24 and m.path.endswith(".avi")
    gen = s.timeline.metadata["nbedit"]["media"][m.id]["generation"]
    assert (gen["tool"], gen["method"], list(gen["box"]), gen["start"]) == ("mask", "grabcut+flow", list(BOX), 0.0)
    assert list(s.clip("c1").otio.metadata["nbedit"]["masks"]) == [m.id]
    assert s.history[-1].code == f"s.mask('c1', box={BOX!r}, progress=False)"


def test_invert_keeps_everything_but_the_object(tmp_path):
    s, cid = scene_session(tmp_path, SCENE, frames=4)
    m = s.mask(cid, box=BOX, invert=True, progress=False)
    first = mask_frames(m)[0]
    x0, y0, x1, y1 = SCENE.box(0)
    assert first[y0:y1, x0:x1].max() == 0 and first[:, 200:].min() == 255


@pytest.fixture
def layered(tmp_path):
    """The square (c1) then generated colour bars (c2) on V1, and a mask of the square."""
    s, cid = scene_session(tmp_path, SCENE, frames=12)
    s.import_media(nbedit.media.testsrc(tmp_path / "bars.mp4", seconds=1, audio=False))
    s.append("bars", track="V1")
    return s, s.mask(cid, box=BOX, progress=False)


def test_composite_lays_the_masked_clip_over_the_background(layered):
    s, m = layered
    s.composite("c1", background="c2", mask=m)
    assert (s.clip("c1").track, s.clip("c1").start, s.clip("c2").track, s.clip("c2").start) == ("V2", 0, "V1", 0)
    img = s.frame(5 / 24)
    x0, y0, x1, y1 = SCENE.box(5)
    inside = (slice(y0 + 2, y1 - 2), slice(x0 + 2, x1 - 2))
    assert np.abs(img[inside].astype(int) - SCENE.frame(5)[inside]).max() <= 1
    s.delete("c1")
    bars = s.frame(5 / 24)
    s.undo()
    outside = np.ones(img.shape[:2], bool)
    outside[y0 - 2 : y1 + 2, x0 - 2 : x1 + 2] = False
    assert np.abs(img[outside].astype(int) - bars[outside]).max() <= 1


def test_composite_leaves_a_background_that_is_already_below_where_it_is(layered):
    s, m = layered
    s.move("c2", to=0.0, track="V2")
    s.move("c1", to=0.0, track="V3")
    s.composite("c1", background="c2", mask=m, blend="screen", feather=4)
    assert (s.clip("c1").track, s.clip("c2").track) == ("V3", "V2")
    kinds = [(n["kind"], n.get("feather"), n["params"].get("mode")) for n in s.effects("c1")]
    assert kinds == [("mask", 4.0, None), ("blend", None, "screen")]


def test_an_effect_limited_by_the_mask_changes_the_object_only(layered):
    s, m = layered
    before = s.frame(3 / 24).astype(int)
    s.effect("c1", "color", brightness=-1.0, mask=m)
    after = s.frame(3 / 24).astype(int)
    x0, y0, x1, y1 = SCENE.box(3)
    assert after[y0 + 2 : y1 - 2, x0 + 2 : x1 - 2].max() == 0
    assert np.array_equal(after[:, 200:], before[:, 200:])


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"box": (50, 50, 50, 90)}, EditError),
        ({"box": (50, 50, 400, 90)}, EditError),
        ({"box": (50, 50, 90)}, EditError),
        ({"points": [(330, 20)]}, EditError),
        ({"points": []}, EditError),
        ({}, EditError),
        ({"box": BOX, "points": [(60, 80)]}, EditError),
        ({"box": BOX, "at": 5.0}, TimeRangeError),
        ({"box": BOX, "invert": "yes"}, EditError),
    ],
    ids=[
        "zero-size-box",
        "box-outside-the-frame",
        "box-of-three-numbers",
        "point-outside-the-frame",
        "no-points",
        "neither-box-nor-points",
        "both",
        "at-outside-the-clip",
        "invert-not-a-bool",
    ],
)
def test_bad_parameters_raise_and_change_nothing(tmp_path, kwargs, error):
    s, cid = scene_session(tmp_path, SCENE, frames=4)
    before = unchanged(s)
    with pytest.raises(error):
        s.mask(cid, progress=False, **kwargs)
    assert unchanged(s) == before and not (s.path / "tools").exists()


def test_composite_with_audio_media_as_a_mask_is_refused(tmp_path, footage):
    s, cid = scene_session(tmp_path, SCENE, frames=4)
    tone = s.import_media(footage["tone"])
    before = unchanged(s)
    with pytest.raises(EditError, match="cannot be a mask"):
        s.composite(cid, mask=tone)
    assert unchanged(s) == before


def test_reopening_takes_the_mask_from_the_journal(tmp_path):
    s, cid = scene_session(tmp_path, SCENE, frames=4)
    m = s.mask(cid, box=BOX, progress=False)
    Path(m.path).unlink()
    again = nbedit.Session(s.path)
    assert again.state() == s.state() and not again.media[m.id].online


def red_segmenter(folder: Path) -> None:
    """A tiny "segmentation model": the object is wherever red stands out (it reads the box input and ignores it)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    folder.mkdir(parents=True)
    weight = numpy_helper.from_array(np.asarray([8.0, -4.0, -4.0], np.float32).reshape(1, 3, 1, 1), "w")
    bias = numpy_helper.from_array(np.asarray([-1.0], np.float32), "b")
    graph = helper.make_graph(
        [
            helper.make_node("Conv", ["image", "w", "b"], ["logit"]),
            helper.make_node("ReduceSum", ["box"], ["unused"], keepdims=0),
            helper.make_node("Sigmoid", ["logit"], ["prob"]),
        ],
        "red",
        [
            helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, "h", "w"]),
            helper.make_tensor_value_info("box", TensorProto.FLOAT, [1, 4]),
        ],
        [helper.make_tensor_value_info("prob", TensorProto.FLOAT, [1, 1, "h", "w"])],
        initializer=[weight, bias],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(folder / "model.onnx"))


def test_a_named_segmentation_model_folder_makes_the_mask(tmp_path):
    s, cid = scene_session(tmp_path, SCENE, frames=8)
    red_segmenter(s.path / "models" / "red-seg")
    s.models.refresh()
    m = s.mask(cid, box=BOX, model="red-seg", progress=False)
    assert np.mean([iou(f, SCENE.box(k)) for k, f in enumerate(mask_frames(m))]) > 0.9
    assert s.timeline.metadata["nbedit"]["media"][m.id]["generation"]["method"]["model"] == "red-seg"


def test_a_segmentation_model_needs_a_box(tmp_path):
    s, cid = scene_session(tmp_path, SCENE, frames=4)
    red_segmenter(s.path / "models" / "red-seg")
    s.models.refresh()
    with pytest.raises(EditError, match="box"):
        s.mask(cid, points=[(60, 80)], model="red-seg", progress=False)


MASK = textwrap.dedent(
    """
    import sys
    import nbedit
    from nbedit.tools.synthetic import Scene
    folder = sys.argv[1]
    path = Scene(speed=(10, 4), side=64).write(folder + "/square.avi", frames=12)
    s = nbedit.Session(folder + "/project")
    s.import_media(path)
    s.append("square")
    print(s.mask("c1", points=[(70, 90)], at=0.25, progress=False).info.sha256)
    """
)


@pytest.mark.slow
def test_two_processes_make_the_same_mask(tmp_path):
    outs = []
    for k in range(2):
        (tmp_path / f"run{k}").mkdir()
        done = subprocess.run([sys.executable, "-c", MASK, str(tmp_path / f"run{k}")], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        outs.append(done.stdout.strip())
    assert outs[0] == outs[1] and len(outs[0]) == 64


@pytest.mark.slow
def test_a_recipe_of_every_tool_rebuilds_the_same_frames(tmp_path):
    import hashlib

    s, cid = scene_session(tmp_path, SCENE, frames=12)
    s.import_media(nbedit.media.testsrc(tmp_path / "bars.mp4", seconds=1, audio=False))
    s.append("bars", track="V1")
    slow = s.interpolate(cid, factor=2, progress=False)
    s.speed(s.append(slow, track="V1"), 0.5)
    m = s.mask(cid, box=BOX, progress=False)
    s.composite(cid, background="c2", mask=m, feather=2)
    s.effect("c2", "blur", radius=[(0.0, 0), (0.4, 6)])
    s.blend("V2", "screen", opacity=0.9)
    s.reframe(aspect="9:16", progress=False)

    def frames_sha(session: nbedit.Session) -> str:
        n = round(session.duration * 24)
        return hashlib.sha256(b"".join(session.frame(k / 24).tobytes() for k in range(n))).hexdigest()

    (tmp_path / "recipe.py").write_text(s.recipe())
    done = subprocess.run([sys.executable, "recipe.py"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    again = nbedit.Session(tmp_path / f"{s.name}.recipe")
    assert frames_sha(again) == frames_sha(s)
