"""Smart render against a full re-encode and against the ideal, of an edit of 5-8 s cuts from GOP-30 sources.

    python bench/smart_render.py [--size 1280x720] [--cuts 4] [--repeat 3] [--preset medium] [--no-sound]

The edit alternates three generated 30 fps H.264 sources (GOP 30, two B-frames, with sound), each cut starting
off a keyframe, so every cut leaves GOP fragments to encode. Three sides, alternated, medians:

- full: ``s.render(smart=False)``, every frame decoded, composited and encoded;
- smart: ``s.render(smart=True)``, whole GOPs copied, the rest encoded;
- ideal: raw PyAV doing only the work a smart render cannot avoid: decode (from the keyframe before) and encode
  the frames outside whole copyable GOPs, with the same x264 settings and one encoder (an IDR forced at each
  piece), plus copying the packets of the copied GOPs into a file, plus decoding and encoding the sound.

Targets (issue 13): smart within 1.3x of ideal, at least 4x faster than full. A smart render encodes the sound
on a thread of its own beside the pictures, so it is also compared with the longer of the two parts of the ideal.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.frame import PictureType

import nbedit
from nbedit import media, smart
from nbedit.model import media_entry
from nbedit.render import Compositor, RenderSettings, Sources
from nbedit.timeline import audio_tracks

FPS = 30


def build(tmp: Path, size: tuple[int, int], cuts: int, sound: bool = True) -> nbedit.Session:
    rng = np.random.default_rng(13)
    lengths = rng.uniform(5, 8, cuts)
    seconds = float(lengths.max()) + 3
    paths = [
        media.testsrc(
            tmp / f"src{k}.mp4", seconds=seconds, fps=FPS, size=size, gop=30, variant=k, tone_hz=330 + 110 * k
        )
        for k in range(3)
    ]
    s = nbedit.Session(tmp / "project")
    ids = [s.import_media(p) for p in paths]
    for k, length in enumerate(lengths):
        first = (int(rng.integers(0, 3)) * FPS + int(rng.integers(4, FPS - 4))) / FPS  # never on a keyframe
        s.append(ids[k % 3], src_in=first, src_out=first + round(length * FPS) / FPS, audio="A1" if sound else None)
    return s


def ideal(s: nbedit.Session, out: Path, preset: str) -> tuple[float, float, int, int]:
    """Seconds for the unavoidable work on the pictures and on the sound, frames encoded and frames copied."""
    tl = s.timeline
    fmt = s.format
    settings = RenderSettings(fmt["width"], fmt["height"], Fraction(FPS), 0, s.end_frame(), preset=preset)
    comp = Compositor(tl, Sources())
    pieces, _ = smart.plan(tl, settings, comp)
    shown = [comp.untouched(n) for n in range(s.end_frame())]
    comp.sources.close()
    t0 = time.perf_counter()
    encoded = copied = 0
    with av.open(str(out), "w") as dst:
        template = next(p.stream for p in pieces if p.gop is not None)
        with av.open(template.path) as c:
            v = dst.add_stream_from_template(c.streams.video[0])
        v.time_base = Fraction(1, FPS * 3000)
        sink = []  # encoded pieces' packets are made and dropped: the ideal does not pay for stitching them
        enc = smart.encoder(settings)  # one for all pieces, each begun with a forced IDR, as the smart render does
        fed = 0
        k = 0
        for p in pieces:
            if p.gop is not None:
                with av.open(p.stream.path) as src:
                    vs = src.streams.video[0]
                    src.seek(p.gop.key_dts, stream=vs)
                    got = 0
                    for packet in src.demux(vs):
                        if not packet.size or packet.dts < p.gop.key_dts:  # empty, or before the keyframe
                            continue
                        packet.stream = v
                        packet.pts = (k + p.stream.index_of[packet.pts] - p.gop.first) * 3000
                        packet.dts = (k + got - 2) * 3000
                        packet.time_base = v.time_base
                        dst.mux(packet)
                        got += 1
                        if got == p.end - p.start:
                            break
                copied += got
            else:
                j = p.start
                while j < p.end:  # a piece may span a cut: each source's run decoded from its keyframe before
                    entry, first = shown[j]
                    run = 1
                    while j + run < p.end and shown[j + run] == (entry, first + run):
                        run += 1
                    with av.open(entry["path"]) as src:
                        vs = src.streams.video[0]
                        src.seek(int(vs.start_time + Fraction(first, FPS) / vs.time_base), stream=vs)
                        got = 0
                        for frame in src.decode(vs):
                            if round((frame.pts - vs.start_time) * vs.time_base * FPS) < first:
                                continue
                            frame.pts = fed
                            frame.pict_type = PictureType.I if j + got == p.start else PictureType.NONE
                            sink.extend(enc.encode(frame))
                            fed += 1
                            got += 1
                            if got == run:
                                break
                    if got < run:
                        raise RuntimeError(f"{entry['path']} ended {run - got} frames early")
                    j += got
                    encoded += got
            k = p.end
        sink.extend(enc.encode(None))
    return time.perf_counter() - t0, sound_work(s), encoded, copied


def sound_work(s: nbedit.Session) -> float:
    """Seconds to decode the sound of each cut and encode it as AAC, as any render must."""
    t0 = time.perf_counter()
    enc = av.CodecContext.create("aac", "w")
    enc.sample_rate, enc.layout, enc.format = 48000, "stereo", "fltp"
    enc.bit_rate = 192_000
    pts = 0
    clips = [c for t in audio_tracks(s.timeline) for c in t.find_clips()]
    if not clips:
        return 0.0
    for clip in clips:
        entry = media_entry(s.timeline, clip.metadata["nbedit"]["media"])
        start = clip.source_range.start_time.to_seconds()
        count = round(clip.source_range.duration.to_seconds() * 48000)
        pcm = media.read_audio(entry["path"], rate=48000, channels=2, start=round(start * 48000), count=count)
        for i in range(0, pcm.shape[1], 1024):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(pcm[:, i : i + 1024]), format="fltp", layout="stereo"
            )
            frame.sample_rate, frame.pts = 48000, pts
            pts += frame.samples
            enc.encode(frame)
    enc.encode(None)
    return time.perf_counter() - t0


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="1280x720", help="WIDTHxHEIGHT of the sources and the output")
    parser.add_argument("--cuts", type=int, default=4, help="cuts of 5 to 8 s")
    parser.add_argument("--repeat", type=int, default=3, help="alternate the three sides this many times")
    parser.add_argument("--preset", default="medium", help="x264 preset of the encoded frames (nbedit's default)")
    parser.add_argument("--no-sound", action="store_true", help="cuts of pictures only (the sound costs alike)")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        s = build(tmp, size, args.cuts, sound=not args.no_sound)
        print(f"sources made in {time.perf_counter() - t0:.1f} s")
        runs: dict[str, list[float]] = {"full": [], "smart": [], "ideal": [], "pictures": [], "sound": []}
        loads = []
        for _ in range(args.repeat):  # alternated, so the load on the machine falls on every side alike
            loads.append(os.getloadavg()[0])
            runs["full"].append(
                timed(lambda: s.render(tmp / "full.mp4", smart=False, preset=args.preset, progress=False))
            )
            runs["smart"].append(
                timed(lambda: s.render(tmp / "smart.mp4", smart=True, preset=args.preset, progress=False))
            )
            pictures, sound, encoded, copied = ideal(s, tmp / "ideal.mp4", args.preset)
            runs["ideal"].append(pictures + sound)
            runs["pictures"].append(pictures)
            runs["sound"].append(sound)
            loads.append(os.getloadavg()[0])
        full, fast, best, pictures, sound = (statistics.median(runs[k]) for k in runs)
        frames = s.end_frame()
        print(
            f"{args.cuts} cuts, {frames} frames at {args.size} {FPS} fps, GOP 30, preset {args.preset}: "
            f"{copied} frames copied in whole GOPs, {encoded} encoded; median of {args.repeat}, "
            f"load average {min(loads):.1f} to {max(loads):.1f}"
        )
        print(f"full re-encode  : {full:7.2f} s  ({frames / full:6.1f} frames/s)")
        print(f"smart render    : {fast:7.2f} s  ({frames / fast:6.1f} frames/s)")
        work = f"encode {encoded} frames and copy {copied}: {pictures:.2f} s; the sound: {sound:.2f} s"
        print(f"ideal           : {best:7.2f} s  ({work})")
        print("each run (s):   " + "; ".join(f"{k} " + ", ".join(f"{t:.2f}" for t in runs[k]) for k in runs))
        print(f"full / smart    : {full / fast:7.2f}x  (target at least 4x)")
        print(f"smart / ideal   : {fast / best:7.2f}x  (target at most 1.3x)")
        # a smart render encodes the sound on a thread of its own, beside the pictures: against the longer part
        print(
            f"smart / max(pictures, sound): {fast / max(pictures, sound):.2f}x  (the ideal with the sound overlapped)"
        )


if __name__ == "__main__":
    main()
