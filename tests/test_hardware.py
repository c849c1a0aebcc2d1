"""Hardware paths: what this machine has, what a render chooses from it, and the torch compositing backend
against the numpy one (on torch's CPU device here, on CUDA where there is one)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

import nbedit
from nbedit import machine, media
from nbedit.composite_torch import TorchBackend
from nbedit.render import NUMPY, Compositor, Layer, RenderSettings, Sources, engines, nvenc_options, render, yuv_planes

NVENC = machine.nvenc("h264_nvenc").present
NVDEC = machine.nvdec().present
CUDA = machine.cuda_torch().present


@pytest.fixture
def edit(ab, tmp_path):
    """A dissolve, an inset shrunk at 80% opacity, and a smaller source enlarged into an inset."""
    s = ab
    s.import_media(media.testsrc(tmp_path / "c.mp4", seconds=2, fps=24, size=(160, 120), variant=2, audio=False))
    c1 = s.append("a", track="V1", src_in=0.0, src_out=3.0)
    c2 = s.append("b", track="V1", src_in=0.5, src_out=3.0)
    s.crossfade(c1, c2, duration=1.0)
    shrunk = s.overwrite("a", track="V2", at=0.5, src_in=1.0, src_out=2.0)
    s.transform(shrunk, x=80, y=-61, scale=0.45)  # an odd offset: chroma lands half a pixel off, as an overlay
    s.opacity(shrunk, 0.8)
    enlarged = s.overwrite("c", track="V2", at=3.0, src_in=0.0, src_out=1.5)
    s.transform(enlarged, x=-50, y=30, scale=0.7)  # 160x120 fitted to 320x240, then 0.7: 224x168
    return s


def settings(s, **kw) -> RenderSettings:
    return RenderSettings(320, 240, Fraction(24), 0, s.end_frame(), preset="ultrafast", audio=False, **kw)


def planes(frame: av.VideoFrame) -> np.ndarray:
    return np.concatenate([p.ravel() for p in yuv_planes(frame)]).astype(np.int16)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


def pictures(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


# ---- what the machine has ---------------------------------------------------------------------------------


def test_probes_never_raise_are_cached_and_say_why_not():
    for name in ("h264_nvenc", "hevc_nvenc", "no_such_encoder"):
        found = machine.nvenc(name)
        assert machine.nvenc(name) is found  # asked once per process
        assert found.present or name in found.reason
    assert not machine.nvenc("no_such_encoder").present
    report = nbedit.hardware()
    assert set(report) == {"h264_nvenc", "hevc_nvenc", "nvdec", "cuda_torch"}
    for name, said in report.items():
        assert said == "present" or (said.startswith("absent: ") and len(said) > len("absent: ")), (name, said)
    assert (report["cuda_torch"] == "present") == CUDA


@pytest.mark.skipif(machine.driver() is not None, reason="this machine has an NVIDIA driver")
def test_without_a_driver_choosing_does_not_import_torch():
    # importing torch takes seconds: a render on a machine that cannot have CUDA must not pay for the question
    code = (
        "import sys; from fractions import Fraction; from nbedit.render import RenderSettings, engines; "
        "engines(RenderSettings(64, 64, Fraction(24), 0, 1)); print('torch' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


# ---- what a render chooses --------------------------------------------------------------------------------


def test_the_cpu_choice_is_the_encoder_as_it_always_was(edit):
    run = engines(settings(edit, hardware="cpu", threads=2))
    assert (run.codec, run.backend, run.hwaccel, run.hardware) == ("libx264", NUMPY, None, False)
    assert run.options == {"crf": "18", "preset": "ultrafast", "x264-params": "mbtree=0", "threads": "2"}
    # a segment of a distributed render stays on the CPU: segments joined into one file share parameter sets
    assert engines(settings(edit, frames=(0, 48))).codec == "libx264"


def test_nvenc_settings_are_constant_quality_without_b_frames():
    opts = nvenc_options(RenderSettings(64, 64, Fraction(24), 0, 1, crf=0))
    assert opts == {"preset": "p5", "tune": "hq", "rc": "vbr", "cq": "1", "bf": "0"}  # cq 0 is "encoder's choice"
    assert nvenc_options(RenderSettings(64, 64, Fraction(24), 0, 1, crf=23))["cq"] == "23"


def test_auto_renders_what_cpu_renders(edit, tmp_path):
    auto = render(edit.timeline, tmp_path / "auto.mp4", settings(edit), progress=False)
    cpu = render(edit.timeline, tmp_path / "cpu.mp4", settings(edit, hardware="cpu"), progress=False)
    if not engines(settings(edit)).hardware:  # nothing here: the very bytes of a CPU render
        assert hashlib.sha256(auto.read_bytes()).digest() == hashlib.sha256(cpu.read_bytes()).digest()
    else:  # NVENC and torch compositing: the same frames within the encoders' loss
        a, c = pictures(auto), pictures(cpu)
        assert len(a) == len(c) == edit.end_frame()
        assert min(psnr(x, y) for x, y in zip(a, c, strict=True)) > 35


@pytest.mark.skipif(NVENC and CUDA, reason="this machine has NVENC and CUDA torch")
def test_asking_for_cuda_where_there_is_none_makes_no_file(edit, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(nbedit.RenderError, match="hardware='cuda' needs .*absent: .*hardware='cpu'"):
        render(edit.timeline, out / "x.mp4", settings(edit, hardware="cuda"), progress=False)
    assert list(out.iterdir()) == []


@pytest.mark.skipif(NVENC and CUDA, reason="this machine has NVENC and CUDA torch")
def test_session_render_asked_for_cuda_where_there_is_none_says_so_and_makes_no_file(edit, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    for hardware, says in [("cuda", "hardware='cuda' needs"), ("gpu", "hardware must be one of")]:
        with pytest.raises(nbedit.RenderError, match=says):
            edit.render(out / "x.mp4", hardware=hardware, progress=False)
    assert list(out.iterdir()) == []


def test_a_render_asked_for_the_cpu_records_it_in_the_recipe_it_carries(edit, tmp_path):
    from nbedit.recipes import recipe_of_render

    edit.render(tmp_path / "cpu.mp4", hardware="cpu", preset="ultrafast", progress=False)
    cell = recipe_of_render(tmp_path / "cpu.mp4").read_text()
    assert "hardware='cpu'" in cell


def test_unknown_words_and_codecs_without_nvenc_are_refused(edit, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    for kw, says in [
        ({"hardware": "gpu"}, "hardware must be one of auto, cpu, cuda, not 'gpu'"),
        ({"decode": "nvdec"}, "decode must be 'cpu' or 'cuda', not 'nvdec'"),
        ({"hardware": "cuda", "codec": "mpeg4"}, "NVENC for mpeg4"),
    ]:
        with pytest.raises(nbedit.RenderError, match=says):
            render(edit.timeline, out / "x.mp4", settings(edit, **kw), progress=False)
    assert list(out.iterdir()) == []


@pytest.mark.skipif(NVDEC, reason="this machine has NVDEC")
def test_nvdec_where_there_is_none_is_a_clear_error(edit, footage, tmp_path):
    with pytest.raises(nbedit.RenderError, match="decode='cuda' needs NVDEC, which is absent"):
        render(edit.timeline, tmp_path / "x.mp4", settings(edit, decode="cuda"), progress=False)
    assert not (tmp_path / "x.mp4").exists()
    with pytest.raises(nbedit.MediaError, match="cannot open media file"):
        media.VideoReader(footage["a"], hwaccel="cuda")


@pytest.mark.skipif(not NVDEC, reason="no NVDEC here")
def test_nvdec_gives_the_software_decoders_pictures(footage):
    with media.VideoReader(footage["a"]) as sw, media.VideoReader(footage["a"], hwaccel="cuda") as hw:
        for i in (0, 1, 50, 13, len(sw) - 1):  # forward, then a seek back
            assert np.array_equal(sw.frame(i), hw.frame(i)), i


# ---- compositing in torch ---------------------------------------------------------------------------------


def compare(edit, backend) -> dict[str, tuple[int, float, int]]:
    """Worst (max abs difference, PSNR) and frame count of ``backend`` against numpy's, by kind of frame."""
    comp = Compositor(edit.timeline, Sources(pool=3))
    worst: dict[str, tuple[int, float, int]] = {}
    for n in range(edit.end_frame()):
        plan = comp.plan(n)
        ours, theirs = comp.yuv_frame(n, plan), comp.yuv_frame(n, plan, backend)
        assert (ours is None) == (theirs is None)
        if ours is None:
            continue
        scales = {ly.transform[2] for ly in plan if isinstance(ly, Layer)}
        kind = "enlarged" if 0.7 in scales else "shrunk" if 0.45 in scales else "mix or plain"
        a, b = planes(ours), planes(theirs)
        diff, q, count = worst.get(kind, (0, float("inf"), 0))
        worst[kind] = (max(diff, int(np.abs(a - b).max())), min(q, psnr(a, b)), count + 1)
    comp.sources.close()
    return worst


def test_torch_compositing_gives_numpys_frames_within_the_stated_tolerance(edit):
    worst = compare(edit, TorchBackend("cpu"))
    assert {k: v[2] for k, v in worst.items()} == {"mix or plain": 72, "shrunk": 24, "enlarged": 36}
    # dissolves and opacity: the same float32 sums, rounded alike
    assert worst["mix or plain"][0] <= 1
    # a resized inset: torch's bicubic against libswscale's (measured: 52 dB shrunk, 55 dB enlarged)
    for kind in ("shrunk", "enlarged"):
        assert worst[kind][1] > 45, (kind, worst[kind])
        assert worst[kind][0] <= 32, (kind, worst[kind])


@pytest.mark.skipif(not CUDA, reason="no CUDA torch here")
def test_torch_compositing_on_cuda_gives_its_cpu_frames(edit):
    cuda, cpu = compare(edit, TorchBackend("cuda")), compare(edit, TorchBackend("cpu"))
    assert set(cuda) == set(cpu)
    for kind in cuda:
        assert cuda[kind][1] > 45 and abs(cuda[kind][0] - cpu[kind][0]) <= 2, (kind, cuda[kind], cpu[kind])


@pytest.mark.skipif(not NVENC, reason="no NVENC here")
def test_nvenc_renders_every_frame_in_order(edit, tmp_path):
    path = render(edit.timeline, tmp_path / "nv.mp4", settings(edit, hardware="cuda" if CUDA else "auto"))
    with av.open(str(path)) as c:
        assert c.streams.video[0].codec_context.name == "h264"
        packets = [p for p in c.demux(video=0) if p.size]
    assert len(packets) == edit.end_frame()
    assert [p.pts for p in packets] == sorted(p.pts for p in packets)  # no B-frames: coded in display order
