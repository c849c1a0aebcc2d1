"""movis: a Composition with one Video layer per cut (offset, start and end times), crossfades as an opacity
keyframe ramp on the incoming cut, the PiP scaled, placed and at opacity 0.8, the sound from Audio layers.

One Video layer object per source for V1 and another for the PiP, as for MoviePy.
"""

from __future__ import annotations

import os
from pathlib import Path

import movis as mv

from .edit import Spec


def ffmpeg_on_path(folder: Path) -> None:
    """movis reads sound through librosa and audioread, which runs an ``ffmpeg`` it finds on PATH: imageio-ffmpeg's."""
    import imageio_ffmpeg

    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "ffmpeg"
    if not link.exists():
        link.symlink_to(imageio_ffmpeg.get_ffmpeg_exe())
    os.environ["PATH"] = f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"


def render(spec: Spec, path: Path) -> int:
    fps = spec.fps
    ffmpeg_on_path(path.parent / "movis-bin")
    scene = mv.layer.Composition(size=(spec.width, spec.height), duration=spec.frames / fps)
    videos = [mv.layer.Video(p, audio=False) for p in spec.sources]
    sounds = [mv.layer.Audio(p) for p in spec.sources]
    centre = (spec.width / 2, spec.height / 2)
    for k, seg in enumerate(spec.segments):
        head, tail = spec.head(k), spec.tail(k)
        offset = (seg.start - seg.src_in) / fps  # composition time minus source time
        item = scene.add_layer(
            videos[seg.source], position=centre, offset=offset,
            start_time=(seg.src_in - head) / fps, end_time=(seg.src_in + seg.frames + tail) / fps,
        )  # fmt: skip
        if head:  # keyframes are in the layer's (source) time
            t0 = (seg.src_in - head) / fps
            item.opacity.enable_motion().extend([t0, t0 + spec.fade / fps], [0.0, 1.0])
        scene.add_layer(
            sounds[seg.source], offset=offset, start_time=seg.src_in / fps, end_time=(seg.src_in + seg.frames) / fps
        )
    if (p := spec.pip) is not None:
        inset = mv.layer.Video(spec.sources[p.source], audio=False)
        scene.add_layer(
            inset, position=(p.x + p.width / 2, p.y + p.height / 2), scale=p.width / spec.width, opacity=p.opacity,
            offset=(p.start - p.src_in) / fps, start_time=p.src_in / fps, end_time=(p.src_in + p.frames) / fps,
        )  # fmt: skip
    scene.write_video(
        str(path), fps=fps, codec="libx264", audio_codec="aac",
        output_params=["-crf", "18", "-preset", "veryfast", "-x264-params", "mbtree=0", "-g", str(2 * fps),
                       "-b:a", "192k"],
    )  # fmt: skip
    return spec.frames
