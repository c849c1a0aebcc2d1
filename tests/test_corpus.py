"""The hostile corpus: every broken file, bad argument, damaged project and damaged model folder a user (or a
shared folder) can hand nbedit gives a typed NbeditError that names the thing, or a correct result; never a
hang, a crash or an untyped exception, and a refusal leaves the session's state and every file of the project
exactly as they were.

Each case runs in a forked child with a hard timeout, so a hang or a segfault fails that case alone. The files
come from ``tests/corpus/make_corpus.py`` (generated into a temp folder, never committed).
"""

from __future__ import annotations

import gc
import hashlib
import json
import math
import os
import select
import shutil
import signal
import sys
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

import nbedit
from nbedit.errors import ClipNotFoundError, EditError, MediaError, ProjectError, RenderError, TimeRangeError
from nbedit.models import ModelError

sys.path.insert(0, str(Path(__file__).parent / "corpus"))
import make_corpus  # noqa: E402  (a script of its own, beside its output)

pytest_plugins = ["tiny_models"]

CASE_TIMEOUT = 120  # seconds: generous on a loaded machine; a hang is hours


# ---- the harness: a forked child per case, the project hashed before and after -----------------------------------


def isolated(body: Callable[[], None], timeout: float = CASE_TIMEOUT) -> None:
    """Run ``body`` in a forked child; a hang, a crash or a failed assertion there fails the calling test."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report and leave without running the parent's exit handlers
        # the parent's heap came along (every earlier test's objects, some of them maybe half-way through a C++
        # call on a background thread at the fork, such as the snapshot writer's): the child's collector leaves
        # it alone and collects only what the case makes (once seen: a segfault collecting inherited garbage)
        gc.freeze()
        os.close(read)
        code, report = 0, b""
        try:
            if "torch" in sys.modules:  # OpenMP's pool does not survive a fork; one thread needs none
                sys.modules["torch"].set_num_threads(1)
            body()
        except BaseException:
            code, report = 1, traceback.format_exc().encode()
        os.write(write, report[-20000:])
        os._exit(code)
    os.close(write)
    ready, _, _ = select.select([read], [], [], timeout)
    if not ready:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(read)
        pytest.fail(f"hung: no answer in {timeout} s")
    chunks = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.close(read)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        pytest.fail(f"crashed: killed by signal {signal.Signals(os.WTERMSIG(status)).name}")
    if os.WEXITSTATUS(status):
        pytest.fail(b"".join(chunks).decode(errors="replace"), pytrace=False)


def files_of(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` by relative path, with its sha256."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def fingerprint(s: nbedit.Session) -> tuple:
    return s.state(), [r.code for r in s.history], files_of(s.path)


def refuses(s: nbedit.Session, call: Callable[[], object], error: type[Exception], *words: str) -> str:
    """``call`` raises ``error`` (an NbeditError) whose message names each of ``words``, and changes nothing."""
    assert issubclass(error, nbedit.NbeditError)
    before = fingerprint(s)
    with pytest.raises(nbedit.NbeditError) as info:
        call()
    message = str(info.value).replace(str(s.path.parent), "<here>")  # words must be in the words, not the path
    assert isinstance(info.value, error), f"{type(info.value).__name__} is not a {error.__name__}: {message}"
    for word in words:
        assert word.lower() in message.lower(), f"{word!r} is not named in: {message}"
    for raw in ("avcodec_", "avformat_", "Errno", "Traceback", "std::"):
        assert raw not in message, f"raw library text in an editor's message: {message}"
    assert fingerprint(s) == before, "a refused call changed the session or the project folder"
    return message


# ---- fixtures -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_corpus.build(tmp_path_factory.mktemp("corpus"))


def edited(folder: Path, footage: dict[str, str]) -> nbedit.Session:
    """a and b imported; c1 (a, 0.5-2.5 s) then c2 (b, 0.5-2.5 s) on V1, with their sound on A1."""
    s = nbedit.Session(folder)
    s.import_media(footage["a"])
    s.import_media(footage["b"])
    s.append("a", track="V1", src_in=0.5, src_out=2.5)
    s.append("b", track="V1", src_in=0.5, src_out=2.5)
    return s


# ---- media: import each file ------------------------------------------------------------------------------------

BROKEN_MEDIA = [
    "zero-byte.mp4",
    "truncated-half.mp4",
    "truncated-header.mp4",
    "random-bytes.mp4",
    "random-bytes.png",
    "text.mov",
    "lying-header.png",
]


@pytest.mark.parametrize("name", BROKEN_MEDIA)
def test_broken_media_is_refused_at_import(name, corpus, footage, tmp_path):
    def body():
        s = edited(tmp_path / "p", footage)
        refuses(s, lambda: s.import_media(corpus[name]), MediaError, name)

    isolated(body)


def test_a_huge_picture_is_refused_at_import(corpus, footage, tmp_path):
    def body():
        s = edited(tmp_path / "p", footage)
        refuses(s, lambda: s.import_media(corpus["huge-dimensions.png"]), MediaError, "huge-dimensions.png", "pixel")

    isolated(body)


def test_a_folder_is_refused_as_a_folder(footage, tmp_path):
    def body():
        s = edited(tmp_path / "p", footage)
        (tmp_path / "clips").mkdir()
        refuses(s, lambda: s.import_media(tmp_path / "clips"), MediaError, "clips", "folder")

    isolated(body)


def test_a_missing_file_is_refused_by_name(footage, tmp_path):
    def body():
        s = edited(tmp_path / "p", footage)
        refuses(s, lambda: s.import_media(tmp_path / "nowhere.mp4"), MediaError, "nowhere.mp4")

    isolated(body)


def test_a_fifo_is_refused_without_waiting_for_a_writer(footage, tmp_path):
    def body():
        s = edited(tmp_path / "p", footage)
        os.mkfifo(tmp_path / "pipe.mp4")
        message = refuses(s, lambda: s.import_media(tmp_path / "pipe.mp4"), MediaError, "pipe.mp4")
        assert "not found" not in message and "no such" not in message.lower()

    isolated(body, timeout=60)


def test_a_symlink_loop_is_refused(footage, tmp_path):
    def body():
        s = edited(tmp_path / "p", footage)
        (tmp_path / "loop.mp4").symlink_to(tmp_path / "loop.mp4")
        refuses(s, lambda: s.import_media(tmp_path / "loop.mp4"), MediaError, "loop.mp4")

    isolated(body)


def test_a_path_with_shell_syntax_is_only_a_name(corpus, footage, tmp_path, monkeypatch):
    def body():
        os.chdir(tmp_path)
        s = edited(tmp_path / "p", footage)
        media = s.import_media(corpus["$(touch pwned) `id`; rm -rf x.mp4"])
        s.append(media, track="V2")
        assert s.frame(s.duration / 2).shape == (240, 320, 3)
        assert not (tmp_path / "pwned").exists() and not list(Path.cwd().glob("pwned*"))

    isolated(body)


def test_an_audio_file_goes_on_an_audio_track_and_not_a_video_one(corpus, footage, tmp_path):
    def body():
        s = edited(tmp_path / "p", footage)
        tone = s.import_media(corpus["audio-only.wav"])
        refuses(s, lambda: s.append(tone, track="V1"), EditError, "audio")
        clip = s.append(tone, track="A2")
        assert clip.track == "A2" and abs(clip.duration - 2.0) < 1 / 24

    isolated(body)


def test_a_tiny_picture_is_a_still(corpus, footage, tmp_path):
    def body():
        s = edited(tmp_path / "p", footage)
        still = s.import_media(corpus["tiny.png"])
        s.append(still, track="V2", duration=1.0)
        assert s.frame(0.5).shape == (240, 320, 3)

    isolated(body)


def test_corrupt_packets_are_refused_at_import_or_give_pictures_or_a_media_error(corpus, tmp_path):
    def body():
        s = nbedit.Session(tmp_path / "p")
        name = "corrupt-packets.mp4"
        try:
            s.append(s.import_media(corpus[name]), track="V1")
        except MediaError:
            refuses(s, lambda: s.import_media(corpus[name]), MediaError, name)
            return
        before = fingerprint(s)
        for k in range(0, 48, 5):
            try:
                assert s.frame(k / 24).shape == (48, 64, 3)
            except MediaError as e:
                assert name in str(e) and "avcodec_" not in str(e)
        assert fingerprint(s) == before

    isolated(body)


def test_relinking_to_random_bytes_is_refused(corpus, footage, tmp_path):
    def body():
        s = edited(tmp_path / "p", footage)
        refuses(s, lambda: s.relink("a", corpus["random-bytes.mp4"]), MediaError, "random-bytes.mp4")

    isolated(body)


# ---- arguments: each a call on a small edit --------------------------------------------------------------------

NAN, INF = math.nan, math.inf

ARGUMENTS = [
    # (id, call, error, words the message names)
    ("append-src_in-nan", lambda s: s.append("a", track="V1", src_in=NAN), TimeRangeError, ["src_in"]),
    ("append-duration-inf", lambda s: s.append("a", track="V1", duration=INF), TimeRangeError, ["duration"]),
    ("append-duration-1e308", lambda s: s.append("a", track="V1", duration=1e308), TimeRangeError, ["duration"]),
    ("append-src_in-after-src_out", lambda s: s.append("a", track="V1", src_in=3, src_out=1), TimeRangeError, []),
    ("append-src_out-past-the-media", lambda s: s.append("a", track="V1", src_out=99), TimeRangeError, []),
    ("insert-at-1e308", lambda s: s.insert("a", track="V1", at=1e308), TimeRangeError, ["at"]),
    ("insert-at-negative", lambda s: s.insert("a", track="V1", at=-1.0), TimeRangeError, ["start"]),
    ("move-to-1e7", lambda s: s.move("c1", to=1e7), TimeRangeError, ["to"]),
    ("move-to-nan", lambda s: s.move("c1", to=NAN), TimeRangeError, ["to"]),
    ("trim-src_in-text", lambda s: s.trim("c1", src_in="abc"), TimeRangeError, ["src_in"]),
    ("trim-src_out-minus-inf", lambda s: s.trim("c1", src_out=-INF), TimeRangeError, ["src_out"]),
    ("split-at-nan", lambda s: s.split("c1", at=NAN), TimeRangeError, ["at"]),
    ("split-at-1e308", lambda s: s.split("c1", at=1e308), TimeRangeError, ["at"]),
    ("slip-by-1e308", lambda s: s.slip("c1", by=1e308), TimeRangeError, ["by"]),
    ("slide-by-nan", lambda s: s.slide("c1", by=NAN), TimeRangeError, ["by"]),
    ("roll-by-inf", lambda s: s.roll("c1", "c2", by=INF), TimeRangeError, ["by"]),
    ("track-none", lambda s: s.append("a", track=None), EditError, ["track"]),
    ("track-an-int", lambda s: s.append("a", track=5), EditError, ["track"]),
    ("track-with-a-newline", lambda s: s.append("a", track="V1\n"), EditError, ["track"]),
    ("track-empty", lambda s: s.append("a", track=""), EditError, ["track"]),
    ("track-unknown-kind", lambda s: s.append("a", track="X9"), EditError, ["X9"]),
    ("add-track-with-a-newline", lambda s: s.add_track("V2\n"), EditError, ["track"]),
    ("add-track-none", lambda s: s.add_track(None), EditError, ["track"]),
    ("remove-track-unknown", lambda s: s.remove_track("V9"), ClipNotFoundError, ["V9"]),
    ("clip-unknown", lambda s: s.trim("c999", src_in=1.0), ClipNotFoundError, ["c999"]),
    ("clip-none", lambda s: s.delete(None), EditError, ["none"]),
    ("clip-an-int", lambda s: s.delete(3), EditError, ["3"]),
    ("clip-empty", lambda s: s.delete(""), ClipNotFoundError, []),
    ("clip-a-media-id", lambda s: s.delete("a"), ClipNotFoundError, ["'a'"]),
    ("media-unknown", lambda s: s.append("zzz", track="V1"), ClipNotFoundError, ["zzz"]),
    ("opacity-2", lambda s: s.opacity("c1", 2.0), EditError, ["opacity"]),
    ("opacity-negative", lambda s: s.opacity("c1", -0.1), EditError, ["opacity"]),
    ("opacity-nan", lambda s: s.opacity("c1", NAN), EditError, ["opacity"]),
    ("scale-1e6", lambda s: s.transform("c1", scale=1e6), EditError, ["scale"]),
    ("scale-zero", lambda s: s.transform("c1", scale=0), EditError, ["scale"]),
    ("scale-negative", lambda s: s.transform("c1", scale=-1), EditError, ["scale"]),
    ("speed-zero", lambda s: s.speed("c1", 0), EditError, ["speed"]),
    ("speed-below-minus-100", lambda s: s.speed("c1", -101), EditError, ["speed"]),
    ("speed-nan", lambda s: s.speed("c1", NAN), EditError, ["speed"]),
    ("speed-1e308", lambda s: s.speed("c1", 1e308), EditError, ["speed"]),
    ("crossfade-100-s", lambda s: s.crossfade("c1", "c2", duration=100), TimeRangeError, ["crossfade"]),
    ("crossfade-zero", lambda s: s.crossfade("c1", "c2", duration=0), TimeRangeError, ["crossfade"]),
    ("gain-nan", lambda s: s.gain("c1", NAN), EditError, ["gain"]),
    ("gain-1e308", lambda s: s.gain("c1", 1e308), EditError, ["gain"]),
    ("format-100000-square", lambda s: s.set_format(100_000, 100_000), EditError, ["100000"]),
    ("format-zero-width", lambda s: s.set_format(0, 48), EditError, ["width"]),
    ("format-fps-zero", lambda s: s.set_format(64, 48, fps=0), EditError, ["fps"]),
    ("format-fps-text", lambda s: s.set_format(64, 48, fps="fast"), EditError, ["fps"]),
    ("effect-unknown-kind", lambda s: s.effect("c1", "nope"), EditError, ["nope"]),
    ("marker-at-nan", lambda s: s.add_marker(NAN, "m"), TimeRangeError, ["at"]),
    ("import-media-none", lambda s: s.import_media(None), MediaError, ["none"]),
    ("render-end-1e308", lambda s: s.render(s.path.parent / "out.mp4", end=1e308), TimeRangeError, ["end"]),
    ("render-size-zero", lambda s: s.render(s.path.parent / "out.mp4", size=(0, 0)), EditError, ["size"]),
    ("render-crf-99", lambda s: s.render(s.path.parent / "out.mp4", crf=99), EditError, ["crf"]),
    ("frame-at-nan", lambda s: s.frame(NAN), TimeRangeError, ["nan"]),
    ("frame-at-1e308", lambda s: s.frame(1e308), TimeRangeError, ["24 hours"]),
    ("blur-radius-nan", lambda s: s.effect("c1", "blur", radius=NAN), EditError, ["radius"]),
    ("blur-radius-negative", lambda s: s.effect("c1", "blur", radius=-1), EditError, ["radius"]),
    ("effect-unknown-parameter", lambda s: s.effect("c1", "blur", sigma=2), EditError, ["sigma"]),
    ("blend-unknown-mode", lambda s: s.blend("c1", "sparkle"), EditError, ["sparkle"]),
    ("keyframe-at-nan", lambda s: s.keyframe("c1", "opacity", at=NAN, value=0.5), TimeRangeError, ["at"]),
    ("marker-unknown-colour", lambda s: s.add_marker(0.5, "m", color="ULTRAVIOLET"), EditError, ["color"]),
    ("move-marker-unknown", lambda s: s.move_marker("m9", to=1.0), ClipNotFoundError, ["m9"]),
    ("paste-none", lambda s: s.paste(None, at=1.0), EditError, ["paste"]),
    ("paste-at-nan", lambda s: s.paste(["c1"], at=NAN), TimeRangeError, ["at"]),
    ("enable-with-text", lambda s: s.enable("c1", "yes"), EditError, ["yes"]),
    ("mute-unknown-track", lambda s: s.mute("V9"), ClipNotFoundError, ["V9"]),
    ("solo-none", lambda s: s.solo(None), EditError, ["track"]),
    ("relink-unknown-media", lambda s: s.relink("zz", s.media["a"].path), ClipNotFoundError, ["zz"]),
    ("interpolate-fps-zero", lambda s: s.interpolate("c1", fps=0), EditError, ["fps"]),
    ("reframe-aspect-banana", lambda s: s.reframe("c1", aspect="banana"), EditError, ["aspect"]),
    ("render-unknown-preset", lambda s: s.render(s.path.parent / "out.mp4", preset="warp"), EditError, ["preset"]),
    ("render-fps-zero", lambda s: s.render(s.path.parent / "out.mp4", fps=0), EditError, ["fps"]),
    ("render-into-a-folder", lambda s: s.render(s.path.parent, progress=False), RenderError, ["folder"]),
    (
        "render-into-a-missing-folder",
        lambda s: s.render(s.path.parent / "no" / "out.mp4", progress=False),
        RenderError,
        ["does not exist"],
    ),
    ("export-unknown-format", lambda s: s.export(s.path.parent / "cut.xyz"), nbedit.NbeditError, [".xyz"]),
]


def argument_params():
    for case in ARGUMENTS:
        values, marks = (case.values, case.marks) if hasattr(case, "marks") else (case, ())
        yield pytest.param(*values[1:], id=values[0], marks=marks)


@pytest.mark.parametrize(("call", "error", "words"), list(argument_params()))
def test_a_bad_argument_is_refused_and_changes_nothing(call, error, words, footage, tmp_path):
    def body():
        s = edited(tmp_path / "p", footage)
        refuses(s, lambda: call(s), error, *words)
        assert not (tmp_path / "out.mp4").exists()

    isolated(body)


def test_undo_with_nothing_to_undo_is_refused(tmp_path):
    def body():
        s = nbedit.Session(tmp_path / "p")
        refuses(s, s.undo, EditError, "undo")

    isolated(body)


def test_a_session_of_no_path_is_a_project_error(tmp_path):
    def body():
        with pytest.raises(ProjectError, match="None"):
            nbedit.Session(None)

    isolated(body)


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda s, p: s.save(p), id="save"),
        pytest.param(lambda s, p: s.to_notebook(p), id="to_notebook"),
        pytest.param(lambda s, p: s.render(p, progress=False), id="render"),
    ],
)
def test_writing_onto_a_source_is_refused(write, footage, tmp_path):
    def body():
        source = Path(shutil.copy(footage["a"], tmp_path / "source.mp4"))
        s = nbedit.Session(tmp_path / "p")
        s.append(s.import_media(source), track="V1")
        s.save()  # the snapshot now: on a loaded machine the 2 s pause could otherwise write it during the call
        digest = hashlib.sha256(source.read_bytes()).hexdigest()
        try:
            refuses(s, lambda: write(s, source), nbedit.NbeditError, "source.mp4")
        finally:
            assert hashlib.sha256(source.read_bytes()).hexdigest() == digest, "the source was overwritten"

    isolated(body)


def test_a_source_replaced_after_import_goes_offline_and_never_shows_the_other_file(footage, tmp_path):
    def body():
        source = Path(shutil.copy(footage["a"], tmp_path / "source.mp4"))
        s = nbedit.Session(tmp_path / "p")
        s.append(s.import_media(source), track="V1", src_in=0.5, src_out=1.5)
        shown = s.frame(0.5)
        s.close()
        shutil.copy(footage["b"], source)  # same path, other pictures
        s = nbedit.Session(tmp_path / "p")
        assert not s.media["source"].online and "OFFLINE" in repr(s.media["source"])
        replaced = s.frame(0.5)
        source.unlink()
        s.cache.clear()
        assert (replaced == s.frame(0.5)).all(), "a replaced file shows what a missing one shows: the slate"
        assert not (replaced == shown).all()
        shutil.copy(footage["b"], source)
        refuses(s, lambda: s.relink("source", source), MediaError, "source.mp4")

    isolated(body)


def test_a_huge_blur_radius_is_refused_or_clamped_and_the_frame_comes_back(footage, tmp_path):
    def body():
        s = edited(tmp_path / "p", footage)
        try:
            s.effect("c1", "blur", radius=1e5)
        except EditError as e:
            assert "radius" in str(e)
            return
        assert s.frame(0.5).shape == (240, 320, 3)

    isolated(body, timeout=60)


# ---- timeline files: import each one -----------------------------------------------------------------------------

REFUSED_TIMELINES = [
    "deep-50000.otio",
    "nested-3000-compound.otio",
    "wrong-schema.otio",
    "a-clip-not-a-timeline.otio",
    "not-json.otio",
    "empty.otio",
    "a-list.otio",
    "negative-duration.otio",
    "rate-zero.otio",
    "time-1e308.otio",
    "billion-laughs.xml",
    "bad-duration.fcpxml",
    "negative-duration.fcpxml",
    "zero-denominator.fcpxml",
    "billion-laughs.fcpxml",
    "garbage.edl",
    "bad-timecode.edl",
    "random.otioz",
    "timeline.xyz",
]
@pytest.mark.parametrize("name", [*REFUSED_TIMELINES, "gap-31-years.otio"])
def test_a_hostile_timeline_file_is_refused_by_import(name, corpus, footage, tmp_path):
    def body():
        s = edited(tmp_path / "p", footage)
        refuses(s, lambda: s.import_timeline(corpus[name]), nbedit.NbeditError, name)

    isolated(body)


@pytest.mark.parametrize("name", ["deep-50000.otio", "nested-3000-compound.otio", "not-json.otio", "a-list.otio"])
def test_a_hostile_otio_is_refused_by_open_timeline(name, corpus, footage, tmp_path):
    def body():
        s = edited(tmp_path / "p", footage)
        refuses(s, lambda: s.open_timeline(corpus[name]), nbedit.NbeditError, name)

    isolated(body)


def test_a_folder_is_refused_as_a_timeline(footage, tmp_path):
    def body():
        s = edited(tmp_path / "p", footage)
        (tmp_path / "cuts").mkdir()
        refuses(s, lambda: s.import_timeline(tmp_path / "cuts"), nbedit.NbeditError, "cuts", "folder")

    isolated(body)


def test_xxe_never_reads_the_file_it_names(corpus, footage, tmp_path):
    def body():
        s = edited(tmp_path / "p", footage)
        try:
            s.import_timeline(corpus["xxe.xml"])
        except nbedit.NbeditError as e:
            assert "xxe.xml" in str(e)
        assert "THE-SECRET-OF-THE-HOST" not in s.state()

    isolated(body)


def test_a_zip_slip_otioz_writes_nothing_outside_the_project(corpus, footage, tmp_path):
    def body():
        s = edited(tmp_path / "work" / "deep" / "p", footage)
        try:
            s.import_timeline(corpus["zip-slip.otioz"])
        except nbedit.NbeditError as e:
            assert "zip-slip.otioz" in str(e)
        outside = [p for p in tmp_path.rglob("escaped.mp4") if s.path not in p.parents]
        assert outside == []

    isolated(body)


def test_a_wide_timeline_of_two_thousand_clips_imports_whole(corpus, footage, tmp_path):
    def body():
        s = edited(tmp_path / "p", footage)
        report = s.import_timeline(corpus["wide-2000-clips.otio"])
        assert len(s.clips) == 2000 and not report.offline
        assert abs(s.duration - 2000.0) < 1e-6

    isolated(body, timeout=300)


def test_compound_clips_150_deep_import_or_are_refused_by_depth(corpus, footage, tmp_path):
    def body():
        s = edited(tmp_path / "p", footage)
        try:
            s.import_timeline(corpus["nested-150-compound.otio"])
        except nbedit.NbeditError as e:
            assert "nested-150-compound.otio" in str(e)
            return
        assert s.frame(0.5).shape[2] == 3

    isolated(body)


# ---- project metadata: reopen a project whose files were damaged ---------------------------------------------------


def made_project(folder: Path, footage: dict[str, str]) -> str:
    """A closed project (c1 with opacity and a blur, c2); returns its state."""
    s = edited(folder, footage)
    s.opacity("c1", 0.5)
    s.effect("c1", "blur", radius=2)
    state = s.state()
    s.close()
    return state


def clip_data(tl: dict, cid: str) -> dict:
    for track in tl["tracks"]["children"]:
        for item in track["children"]:
            if item.get("metadata", {}).get("nbedit", {}).get("id") == cid:
                return item["metadata"]["nbedit"]
    raise KeyError(cid)


CORRUPTIONS: dict[str, tuple[str, Callable[[dict], None]]] = {
    # name: (the field the message names, what is done to the timeline's JSON)
    "opacity-as-text": ("opacity", lambda tl: clip_data(tl, "c1").update(opacity="half")),
    "unknown-effect-kind": ("kind", lambda tl: clip_data(tl, "c1")["effects"][0].update(kind="melt")),
    "blur-radius-1e5": ("radius", lambda tl: clip_data(tl, "c1")["effects"][0]["params"].update(radius=1e5)),
    "fps-zero": ("fps", lambda tl: tl["metadata"]["nbedit"]["format"].update(fps="0")),
    "width-as-text": ("width", lambda tl: tl["metadata"]["nbedit"]["format"].update(width="wide")),
    "next-id-as-text": ("next_id", lambda tl: tl["metadata"]["nbedit"].update(next_id="seven")),
    "clip-of-unknown-media": ("media", lambda tl: clip_data(tl, "c2").update(media="ghost")),
}


def corrupt_snapshot(folder: Path, corruption: Callable[[dict], None]) -> None:
    """Damage timeline.otio and make snapshot.json agree with it, as a tool editing the folder by hand would."""
    tl = json.loads((folder / "timeline.otio").read_text())
    corruption(tl)
    data = json.dumps(tl, indent=4).encode()
    (folder / "timeline.otio").write_bytes(data)
    snap = json.loads((folder / "snapshot.json").read_text())
    snap["timeline_sha256"] = hashlib.sha256(data).hexdigest()
    (folder / "snapshot.json").write_text(json.dumps(snap, indent=1))


def corrupt_params():
    for name, (field, corruption) in CORRUPTIONS.items():
        yield pytest.param(field, corruption, id=name)


@pytest.mark.parametrize(("field", "corruption"), list(corrupt_params()))
def test_a_corrupt_snapshot_beside_its_journal_is_refused_or_rebuilt_from_the_journal(
    field, corruption, footage, tmp_path
):
    def body():
        folder = tmp_path / "p"
        state = made_project(folder, footage)
        corrupt_snapshot(folder, corruption)
        journal = (folder / "journal.jsonl").read_bytes()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                s = nbedit.Session(folder)
        except ProjectError as e:
            assert field in str(e)
            return
        assert s.state() == state and (folder / "journal.jsonl").read_bytes() == journal
        assert s.frame(0.5).shape == (240, 320, 3)

    isolated(body)


@pytest.mark.parametrize(("field", "corruption"), list(corrupt_params()))
def test_a_corrupt_snapshot_without_a_journal_is_a_project_error_naming_the_field(field, corruption, footage, tmp_path):
    def body():
        folder = tmp_path / "p"
        made_project(folder, footage)
        corrupt_snapshot(folder, corruption)
        (folder / "journal.jsonl").unlink()
        before = files_of(folder)
        with pytest.raises(ProjectError, match=field), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nbedit.Session(folder)
        assert files_of(folder) == before

    isolated(body)


@pytest.mark.parametrize("op", ["render", "save", "to_notebook", "__init__", "_apply", "close"])
def test_a_journal_entry_naming_a_method_is_refused_on_open(op, footage, tmp_path):
    def body():
        folder = tmp_path / "p"
        made_project(folder, footage)
        (folder / "snapshot.json").unlink()  # so the journal is replayed
        with open(folder / "journal.jsonl", "a") as f:
            f.write(json.dumps({"op": op, "args": [str(tmp_path / "victim")], "kwargs": {}}) + "\n")
        before = files_of(folder)
        with pytest.raises(ProjectError, match=op):
            nbedit.Session(folder)
        assert files_of(folder) == before and not (tmp_path / "victim").exists()

    isolated(body)


def test_a_journal_entry_with_a_bad_argument_is_refused_on_open_naming_the_entry(footage, tmp_path):
    def body():
        folder = tmp_path / "p"
        made_project(folder, footage)
        (folder / "snapshot.json").unlink()
        with open(folder / "journal.jsonl", "a") as f:
            f.write(json.dumps({"op": "opacity", "args": ["c1", "half"], "kwargs": {}}) + "\n")
        before = files_of(folder)
        with pytest.raises(ProjectError, match="entry 7"):
            nbedit.Session(folder)
        assert files_of(folder) == before

    isolated(body)


def test_a_journal_of_random_bytes_opens_the_saved_timeline_with_a_warning(footage, tmp_path):
    def body():
        folder = tmp_path / "p"
        state = made_project(folder, footage)
        (folder / "journal.jsonl").write_bytes(make_corpus.noise(2000, 5))
        with pytest.warns(UserWarning, match="journal"):
            s = nbedit.Session(folder)
        assert s.state() == state
        assert list(folder.glob("journal.damaged-*.jsonl")), "the damaged journal is kept aside, not deleted"

    isolated(body)


def test_a_project_file_that_is_not_json_is_a_project_error(footage, tmp_path):
    def body():
        folder = tmp_path / "p"
        made_project(folder, footage)
        (folder / "project.json").write_text("{not json")
        before = files_of(folder)
        with pytest.raises(ProjectError, match="project.json"):
            nbedit.Session(folder)
        assert files_of(folder) == before

    isolated(body)


def torn(folder: Path, line: int) -> bytes:
    """Cut journal line ``line`` (1-based) in half, as a crash in the middle of writing it would; returns it."""
    lines = (folder / "journal.jsonl").read_bytes().splitlines(keepends=True)
    lines[line - 1] = lines[line - 1][: len(lines[line - 1]) // 2] + b"\n"
    (folder / "journal.jsonl").write_bytes(b"".join(lines))
    return lines[line - 1]


def test_a_torn_line_in_the_middle_of_the_journal_keeps_the_edits_before_it_and_sets_the_rest_aside(footage, tmp_path):
    def body():
        ref = nbedit.Session(tmp_path / "ref" / "p")  # the project as the three edits before the damage left it
        ref.import_media(footage["a"])
        ref.import_media(footage["b"])
        ref.append("a", track="V1", src_in=0.5, src_out=2.5)
        folder = tmp_path / "p"
        made_project(folder, footage)
        (folder / "snapshot.json").unlink()  # only the journal to go by
        damaged = torn(folder, 4)
        with pytest.warns(UserWarning, match="line 4"):
            s = nbedit.Session(folder)
        assert s.state() == ref.state() and len(s.history) == 3
        aside = list(folder.glob("journal.damaged-*.jsonl"))
        assert len(aside) == 1 and aside[0].read_bytes().startswith(damaged)

    isolated(body)


def test_a_torn_line_before_the_saved_timeline_opens_that_timeline(footage, tmp_path):
    def body():
        folder = tmp_path / "p"
        state = made_project(folder, footage)
        torn(folder, 4)
        with pytest.warns(UserWarning, match="line 4"):
            s = nbedit.Session(folder)
        assert s.state() == state  # the saved timeline holds every edit; the journal lost only its tail
        assert list(folder.glob("journal.damaged-*.jsonl"))

    isolated(body)


@pytest.mark.parametrize("how", ["emptied", "deleted"])
def test_a_lost_journal_beside_its_saved_timeline_opens_that_timeline_with_a_warning(how, footage, tmp_path):
    def body():
        folder = tmp_path / "p"
        state = made_project(folder, footage)
        if how == "emptied":
            (folder / "journal.jsonl").write_bytes(b"")
        else:
            (folder / "journal.jsonl").unlink()
        with pytest.warns(UserWarning, match="timeline.otio"):
            s = nbedit.Session(folder)
        assert s.state() == state and len(s.clips) == 2

    isolated(body)


def test_temp_files_a_killed_write_left_are_cleaned_on_open(footage, tmp_path):
    def body():
        folder = tmp_path / "p"
        state = made_project(folder, footage)
        dead = os.fork()
        if dead == 0:
            os._exit(0)
        os.waitpid(dead, 0)  # a writer that is gone
        (folder / ".timeline.otio.tmp").write_text("{half a timel")  # a snapshot cut short
        (folder / f".cut.{dead}-abcd1234.partial.mp4").write_bytes(b"\x00" * 100)  # a killed render's
        (folder / "notes.txt.partial").write_bytes(b"mine")  # not a name nbedit makes: the user's, kept
        s = nbedit.Session(folder)
        assert s.state() == state
        left = sorted(p.name for p in folder.iterdir() if p.name.endswith((".tmp", ".partial", ".partial.mp4")))
        assert left == ["notes.txt.partial"]

    isolated(body)


def test_a_second_writer_is_refused_naming_the_first_and_may_read(footage, tmp_path):
    def body():
        folder = tmp_path / "p"
        made_project(folder, footage)
        ready, done = os.pipe(), os.pipe()
        holder = os.fork()
        if holder == 0:  # another kernel, editing the project
            try:
                nbedit.Session(folder)
                os.write(ready[1], b"1")
                os.read(done[0], 1)
            finally:
                os._exit(0)
        try:
            os.read(ready[0], 1)
            before = files_of(folder)
            with pytest.raises(nbedit.ProjectLockedError, match=str(holder)):
                nbedit.Session(folder)
            assert files_of(folder) == before
            assert len(nbedit.Session(folder, read_only=True).clips) == 2
        finally:
            os.write(done[1], b"1")
            os.waitpid(holder, 0)

    isolated(body)


# ---- model folders: a damaged copy of a tiny checkpoint in the project's models/ ----------------------------------


GENERATE = [
    ("seed-negative", {"seed": -1}, EditError, ["seed"]),
    ("seconds-nan", {"seconds": NAN}, EditError, ["seconds"]),
    ("size-100000-square", {"size": (100_000, 100_000)}, EditError, ["size"]),
    ("steps-zero", {"steps": 0}, EditError, ["steps"]),
    ("prompt-none", {"prompt": None}, EditError, ["prompt"]),
    ("model-path-climbing-out", {"model": "../../../etc"}, ModelError, ["etc"]),
    ("model-unknown", {"model": "no-such-model"}, ModelError, ["no-such-model"]),
]


@pytest.mark.parametrize(("kw", "error", "words"), [pytest.param(*g[1:], id=g[0]) for g in GENERATE])
def test_a_bad_generation_argument_is_refused_and_changes_nothing(kw, error, words, tiny_models, tmp_path):
    def body():
        os.environ["NBEDIT_MODELS"] = str(tiny_models)
        os.environ["NBEDIT_DEVICE"] = "cpu"
        s = nbedit.Session(tmp_path / "p")
        call = {"prompt": "a red kite", "model": "ltx-video", "seconds": 0.4, "seed": 1, **kw}
        prompt = call.pop("prompt")
        refuses(s, lambda: s.generate(prompt, **call), error, *words)

    isolated(body)


@pytest.mark.parametrize("damage", list(make_corpus.DAMAGES))
def test_a_damaged_model_folder_is_refused_and_no_code_from_it_runs(damage, tiny_models, tmp_path):
    def body():
        os.environ["NBEDIT_MODELS"] = str(tiny_models)
        os.environ["NBEDIT_DEVICE"] = "cpu"
        s = nbedit.Session(tmp_path / "p")
        folder = Path(shutil.copytree(tiny_models / "ltx-video", s.path / "models" / "ltx-video"))
        make_corpus.DAMAGES[damage](folder)
        s.models.refresh()
        call = lambda: s.generate("a red kite", model="ltx-video", seconds=0.4, seed=1)  # noqa: E731
        refuses(s, call, ModelError, "ltx-video")
        assert not (folder / make_corpus.SENTINEL).exists(), "code from the model folder ran"

    isolated(body, timeout=240)
