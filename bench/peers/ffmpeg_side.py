"""The ffmpeg CLI (imageio-ffmpeg's binary) with the filter graph an expert writes for the edit.

One input per cut, seeked on input (``-ss`` before ``-i``: fast, and frame-exact when transcoding), trimmed to its
frame count; runs of hard cuts joined with ``concat``, crossfades with ``xfade`` (its offset is where the fade
starts on the timeline, the cut minus the frames before it); the PiP scaled with ``scale``, made 80 % opaque
with ``colorchannelmixer`` and laid over with ``overlay``; sound cut with ``atrim`` and joined with ``concat``.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from .edit import Spec


def binary() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def command(spec: Spec, path: Path) -> list[str]:
    fps = spec.fps

    def at(frame: float) -> str:
        return f"{frame / fps:.6f}"

    inputs: list[str] = []
    graph: list[str] = []
    for k, seg in enumerate(spec.segments):
        head, tail = spec.head(k), spec.tail(k)
        # half a frame early: the frame wanted is then the first at or after the seek point, whatever the rounding
        inputs += ["-ss", at(seg.src_in - head - 0.5), "-i", spec.sources[seg.source]]
        graph.append(f"[{k}:v]trim=end_frame={head + seg.frames + tail},setpts=PTS-STARTPTS[v{k}]")
        graph.append(f"[{k}:a]atrim=start={at(head + 0.5)}:duration={at(seg.frames)},asetpts=PTS-STARTPTS[a{k}]")
    # runs of hard cuts, each one concat; crossfades join the runs
    runs, run = [], [0]
    for k in range(1, len(spec.segments)):
        if k - 1 in spec.crossfades:
            runs.append(run)
            run = []
        run.append(k)
    runs.append(run)
    names = []
    for r, ks in enumerate(runs):
        if len(ks) == 1:
            names.append(f"v{ks[0]}")
        else:
            graph.append(f"{''.join(f'[v{k}]' for k in ks)}concat=n={len(ks)}:v=1:a=0[run{r}]")
            names.append(f"run{r}")
    main = names[0]
    for r in range(1, len(runs)):
        cut = spec.segments[runs[r][0]].start
        out = f"x{r}"
        graph.append(
            f"[{main}][{names[r]}]xfade=transition=fade:duration={at(spec.fade)}:offset={at(cut - spec.before)}[{out}]"
        )
        main = out
    if (p := spec.pip) is not None:
        k = len(spec.segments)
        inputs += ["-ss", at(p.src_in - 0.5), "-i", spec.sources[p.source]]
        graph.append(
            f"[{k}:v]trim=end_frame={p.frames},setpts=PTS-STARTPTS+{at(p.start)}/TB,"
            f"scale={p.width}:{p.height}:flags=bicubic,format=rgba,colorchannelmixer=aa={p.opacity}[pip]"
        )
        graph.append(f"[{main}][pip]overlay=x={p.x}:y={p.y}:eof_action=pass,format=yuv420p[vout]")
    else:
        graph.append(f"[{main}]format=yuv420p[vout]")
    graph.append(f"{''.join(f'[a{k}]' for k in range(len(spec.segments)))}concat=n={len(spec.segments)}:v=0:a=1[aout]")
    return [
        binary(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *inputs,
        "-filter_complex", ";".join(graph),
        "-map", "[vout]", "-map", "[aout]", "-frames:v", str(spec.frames), "-r", str(fps),
        "-c:v", "libx264", "-crf", "18", "-preset", "veryfast", "-x264-params", "mbtree=0", "-g", str(2 * fps),
        "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "192k", "-ar", "48000", str(path),
    ]  # fmt: skip


def render(spec: Spec, path: Path) -> dict:
    """Run the graph; ffmpeg's own peak RSS comes from wait4 (the Python around it is not counted)."""
    proc = subprocess.Popen(command(spec, path), stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"ffmpeg failed ({proc.returncode}): {err[-2000:]}")
    return {"frames": spec.frames, "tool_peak_rss": usage.ru_maxrss * 1024}
