"""The source view's kernel side: the media pool the editor lists, the source monitor's frames, three-point editing
(Insert and Overwrite of the source's marked range, as the Session's s.insert / s.overwrite), and the render of the
timeline's In-Out range. Marks count as NLEs do: the Out mark is the last frame inside the range."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import pytest
from widget_helpers import Sent, picture

import nbedit
from nbedit.media import read_counter


@pytest.fixture
def cut(ab, footage):
    """a on V1 for 2 s (c1, with its sound c2 on A1), the tone in the pool."""
    ab.append("a", track="V1", src_in=0, src_out=2, audio="A1")
    ab.import_media(footage["tone"])
    return ab


def source_monitor(s, media: str, playhead: int = 0, mark_in: int = -1, mark_out: int = -1):
    ui = s.ui()
    ui.source, ui.source_playhead, ui.source_in, ui.source_out = media, playhead, mark_in, mark_out
    return ui


def test_the_pool_panel_lists_each_media_with_its_name_length_and_sound(cut):
    ui = cut.ui()
    sent = Sent(ui)
    ui._on_message(ui, {"type": "pool"}, [])
    items = {it["id"]: it for it in sent.last("pool")[0]["items"]}
    assert list(items) == ["a", "b", "tone"]
    assert items["a"]["name"] == "a.mp4" and items["a"]["frames"] == 96 and items["a"]["sound"]
    assert items["tone"]["kind"] == "audio" and items["tone"]["frames"] == 144


def test_a_pool_items_thumbnail_is_one_jpeg_of_its_own_frames(cut):
    ui = cut.ui()
    sent = Sent(ui)
    ui._on_message(ui, {"type": "pool_thumb", "media": "a", "height": 40}, [])
    msg, buffers = sent.last("pool_thumb")
    assert msg["media"] == "a"
    assert picture(buffers[0]).shape == (40, 54, 3)  # 4:3, even width


def test_importing_media_tells_the_pool_panel(cut, footage, tmp_path):
    ui = cut.ui()
    sent = Sent(ui)
    more = nbedit.media.testsrc(tmp_path / "c.mp4", seconds=1, size=(320, 240), variant=2, audio=False)
    cut.import_media(more)
    assert [it["id"] for it in sent.last("pool")[0]["items"]] == ["a", "b", "c", "tone"]  # by id
    cut.split("c1", at=1.0)
    assert sum(m["type"] == "pool" for m, _ in sent.got) == 1  # an edit that leaves the pool alone sends none


def test_the_source_monitor_shows_the_media_frame_at_its_playhead(cut):
    ui = cut.ui()
    sent = Sent(ui)
    ui.source = "b"
    ui.source_playhead = 30
    msg, buffers = sent.last("source_frame")
    assert msg == {"type": "source_frame", "media": "b", "n": 30, "timecode": "00:00:01:06", "picture": True}
    assert read_counter(picture(buffers[0])) == 30  # b's own frame 30, not the timeline's


def test_sound_only_media_shows_no_picture_in_the_source_monitor(cut):
    ui = cut.ui()
    sent = Sent(ui)
    ui.source = "tone"
    msg, buffers = sent.last("source_frame")
    assert msg["picture"] is False and buffers == []


def test_insert_places_the_marked_source_at_the_playhead_with_its_linked_sound(cut):
    ui = source_monitor(cut, "b", mark_in=12, mark_out=35)  # 1 s of b, from 0.5 s
    ui.playhead = 24
    ui._on_message(ui, {"type": "edit", "op": "insert"}, [])
    assert ui.status == ""
    assert cut.history[-1].code.startswith("s.insert('b', track='V1', at=1, src_in=0.5, src_out=1.5, audio='A1')")
    assert cut.cells.pending[-1] == cut.history[-1].code
    v1 = [(c.start, c.duration, c.media) for c in cut.clips if c.track == "V1"]
    assert v1 == [(0.0, 1.0, "a"), (1.0, 1.0, "b"), (2.0, 1.0, "a")]  # what was after the playhead moved right
    a1 = [(c.start, c.duration, c.media) for c in cut.clips if c.track == "A1"]
    assert a1 == v1  # the sound went in with it, in sync


def test_overwrite_goes_at_the_timelines_in_mark_and_moves_nothing(cut):
    ui = source_monitor(cut, "b", mark_in=0, mark_out=11)
    ui.playhead, ui.mark_in = 40, 6
    ui._on_message(ui, {"type": "edit", "op": "overwrite"}, [])
    assert cut.history[-1].code.startswith("s.overwrite('b', track='V1', at=0.25, src_in=0, src_out=0.5, audio='A1')")
    assert cut.end_frame() == 48  # nothing moved: the timeline is as long as before
    assert [(c.start, c.media) for c in cut.clips if c.track == "V1"] == [(0.0, "a"), (0.25, "b"), (0.75, "a")]


def test_without_a_source_out_the_timelines_marks_give_the_duration(cut):
    ui = source_monitor(cut, "b", mark_in=24)
    ui.mark_in, ui.mark_out = 12, 23  # half a second on the timeline
    ui._on_message(ui, {"type": "edit", "op": "overwrite"}, [])
    assert cut.history[-1].code.startswith("s.overwrite('b', track='V1', at=0.5, src_in=1, duration=0.5, audio='A1')")


def test_three_point_edits_go_to_the_selected_clips_track(cut):
    inset = cut.append("a", track="V2", src_in=0, src_out=1)
    ui = source_monitor(cut, "b", mark_in=0, mark_out=11)
    ui.selection = [inset.id]
    ui._on_message(ui, {"type": "edit", "op": "overwrite"}, [])
    assert "track='V2'" in cut.history[-1].code


def test_sound_only_media_goes_to_an_audio_track_without_linking(cut):
    ui = source_monitor(cut, "tone", mark_in=0, mark_out=23)
    ui.playhead = 48
    ui._on_message(ui, {"type": "edit", "op": "overwrite"}, [])
    assert cut.history[-1].code.startswith("s.overwrite('tone', track='A1', at=2, src_in=0, src_out=1)")


def test_insert_without_a_source_says_what_to_do_and_changes_nothing(cut):
    ui = cut.ui()
    state = cut.state()
    ui._on_message(ui, {"type": "edit", "op": "insert"}, [])
    assert ui.status == "Open a clip in the source monitor first: double-click it in the media pool"
    assert cut.state() == state


def test_source_marks_inside_out_are_refused(cut):
    ui = source_monitor(cut, "b", mark_in=30, mark_out=10)
    state = cut.state()
    ui._on_message(ui, {"type": "edit", "op": "insert"}, [])
    assert "Out mark is before its In mark" in ui.status
    assert cut.state() == state


def test_a_three_point_edit_is_one_undo(cut):
    ui = source_monitor(cut, "b", mark_in=0, mark_out=23)
    state = cut.state()
    ui._on_message(ui, {"type": "edit", "op": "insert"}, [])
    cut.undo()
    assert cut.state() == state


def test_render_in_out_writes_the_marked_range_and_records_the_call(cut, monkeypatch):
    monkeypatch.chdir(cut.path.parent)
    ui = cut.ui()
    ui.mark_in, ui.mark_out = 12, 35  # 1 s from 0.5 s
    sent = Sent(ui)
    ui._on_message(ui, {"type": "render_name"}, [])
    default = sent.last("render_name")[0]["path"]
    assert default == "renders/project-in-out.mp4"  # beside the project: fresh=True empties that
    ui._on_message(ui, {"type": "render_io", "path": default}, [])
    assert ui.status == ""
    done = sent.last("render_done")[0]
    assert done == {"type": "render_done", "path": default, "seconds": 1.0}
    progress = [m for m, _ in sent.got if m["type"] == "render_progress"]
    assert progress and progress[-1]["done"] == progress[-1]["total"] == 24
    with av.open(str(cut.path.parent / "renders" / "project-in-out.mp4")) as f:
        assert f.streams.video[0].frames == 24
    assert cut.cells.pending[-1] == f"s.render({default!r}, start=0.5, end=1.5)"


def test_the_next_default_render_name_is_a_new_file(cut, monkeypatch):
    monkeypatch.chdir(cut.path.parent)
    ui = cut.ui()
    ui.mark_out = 11
    ui.render_io({"path": ""})
    assert ui.render_default().name == "project-in-out-2.mp4"


def test_render_in_out_never_writes_over_a_file(cut, footage):
    ui = cut.ui()
    ui.mark_in = 0
    before = open(footage["a"], "rb").read()
    ui._on_message(ui, {"type": "render_io", "path": footage["a"]}, [])
    assert ui.status == "a.mp4 exists: choose another name (a render never writes over a file)"
    assert open(footage["a"], "rb").read() == before


def test_render_in_out_without_marks_says_so(cut, tmp_path):
    ui = cut.ui()
    ui._on_message(ui, {"type": "render_io", "path": str(tmp_path / "x.mp4")}, [])
    assert ui.status == "Mark an In or an Out point on the timeline first (I, O)"
    assert not (tmp_path / "x.mp4").exists()


def test_render_in_out_counts_the_marked_frames_exactly_at_any_rate(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    src = nbedit.media.testsrc(tmp_path / "ntsc.mp4", seconds=2, fps=Fraction(30000, 1001), size=(320, 240))
    s = nbedit.Session(tmp_path / "p")
    s.append(s.import_media(src), src_in=0, src_out=2)
    ui = s.ui()
    ui.mark_in, ui.mark_out = 7, 36  # 30 frames
    out = ui.render_io({"path": "ntsc-io.mp4"})
    with av.open(str(out)) as f:
        assert f.streams.video[0].frames == 30
        first = next(f.decode(video=0)).to_ndarray(format="rgb24")
    assert read_counter(first) == 7


def test_after_a_three_point_edit_the_playhead_waits_after_the_new_clip_and_the_marks_are_used_up(cut):
    ui = source_monitor(cut, "b", mark_in=0, mark_out=11)
    ui.mark_in, ui.mark_out, ui.playhead = 6, 17, 40
    ui._on_message(ui, {"type": "edit", "op": "overwrite"}, [])
    assert (ui.playhead, ui.mark_in, ui.mark_out) == (18, -1, -1)
    assert (ui.source_in, ui.source_out) == (0, 11)  # the source keeps its marks, for the next edit


def test_the_source_monitor_reads_a_long_gop_files_scrub_proxy_once_it_is_ready(s, tmp_path):
    src = nbedit.media.testsrc(tmp_path / "long.mp4", seconds=3, size=(320, 240), gop=72, audio=False)
    s.append(s.import_media(src), src_in=0, src_out=3)
    ui = s.ui()
    assert ui.preview.proxies.wait(60)
    sent = Sent(ui)
    ui.source, ui.source_playhead = "long", 50
    assert read_counter(picture(sent.last("source_frame")[1][0])) == 50
    proxy = ui.preview.proxies.ready(s.media["long"].info.sha256)
    assert [r.path for r in ui._source_sources._readers.values()] == [str(proxy)]


# ---- relinking offline media from the pool ------------------------------------------------------------------


@pytest.fixture
def gone(cut, footage, tmp_path):
    """The cut and 1 s of b after it, exported to FCP 7 XML and imported into a new session once both files have
    gone from their folder; a's is in ``tmp_path/moved``."""
    import shutil

    cut.append("b", track="V1", src_in=0, src_out=1)
    xml = cut.export(tmp_path / "cut.xml").path
    moved = tmp_path / "moved"
    moved.mkdir()
    shutil.copy(footage["a"], moved / "a.mp4")
    text = xml.read_text().replace(str(Path(footage["a"]).parent), "/gone/away")
    xml.write_text(text)
    s = nbedit.Session(tmp_path / "imported")
    s.import_timeline(xml)
    return s, moved


def test_an_offline_pool_items_relink_records_the_call_and_brings_it_online(gone):
    s, moved = gone
    ui = s.ui()
    sent = Sent(ui)
    assert not s.media["a"].online
    ui._on_message(ui, {"type": "edit", "op": "relink", "media": "a", "path": str(moved / "a.mp4")}, [])
    assert ui.status == "" and s.media["a"].online
    sha = s.media["a"].info.sha256
    assert s.history[-1].code == f"s.relink('a', {str(moved / 'a.mp4')!r}, sha256={sha!r})"  # as a cell records it
    assert s.cells.pending[-1] == s.history[-1].code
    items = {it["id"]: it for it in sent.last("pool")[0]["items"]}
    assert not items["a"]["offline"]


def test_relink_to_a_folder_takes_the_file_of_the_items_name_in_it(gone):
    s, moved = gone
    ui = s.ui()
    ui._on_message(ui, {"type": "edit", "op": "relink", "media": "a", "path": str(moved)}, [])
    assert ui.status == "" and s.media["a"].path == str(moved / "a.mp4")


def test_relink_to_a_folder_without_the_file_says_so_and_changes_nothing(gone, tmp_path):
    s, _ = gone
    ui = s.ui()
    state = s.state()
    ui._on_message(ui, {"type": "edit", "op": "relink", "media": "a", "path": str(tmp_path)}, [])
    assert ui.status == f"No file named 'a.mp4' in {tmp_path}"
    assert s.state() == state and not s.media["a"].online


def test_an_open_editor_follows_a_relink_without_a_view_failing(gone):
    import warnings

    s, moved = gone
    ui = s.ui()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s.relink("a", moved / "a.mp4")  # the pool entry the proxies asked about is replaced by another
        s.undo()
        s.redo()
    assert [str(w.message) for w in caught if "listener" in str(w.message)] == []
    assert ui.preview.jpeg(0) and s.media["a"].online


def test_relink_to_a_folder_brings_the_other_offline_media_found_there_online_too(gone, footage):
    import shutil

    s, moved = gone
    shutil.copy(footage["b"], moved / "b.mp4")
    ui = s.ui()
    ui._on_message(ui, {"type": "edit", "op": "relink", "media": "a", "path": str(moved)}, [])
    assert ui.status == "" and s.media["a"].online and s.media["b"].online
    assert [h.code.split(",")[0] for h in s.history[-2:]] == ["s.relink('a'", "s.relink('b'"]  # a cell each


def test_relink_to_a_folder_names_another_file_there_that_does_not_fit_and_links_the_rest(gone, tmp_path):
    s, moved = gone
    nbedit.media.testsrc(moved / "b.mp4", seconds=0.5, fps=24, size=(320, 240))  # shorter than its clips read
    ui = s.ui()
    ui._on_message(ui, {"type": "edit", "op": "relink", "media": "a", "path": str(moved)}, [])
    assert s.media["a"].online and not s.media["b"].online
    assert ui.status.startswith(f"Relinked what fits from {moved}; not b.mp4: "), ui.status


def test_relink_to_a_folder_leaves_offline_media_of_another_folder_that_shares_a_name(cut, footage, tmp_path):
    import shutil

    card = tmp_path / "card-2"
    card.mkdir()
    twin = shutil.copy(footage["a"], card / "a.mp4")  # another camera card's a.mp4
    cut.append(cut.import_media(twin), track="V1", src_in=0, src_out=1)
    xml = cut.export(tmp_path / "cut.xml").path
    text = xml.read_text().replace(str(Path(footage["a"]).parent), "/gone/away")
    xml.write_text(text.replace(str(card), "/gone/card-2"))
    moved = tmp_path / "moved"
    moved.mkdir()
    shutil.copy(footage["a"], moved / "a.mp4")
    s = nbedit.Session(tmp_path / "imported")
    s.import_timeline(xml)
    assert sorted(s.media) == ["a", "a-2"] and not any(m.online for m in s.media.values())
    ui = s.ui()
    ui._on_message(ui, {"type": "edit", "op": "relink", "media": "a", "path": str(moved)}, [])
    assert ui.status == "" and s.media["a"].online and not s.media["a-2"].online
