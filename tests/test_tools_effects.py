"""The compositing graph: effect stacks, blend modes, opacity and keyed parameters, the same in frames and renders."""

from __future__ import annotations

import av
import numpy as np
import pytest

import nbedit
from nbedit.errors import ClipNotFoundError, EditError
from nbedit.render import Compositor, Sources
from nbedit.tools.video import write_lossless


def unchanged(s: nbedit.Session):
    return s.state(), [r.code for r in s.history], sorted(s.media)


@pytest.fixture
def two(ab):
    """a on V1 and b on V2 over the same second: b covers a."""
    ab.append("a", track="V1", src_in=0, src_out=1)
    ab.append("b", track="V2", src_in=0, src_out=1)
    return ab


def alone(s: nbedit.Session, clip: str, t: float) -> np.ndarray:
    """The frame with only ``clip``'s track showing (the other track's clip made invisible)."""
    other = "c1" if clip == "c2" else "c2"
    s.opacity(other, 0.0)
    img = s.frame(t).astype(np.float64)
    s.undo()
    return img


def half_mask(tmp_path, footage_size=(320, 240)) -> str:
    """A still-white left half: a mask media file of its own, 1 s at 24 fps."""
    w, h = footage_size
    m = np.zeros((h, w), np.uint8)
    m[:, : w // 2] = 255
    return str(write_lossless(tmp_path / "half.avi", [m] * 24, 24, gray=True))


def test_an_effect_is_recorded_as_one_line_with_its_arguments(two):
    two.effect("c2", "blur", radius=[(0.0, 0), (0.5, 8)])
    assert two.history[-1].code == "s.effect('c2', 'blur', radius=((0.0, 0), (0.5, 8)))"
    assert two.effects("c2") == [{"id": "e1", "kind": "blur", "params": {"radius": {"keys": [[0, 0.0], [12, 8.0]]}}}]


def test_a_key_of_zero_blur_leaves_the_frame_as_it_was_and_later_keys_blur_it(two):
    plain0, plain12 = two.frame(0), two.frame(0.5)
    two.effect("c2", "blur", radius=[(0.0, 0), (0.5, 8)])
    assert np.array_equal(two.frame(0), plain0)
    assert np.abs(two.frame(0.5).astype(int) - plain12).mean() > 3


def test_render_shows_the_effects_that_frame_shows(two, tmp_path):
    two.effect("c2", "color", saturation=0.0, brightness=0.2)
    two.effect("c2", "blur", radius=6)
    expected = [two.frame(k / 24) for k in (3, 17)]
    out = two.render(tmp_path / "fx.mp4", crf=0, progress=False)
    with av.open(str(out)) as c:
        got = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    for k, img in zip((3, 17), expected, strict=True):
        assert np.abs(got[k].astype(int) - img).mean() < 2  # yuv420p rounding only
    assert np.abs(got[3].astype(int) - got[3].mean(axis=2, keepdims=True)).max() <= 6  # grey: saturation 0


@pytest.mark.parametrize(
    "mode, formula",
    [
        ("normal", lambda a, b: b),
        ("add", lambda a, b: np.minimum(a + b, 255)),
        ("multiply", lambda a, b: a * b / 255),
        ("screen", lambda a, b: 255 - (255 - a) * (255 - b) / 255),
    ],
)
def test_track_blend_modes_follow_their_formulas(two, mode, formula):
    a, b = alone(two, "c1", 0.5), alone(two, "c2", 0.5)
    two.blend("V2", mode)
    assert np.abs(two.frame(0.5) - formula(a, b)).max() <= 1


def test_track_opacity_is_keyed_by_timeline_time(two):
    a, b = alone(two, "c1", 0.5), alone(two, "c2", 0.5)
    two.blend("V2", "normal", opacity=[(0.0, 1.0), (1.0, 0.0)])
    w = 1 - 12 / 24
    assert np.abs(two.frame(0.5) - (a + (b - a) * w)).max() <= 1


def test_a_clips_own_blend_node_wins_over_its_tracks_mode(two):
    a, b = alone(two, "c1", 0.5), alone(two, "c2", 0.5)
    two.blend("V2", "screen")
    two.blend("c2", "multiply")
    assert np.abs(two.frame(0.5) - a * b / 255).max() <= 1


def test_an_effect_limited_by_a_mask_changes_only_the_inside(two, tmp_path):
    mask = two.import_media(half_mask(tmp_path))
    before = two.frame(0.5).astype(int)
    two.effect("c2", "color", brightness=-1.0, mask=mask)
    after = two.frame(0.5).astype(int)
    assert after[:, :150].max() == 0  # black inside the mask
    assert np.array_equal(after[:, 170:], before[:, 170:])  # untouched outside


def test_inverting_the_mask_changes_the_outside_instead(two, tmp_path):
    mask = two.import_media(half_mask(tmp_path))
    two.effect("c2", "color", brightness=-1.0, mask=mask, invert=True)
    after = two.frame(0.5)
    assert after[:, 170:].max() == 0 and after[:, :150].max() > 0


def test_a_mask_effect_shows_the_track_below_outside_the_mask(two, tmp_path):
    a, b = alone(two, "c1", 0.5), alone(two, "c2", 0.5)
    two.effect("c2", "mask", mask=two.import_media(half_mask(tmp_path)))
    img = two.frame(0.5)
    assert np.abs(img[:, :150] - b[:, :150]).max() <= 1 and np.abs(img[:, 170:] - a[:, 170:]).max() <= 1


def test_a_chroma_key_lets_the_track_below_show_through_the_key_colour(two):
    a, b = alone(two, "c1", 0.5), alone(two, "c2", 0.5)
    colour = tuple(int(v) for v in b[120, 10])
    two.effect("c2", "key", color=colour, tolerance=12, softness=1)
    img = two.frame(0.5)
    near = np.linalg.norm(b - np.asarray(colour), axis=2) < 6
    assert near.sum() > 100 and np.abs(img[near] - a[near]).max() <= 1


def test_a_crop_effect_makes_the_edges_transparent(two):
    a, b = alone(two, "c1", 0.5), alone(two, "c2", 0.5)
    two.effect("c2", "crop", left=100, right=100)
    img = two.frame(0.5)
    assert np.abs(img[:, :90] - a[:, :90]).max() <= 1
    assert np.abs(img[:, 110:210] - b[:, 110:210]).max() <= 1


def test_a_transform_effect_moves_the_picture_inside_its_frame(two):
    b = alone(two, "c2", 0.5)
    two.opacity("c1", 0.0)
    two.effect("c2", "transform", x=40)
    img = two.frame(0.5).astype(int)
    assert np.abs(img[:, 60:300] - b[:, 20:260]).max() <= 1 and img[:, :38].max() == 0


def test_keys_stay_on_their_picture_when_the_clip_is_trimmed(two):
    two.effect("c2", "blur", radius=[(0.5, 0), (0.75, 10)])  # source frames 12 and 18 of b
    two.trim("c2", src_in=0.25, ripple=False)  # the clip now starts 6 frames later on the timeline
    comp = Compositor(two.timeline, Sources())
    radius = dict(comp.plan(12)[-1].effects[0].params)["radius"]
    assert radius == 0.0  # timeline frame 12 still shows source frame 12, where the radius is 0


def test_the_preview_key_changes_exactly_where_a_parameter_does(two):
    two.effect("c2", "blur", radius=[(0.5, 0), (0.75, 10)])
    comp = Compositor(two.timeline, Sources())
    assert comp.key(2) != comp.key(3)  # different source frames, same radius
    assert [dict(comp.plan(n)[-1].effects[0].params)["radius"] for n in (0, 12, 15, 18, 23)] == [0, 0, 5, 10, 10]
    assert comp.untouched(5) is None  # a frame with an effect is not passed through as decoded


def test_keyframe_sets_one_key_and_replaces_one_at_the_same_time(two):
    two.effect("c2", "blur", radius=2)
    two.keyframe("c2", "blur.radius", at=0.5, value=6)
    two.keyframe("c2", "e1.radius", at=0.5, value=9, ease="hold")
    assert two.effects("c2")[0]["params"]["radius"] == {"keys": [[12, 9.0, "hold"]]}
    assert two.history[-1].code == "s.keyframe('c2', 'e1.radius', 0.5, 9, ease='hold')"


def test_effect_by_node_id_changes_that_node(two):
    two.effect("c2", "blur", radius=2)
    two.effect("c2", "e1", radius=7)
    assert two.effects("c2") == [{"id": "e1", "kind": "blur", "params": {"radius": 7.0}}]


def test_remove_effect_takes_the_node_out(two):
    plain = two.frame(0.5)
    two.effect("c2", "blur", radius=5)
    two.remove_effect("c2", "blur")
    assert two.effects("c2") == [] and np.array_equal(two.frame(0.5), plain)


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda s: s.blend("V2", "overlay"), EditError),
        (lambda s: s.effect("c2", "glow"), EditError),
        (lambda s: s.effect("c2", "blur", saturation=2.0), EditError),
        (lambda s: s.effect("c2", "blur", radius=-3), EditError),
        (lambda s: s.effect("c2", "color", saturation=[(0.0, 1.0), (1.0, "x")]), EditError),
        (lambda s: s.effect("c2", "mask"), EditError),
        (lambda s: s.effect("c2", "blur", radius=2, feather=3), EditError),
        (lambda s: s.effect("c2", "key", color=(0, 300, 0)), EditError),
        (lambda s: s.keyframe("c2", "e9.radius", at=0.2, value=1), ClipNotFoundError),
        (lambda s: s.keyframe("c2", "reframe", at=0.2, value=(1, 2)), EditError),
        (lambda s: s.keyframe("V2", "mode", at=0.2, value=1), EditError),
        (lambda s: s.composite("c2", blend="dodge"), EditError),
    ],
    ids=[
        "unknown-blend-mode",
        "unknown-effect",
        "parameter-of-another-kind",
        "negative-radius",
        "key-value-not-a-number",
        "mask-effect-without-mask",
        "feather-without-mask",
        "colour-out-of-range",
        "key-of-missing-node",
        "reframe-key-on-clip-not-reframed",
        "track-key-other-than-opacity",
        "composite-unknown-blend",
    ],
)
def test_bad_parameters_raise_and_change_nothing(two, call, error):
    before = unchanged(two)
    with pytest.raises(error):
        call(two)
    assert unchanged(two) == before


def test_undo_takes_an_effect_back(two):
    plain = two.frame(0.5)
    two.effect("c2", "blur", radius=5)
    two.undo()
    assert two.effects("c2") == [] and np.array_equal(two.frame(0.5), plain)


def test_a_reopened_project_shows_the_same_composited_frames(two, tmp_path):
    mask = two.import_media(half_mask(tmp_path))
    two.effect("c2", "blur", radius=[(0.0, 0), (0.9, 9)], mask=mask, feather=4)
    two.blend("V2", "screen", opacity=[(0.0, 1.0), (1.0, 0.5)])
    frames = [two.frame(k / 24) for k in (0, 11, 22)]
    again = nbedit.Session(two.path)
    assert again.state() == two.state()
    assert all(np.array_equal(again.frame(k / 24), f) for k, f in zip((0, 11, 22), frames, strict=True))
