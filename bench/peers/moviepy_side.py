"""MoviePy 2: subclips placed on a CompositeVideoClip, crossfades with ``CrossFadeIn``, the PiP resized, placed
and made 80 % opaque, the sound a CompositeAudioClip of each cut's own audio, written with ``write_videofile``.

One VideoFileClip per source for V1 and another for the PiP (MoviePy's subclips share their parent's reader,
and a reader asked for two places at once seeks back and forth).
"""

from __future__ import annotations

from pathlib import Path

from moviepy import AudioFileClip, CompositeAudioClip, CompositeVideoClip, VideoFileClip, vfx

from .edit import Spec


def render(spec: Spec, path: Path) -> int:
    fps = spec.fps
    opened = [VideoFileClip(p, audio=False) for p in spec.sources]
    sounds = [AudioFileClip(p) for p in spec.sources]
    layers, audio = [], []
    for k, seg in enumerate(spec.segments):
        head, tail = spec.head(k), spec.tail(k)
        clip = opened[seg.source].subclipped((seg.src_in - head) / fps, (seg.src_in + seg.frames + tail) / fps)
        clip = clip.with_start((seg.start - head) / fps)
        if head:
            clip = clip.with_effects([vfx.CrossFadeIn(spec.fade / fps)])
        layers.append(clip)
        cut = sounds[seg.source].subclipped(seg.src_in / fps, (seg.src_in + seg.frames) / fps)
        audio.append(cut.with_start(seg.start / fps))
    if (p := spec.pip) is not None:
        inset = VideoFileClip(spec.sources[p.source], audio=False)
        opened.append(inset)
        pip = inset.subclipped(p.src_in / fps, (p.src_in + p.frames) / fps).resized(new_size=(p.width, p.height))
        layers.append(pip.with_position((p.x, p.y)).with_opacity(p.opacity).with_start(p.start / fps))
    seconds = spec.frames / fps
    video = CompositeVideoClip(layers, size=(spec.width, spec.height)).with_duration(seconds)
    video = video.with_audio(CompositeAudioClip(audio).with_duration(seconds))
    video.write_videofile(
        str(path), fps=fps, codec="libx264", preset="veryfast", audio_codec="aac", audio_bitrate="192k",
        audio_fps=48000, ffmpeg_params=["-crf", "18", "-x264-params", "mbtree=0", "-g", str(2 * fps)],
        temp_audiofile_path=str(path.parent), logger=None,
    )  # fmt: skip
    for clip in opened + sounds:
        clip.close()
    return spec.frames
