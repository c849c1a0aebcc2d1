"""The editor at full speed on camera-like footage, in a real JupyterLab in a real headless Chromium.

The footage is made in the test: 1920x1080 at 29.97 fps, one keyframe every 250 frames (what cameras write), with
sound. Once the editor says "proxy ready", the test measures in the page what an editor feels: how long a click on
the ruler takes to show its frame, how many pictures a drag along the ruler shows per second, and what playback
delivers (frames shown and dropped on the audio clock, the picture's offset from the sound). It prints those figures;
it asserts only facts that do not depend on the machine's speed (frames were shown, from the proxy, with sound
scheduled), as a shared 2-core machine makes any timing bound either loose or flaky. bench/playback_1080p.py measures
the kernel's side of the same path with medians of alternated runs.
"""

from __future__ import annotations

import os
import statistics

from browser_helpers import ARTIFACTS, MARKS, PLAY_AND_WAIT, Kernel, open_notebook

pytestmark = MARKS

SECONDS = 6

HD_CELL = f"""
import nbedit
from fractions import Fraction
from nbedit import media
src = media.testsrc('src-hd.mp4', seconds={SECONDS}, fps=Fraction(30000, 1001), size=(1920, 1080), gop=250)
s_hd = nbedit.Session('speed-hd')
s_hd.append(s_hd.import_media(src), track='V1', src_in=0, src_out={SECONDS})
s_hd.append('src-hd', track='A1', src_in=0, src_out={SECONDS})
ui_hd = s_hd.ui()
ui_hd
"""

# Clicks on the ruler at these x offsets (pixels from its left edge), one at a time: the time from the pointerdown
# to the load of the picture it brings (the img's load event), in ms.
CLICKS = """async (xs) => {
  const root = document.querySelector('.nbe-editor');
  const ruler = root.querySelector('.nbe-ruler');
  const img = root.querySelector('.nbe-frame');
  const left = ruler.getBoundingClientRect().left;
  const out = [];
  for (const x of xs) {
    const before = img.dataset.frame;
    const t0 = performance.now();
    const loaded = new Promise((resolve) => {
      const on = () => { if (img.dataset.frame !== before) { img.removeEventListener('load', on); resolve(); } };
      img.addEventListener('load', on);
      setTimeout(() => { img.removeEventListener('load', on); resolve(); }, 5000);
    });
    const at = { clientX: left + x, clientY: ruler.getBoundingClientRect().top + 5, bubbles: true, pointerId: 1 };
    ruler.dispatchEvent(new PointerEvent('pointerdown', at));
    window.dispatchEvent(new PointerEvent('pointerup', at));
    await loaded;
    out.push({ ms: performance.now() - t0, frame: +img.dataset.frame, moved: img.dataset.frame !== before });
    await new Promise((r) => setTimeout(r, 300)); // a user's pace between clicks
  }
  return out;
}"""

# A drag along the ruler: one pointermove per animation frame, `step` pixels each, for `ms`; counts the pictures
# the preview loads (decoded and shown) from the first move until the frame under the pointer at the end has
# arrived, and the frames it was given (a frame that arrives while one decodes waits, and only the newest).
DRAG = """async ([x0, step, ms]) => {
  const root = document.querySelector('.nbe-editor');
  const ruler = root.querySelector('.nbe-ruler');
  const img = root.querySelector('.nbe-frame');
  const box = ruler.getBoundingClientRect();
  const y = box.top + 5;
  let loads = 0;
  const frames = new Set();
  const on = () => { loads += 1; };
  img.addEventListener('load', on);
  let sources = 0;
  const seen = new MutationObserver(() => { sources += 1; frames.add(img.dataset.frame); });
  seen.observe(img, { attributes: true, attributeFilter: ['src'] });
  ruler.dispatchEvent(new PointerEvent('pointerdown', { clientX: box.left + x0, clientY: y, bubbles: true }));
  const t0 = performance.now();
  let x = x0, moves = 0;
  await new Promise((resolve) => {
    const tick = (now) => {
      x += step;
      moves += 1;
      window.dispatchEvent(new PointerEvent('pointermove', { clientX: box.left + x, clientY: y, bubbles: true }));
      if (now - t0 < ms) requestAnimationFrame(tick); else resolve();
    };
    requestAnimationFrame(tick);
  });
  const released = performance.now();
  window.dispatchEvent(new PointerEvent('pointerup', { clientX: box.left + x, clientY: y, bubbles: true }));
  // the last frame asked for arrives last: wait until the loads stop (or 5 s)
  let last = loads, quiet = performance.now();
  while (performance.now() - quiet < 400 && performance.now() - released < 5000) {
    await new Promise((r) => setTimeout(r, 20));
    if (loads !== last) { last = loads; quiet = performance.now(); }
  }
  img.removeEventListener('load', on);
  seen.disconnect();
  const end = quiet;
  const seconds = (end - t0) / 1000;
  return { loads, sources, distinct: frames.size, moves, seconds, lagMs: end - released, frame: +img.dataset.frame };
}"""


def hd_notebook(lab) -> str:
    import nbformat

    nbk = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(HD_CELL)])
    nbk.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nbk, lab["work"] / "speed-hd.ipynb")
    return "speed-hd.ipynb"


def played(label: str, d: dict) -> dict:
    rate, fps, shown, dropped = float(d["playRate"]), float(d["playFps"]), int(d["playShown"]), int(d["playDropped"])
    pct = 100 * dropped / max(1, shown + dropped)
    av = d.get("playAvMs") or "-"
    print(
        f"{label}: {fps:.2f} of {rate:.3f} fps delivered, {shown} shown, {dropped} dropped ({pct:.1f} %), "
        f"audio {d['playAudio']} ({d.get('playSound', 0)} batches), A/V offset mean {av} ms, "
        f"max |{d.get('playAvMaxMs') or '-'}| ms"
    )
    return {"fps": fps, "dropped": pct}


def test_a_1080p_2997_long_gop_source_scrubs_and_plays_through_its_proxy(lab, browser):
    name = hd_notebook(lab)
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    kernel = None
    try:
        open_notebook(page, f"{lab['url']}/lab/tree/{name}")
        page.wait_for_selector(".nbe-frame[data-frame='0']", timeout=300_000)
        page.wait_for_selector(".nbe-proxy[data-state='ready']", timeout=300_000)
        assert page.locator(".nbe-proxy").text_content() == "proxy ready"
        kernel = Kernel(lab, name)
        load = os.getloadavg()

        xs = [120 + (k * 211) % 440 for k in range(15)]  # over the 6 s (480 px at 80 px/s, after the track heads)
        clicks = page.evaluate(CLICKS, xs)
        assert all(c["moved"] for c in clicks), clicks  # every click showed a new frame
        click_ms = statistics.median(c["ms"] for c in clicks)

        drag = page.evaluate(DRAG, [120, 3, 2000])  # from frame 0 on (the track heads take the first 100 px)
        assert drag["distinct"] > 10  # the preview followed the drag
        assert drag["frame"] == kernel.eval("ui_hd.playhead")  # and ended on the frame under the pointer

        page.evaluate(
            "() => document.querySelector('.nbe-editor').dispatchEvent(new KeyboardEvent('keydown', {key: 'Home'}))"
        )
        page.wait_for_function("document.querySelector('.nbe-frame').dataset.frame === '0'", timeout=20_000)
        first = page.evaluate(PLAY_AND_WAIT, [0, " ", 60_000])
        page.evaluate(
            "() => document.querySelector('.nbe-editor').dispatchEvent(new KeyboardEvent('keydown', {key: 'Home'}))"
        )
        page.wait_for_function("document.querySelector('.nbe-frame').dataset.frame === '0'", timeout=20_000)
        second = page.evaluate(PLAY_AND_WAIT, [0, " ", 60_000])
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator(".nbe-editor").first.screenshot(path=str(ARTIFACTS / "speed-1080p.png"))

        print(f"\n1080p 29.97 fps, GOP 250, {SECONDS} s, proxy ready; load average {load[0]:.2f} {load[1]:.2f}")
        print(
            f"click-to-frame: median {click_ms:.1f} ms over {len(clicks)} clicks "
            f"(min {min(c['ms'] for c in clicks):.1f}, max {max(c['ms'] for c in clicks):.1f})"
        )
        print(
            f"drag-scrub: {drag['loads'] / drag['seconds']:.1f} pictures/s ({drag['loads']} pictures of "
            f"{drag['sources']} frames received, "
            f"{drag['distinct']} distinct, {drag['moves']} moves in {drag['seconds']:.2f} s), "
            f"last frame {drag['lagMs']:.0f} ms after the release"
        )
        played("playback, first play", first)
        played("playback, second play", second)
        for d in (first, second):
            assert d["playState"] == "stopped" and int(d["frame"]) == kernel.eval("ui_hd.doc['frames']") - 1
            assert int(d["playShown"]) > 0
            if d["playAudio"] == "on":
                assert int(d["playSound"]) > 0  # the sound was scheduled on the audio clock
        sha = kernel.eval("s_hd.media['src-hd'].info.sha256")
        assert kernel.eval("sorted(ui_hd.preview.proxied)") == [sha]  # the preview read the proxy
    finally:
        if kernel is not None:
            kernel.close()
        page.close()
