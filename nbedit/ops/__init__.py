"""The operations: plain functions over an edit context (``context.Edit``), one module per family.

    context.py    Edit, Change and run(): the one mechanism (atomic, checked, journaled, recorded, undoable)
    edit.py       the NLE edits and the track surgery they share
    derived.py    media an operation makes (key -> file -> sidecar -> pool entry -> reuse on replay)
    graph.py      the compositing graph: effects, blend modes, keys, composite
    tools.py      the AI editing tools: interpolate, reframe, mask
    generate.py   generative clips (and generate_support.py)
"""
