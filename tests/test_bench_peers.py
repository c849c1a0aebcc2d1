"""The peer benchmark (``python -m bench``): it runs, writes its figures, and its contenders make the same edit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.peers import agree, cli, edit, ffmpeg_side, nbedit_side

SIZE = (320, 180)


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("bench")


@pytest.fixture(scope="module")
def sources(work) -> list[str]:
    return edit.make_sources(work / "sources", 2, SIZE)  # where --work finds them, so the quick run makes none


@pytest.mark.slow
def test_quick_mode_of_nbedit_and_raw_pyav_writes_the_figures_and_the_outputs_agree(work, sources, tmp_path):
    out = tmp_path / "peers.json"
    only = ["nbedit", "pyav-floor", "pyav-numpy"]
    cli.main(["--quick", "--only", *only, "--no-curves", "--no-cuts-only", "--json", str(out), "--work", str(work)])
    data = json.loads(out.read_text())
    assert data["mode"] == "quick" and data["settings"]["seconds"] == 2
    assert {"load_before", "load_after", "machine", "date"} <= set(data)
    assert data["machine"]["cores"] >= 1 and data["machine"]["versions"]["av"]
    rows = data["edit"]["rows"]
    assert set(rows) == set(only)
    for name in only:
        row = rows[name]
        assert row["status"] == "ok", row
        assert row["wall_s"] > 0 and row["fps"] == pytest.approx(data["edit"]["frames"] / row["wall_s"])
        assert row["peak_rss_bytes"] > 20 * 2**20  # a Python process with PyAV loaded, at the least
    for name in ("pyav-floor", "pyav-numpy"):
        a = rows[name]["agreement"]
        assert a["agrees"] and a["psnr_min_db"] > agree.THRESHOLD_DB, a
        assert rows[name]["time_vs_nbedit"] > 0 and rows[name]["rss_vs_nbedit"] > 0
    assert rows["pyav-floor"]["agreement"]["plain_only"]  # it composites nothing: judged on plain frames only
    assert not rows["pyav-numpy"]["agreement"]["plain_only"]
    w = data["edit"]["encoder_work"]  # x264 again on each output: the edit's own frames against the floor's
    assert len(w["edit_runs_s"]) == len(w["floor_runs_s"]) == data["settings"]["repeat"]
    assert w["edit_s"] > 0 and w["floor_s"] > 0 and w["ratio"] == pytest.approx(w["edit_s"] / w["floor_s"])
    assert not list(work.rglob("*.again.mp4"))  # the re-encodes leave nothing behind


def test_ffmpeg_filter_graph_makes_the_same_edit_as_nbedit(sources, tmp_path):
    spec = edit.design(sources, 2, SIZE)
    assert spec.crossfades and spec.pip is not None
    nbedit_side.render(spec, tmp_path / "nbedit.mp4")
    ffmpeg_side.render(spec, tmp_path / "ffmpeg.mp4")
    a = agree.compare(spec, tmp_path / "nbedit.mp4", tmp_path / "ffmpeg.mp4")
    assert a["frames"] == spec.frames
    assert a["agrees"] and a["psnr_min_db"] > agree.THRESHOLD_DB, a["notes"]


def test_psnr_check_says_which_frame_is_shown_one_early(sources, tmp_path):
    spec = edit.design(sources, 2, SIZE, cuts_only=True)
    nbedit_side.render(spec, tmp_path / "nbedit.mp4")
    late = edit.Spec(
        spec.width, spec.height, spec.fps, spec.sources,
        [edit.Segment(s.source, s.src_in - 1, s.frames, s.start) for s in spec.segments],
    )  # fmt: skip
    ffmpeg_side.render(late, tmp_path / "early.mp4")
    a = agree.compare(spec, tmp_path / "nbedit.mp4", tmp_path / "early.mp4")
    assert not a["agrees"]
    assert any("1 early" in note for note in a["notes"]), a["notes"]


def test_a_peer_that_is_not_installed_is_a_row_not_a_crash(sources, tmp_path, monkeypatch):
    monkeypatch.setitem(cli.NEEDS, "moviepy", "no_such_package_for_the_bench")
    result = cli.bench_edit(edit.design(sources, 2, SIZE), ["moviepy"], 1, tmp_path, 60, "edit")
    assert result["rows"] == {"moviepy": {"status": "not installed"}}
    cli.print_table("edit", result)


def test_an_edit_too_short_for_three_cuts_is_refused(sources):
    with pytest.raises(ValueError, match="at least"):
        edit.design(sources, 1, SIZE)


def test_spec_survives_json(sources):
    spec = edit.design(sources, 2, SIZE)
    assert edit.Spec.from_json(spec.to_json()) == spec
    assert sum(s.frames for s in spec.segments) == round(2 * edit.FPS)


def test_scaling_sizes_are_16_by_9_and_even():
    assert cli.size_of(540) == (960, 540) and cli.size_of(2160) == (3840, 2160)
    assert all(v % 2 == 0 for h in (180, 270, 720, 1080) for v in cli.size_of(h))


def test_every_contender_has_a_label_and_a_module():
    from bench.peers.child import CONTENDERS

    assert set(CONTENDERS) == set(cli.LABELS)
    for module, _ in CONTENDERS.values():
        assert (Path(cli.ROOT) / (module.replace(".", "/") + ".py")).exists()
