"""Playback's kernel side: frames streamed in batches ahead of the front end's clock, with the mixed sound of the
span they cover, through a real Editor on a real Session (nbedit.preview.Playback, the "play" messages)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from widget_helpers import Sent, picture

from nbedit.media import read_counter
from nbedit.render import Compositor, Mixer, Sources


@pytest.fixture
def edit(ab, footage):
    """c1 (a, 2 s) and c2 (b, 2 s) on V1; the tone on A1 for 3 s, a's own sound on A2 for its first second."""
    ab.append("a", track="V1", src_in=0, src_out=2)
    ab.append("b", track="V1", src_in=0.5, src_out=2.5)
    ab.append(ab.import_media(footage["tone"]), track="A1", src_in=0, src_out=3)
    ab.append("a", track="A2", src_in=0, src_out=1)
    return ab


def batches(sent: Sent, token: str) -> list[tuple[dict, list]]:
    return [(m, b) for m, b in sent.got if m.get("type") == "batch" and m.get("token") == token]


def ended(sent: Sent, token: str) -> dict | None:
    return next((m for m, _ in sent.got if m.get("type") == "play_end" and m.get("token") == token), None)


def wait_for(cond, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def pcm_of(msg: dict, buffers: list) -> np.ndarray:
    count = msg["audio"]["count"]
    return np.frombuffer(buffers[-1], "<f4").reshape(2, count)


def play_through(ui, sent: Sent, token: str, start: int, step: int) -> list[tuple[dict, list]]:
    """Play to the end as a front end that shows every frame the moment it arrives."""
    ui._on_message(ui, {"type": "play", "token": token, "from": start, "step": step}, [])
    seen = 0

    def done():
        nonlocal seen
        got = batches(sent, token)
        for m, _ in got[seen:]:
            if m["ks"]:
                ui._on_message(ui, {"type": "play_ack", "token": token, "k": m["ks"][-1]}, [])
        seen = len(got)
        return ended(sent, token) is not None

    wait_for(done)
    return batches(sent, token)


def test_play_streams_every_frame_in_batches_with_the_mixed_sound(edit):
    ui = edit.ui()
    sent = Sent(ui)
    got = play_through(ui, sent, "t1", 10, 1)
    frames = ui.doc["frames"]
    assert frames == 96
    ks = [k for m, _ in got for k in m["ks"]]
    ns = [n for m, _ in got for n in m["ns"]]
    assert ks == list(range(frames - 10)) and ns == list(range(10, frames))  # nothing skipped: the window waits
    assert ended(sent, "t1")["last"] == frames - 11
    assert all(m["count"] == ui.preview.playback.batch for m, _ in got[:-1])
    # each JPEG is the cached preview frame of its timeline frame, the counter of the right source frame on it
    comp = Compositor(edit.timeline, Sources(), size=ui.preview.size)
    for m, bufs in got[::5]:
        for n, jpeg in zip(m["ns"], bufs, strict=False):
            assert ui.preview.jpegs.get(comp.key(n)).tobytes() == jpeg
        img = picture(bufs[0])
        n = m["ns"][0]
        assert read_counter(img) == (n if n < 48 else n - 48 + 12)  # c2 starts half a second into b
    # the sound: contiguous spans, each exactly the real mix of its frames, starting when its first frame shows
    mixer = Mixer(edit.timeline, Sources())
    whole = mixer.samples(mixer._s(10), mixer._s(frames) - mixer._s(10))
    pcm = np.concatenate([pcm_of(m, b) for m, b in got], axis=1)
    assert np.array_equal(pcm, whole)
    for m, bufs in got:
        a = m["audio"]
        assert (a["rate"], a["speed"], a["reverse"]) == (48000, 1, False)
        assert a["sample"] == mixer._s(10 + m["first"]) and a["count"] == 2000 * m["count"]
        assert a["at"] == pytest.approx(m["first"] / 24)
        assert np.array_equal(pcm_of(m, bufs), mixer.samples(a["sample"], a["count"]))
    assert np.abs(whole).max() > 0.1  # really sound
    # the playhead did not move while playing; the view sets it when it stops
    assert ui.playhead == 0


def test_shuttle_backwards_and_fast_with_reversed_and_sped_up_sound(edit):
    ui = edit.ui()
    sent = Sent(ui)
    got = play_through(ui, sent, "back", 80, -2)
    ns = [n for m, _ in got for n in m["ns"]]
    assert ns == list(range(80, -1, -2))
    mixer = Mixer(edit.timeline, Sources())
    for m, bufs in got:
        a = m["audio"]
        assert a["reverse"] and a["speed"] == 2
        expect = mixer.samples(a["sample"], a["count"])[:, ::-1]
        assert np.array_equal(pcm_of(m, bufs), expect)
        # backwards, index k's sound is its frame's span, played from its end
        assert a["sample"] + a["count"] == mixer._s(80 - 2 * m["first"] + 1)
        assert a["at"] == pytest.approx(2000 * 2 * m["first"] / 48000 / 2)
    fast = play_through(ui, sent, "fast", 0, 4)
    assert [n for m, _ in fast for n in m["ns"]] == list(range(0, 96, 4))
    assert all(m["audio"]["count"] == 4 * 2000 * m["count"] for m, _ in fast[:-1])


def test_playback_stays_a_window_ahead_skips_what_the_view_is_past_and_stops_at_once(edit):
    ui = edit.ui()
    sent = Sent(ui)
    ui._on_message(ui, {"type": "play", "token": "w", "from": 0, "step": 1}, [])
    p = ui.preview.playback
    wait_for(lambda: p.made >= p.window)
    time.sleep(0.3)
    assert p.made <= p.window + p.batch + 1 and ended(sent, "w") is None  # waits for the view
    ui._on_message(ui, {"type": "play_ack", "token": "w", "k": 60}, [])  # the view's clock ran past what came
    wait_for(lambda: p.made >= 60 + p.window)
    after = [k for m, _ in batches(sent, "w") for k in m["ks"] if m["first"] >= 60]
    assert after and min(after) > 60 and p.skipped >= 1
    ui._on_message(ui, {"type": "stop", "token": "w"}, [])
    t0 = time.monotonic()
    assert p.wait(5) and time.monotonic() - t0 < 2  # the thread ends within a frame's work
    count = len(batches(sent, "w"))
    time.sleep(0.2)
    assert len(batches(sent, "w")) == count and ended(sent, "w") is None  # nothing more after the stop
    assert ui.preview.playback is None
    # a stale token does nothing; a new play replaces the one before
    ui._on_message(ui, {"type": "play", "token": "x", "from": 0, "step": 1}, [])
    first = ui.preview.playback
    ui._on_message(ui, {"type": "stop", "token": "w"}, [])
    assert ui.preview.playback is first
    ui._on_message(ui, {"type": "play", "token": "y", "from": 50, "step": 1}, [])
    assert first.wait(5) and ui.preview.playback.token == "y"
    ui.close()
    assert ui.preview.playback is None


def test_while_playing_the_main_thread_is_free_and_the_prefetch_keeps_up(edit):
    ui = edit.ui()
    Sent(ui)
    ui.preview.jpegs.clear()
    ui._on_message(ui, {"type": "play", "token": "m", "from": 0, "step": 1}, [])
    t0 = time.perf_counter()
    ui._on_message(ui, {"type": "play_ack", "token": "m", "k": 0}, [])
    assert time.perf_counter() - t0 < 0.05  # messages are answered at once: the work is in threads
    p = ui.preview.playback
    wait_for(lambda: p.made >= p.window)
    assert p.wait(0.01) is False
    ui.stop()
    assert p.wait(5)
    assert len(ui.preview.jpegs) >= p.window  # the frames the stream made are cached, for the next play or scrub


def test_scrubbing_sends_a_snippet_of_the_mix_at_the_playhead(edit):
    ui = edit.ui()
    sent = Sent(ui)
    ui.playhead = 30
    time.sleep(0.2)
    assert not [m for m, _ in sent.got if m["type"] == "scrub_audio"]  # off until a view can play sound
    ui.scrub_audio = True
    ui.playhead = 31
    wait_for(lambda: any(m["type"] == "scrub_audio" for m, _ in sent.got))
    msg, bufs = sent.last("scrub_audio")
    mixer = Mixer(edit.timeline, Sources())
    assert (msg["n"], msg["sample"], msg["count"]) == (31, 31 * 2000, 4000)
    pcm = np.frombuffer(bufs[0], "<f4").reshape(2, 4000)
    assert np.array_equal(pcm, mixer.samples(31 * 2000, 4000))
    assert sent.last("frame")[0]["n"] == 31


def test_a_seek_brings_its_frame_at_once_and_the_playheads_sync_after_it_no_second_one(edit):
    ui = edit.ui()
    sent = Sent(ui)
    ui._on_message(ui, {"type": "seek", "n": 30, "id": 1}, [])
    msg, buffers = sent.got[-1]
    assert (msg["type"], msg["n"], msg["seek"]) == ("frame", 30, 1)
    assert read_counter(picture(buffers[0])) == read_counter(edit.frame(30 / 24))
    frames = len([m for m, _ in sent.got if m["type"] == "frame"])
    ui.playhead = 30  # the view's sync of the trait, after the seek
    assert len([m for m, _ in sent.got if m["type"] == "frame"]) == frames
    ui._on_message(ui, {"type": "seek", "n": 30, "id": 2}, [])  # the sync came first: a few bytes, no picture
    assert sent.got[-1] == ({"type": "seeked", "n": 30, "seek": 2}, [])
    ui.playhead = 40  # a change from a cell (no seek before it) sends its frame as ever
    assert sent.last("frame")[0]["n"] == 40
    ui.close()


def test_while_the_playhead_rests_the_prefetch_goes_on_through_the_next_seconds(edit):
    ui = edit.ui()
    p = ui.preview
    p.linger = 2.0
    ui.playhead = 5
    comp = p._compositor(p._sources, None)
    later = [comp.key(n) for n in range(5 + p.ahead + 1, 5 + 48)]  # beyond the frames around the playhead
    wait_for(lambda: all(p.jpegs.get(k) is not None for k in later))
    assert p.jpegs.get(comp.key(5 + 49)) is None  # and no further than it lingers
    ui.close()
