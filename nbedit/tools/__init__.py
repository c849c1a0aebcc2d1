"""The AI editing tools' workers: plain functions over numpy frames, with no Session in sight.

The recorded operations (``s.interpolate``, ``s.reframe``, ``s.mask``, ``s.composite``, ``s.effect``...) live in
``nbedit.ops.tools``; they read frames, call these, and store what comes out as media or as clip metadata.

    keyframes.py    parameter values that change over time: static values or keys, read at any position
    effects.py      the effect stack (transform, crop, color, blur, key, mask, blend) and blend modes
    flow.py         optical flow (OpenCV DIS), warping, forward-backward consistency
    interpolate.py  in-between frames from two frames: flow based and occlusion aware, or a learned model
    detect.py       where the subject is in a frame: faces, a saliency fallback, or a model's heat map
    camera.py       shot boundaries and a smoothed, jitter-free camera path stored as crop keyframes
    masks.py        object masks from a box or points (GrabCut) carried through a clip by optical flow
    video.py        lossless media for the tools' outputs (FFV1 in AVI), output keys and sidecars
    synthetic.py    footage whose truth is known (a moving square or face), and the measures used on it
"""
