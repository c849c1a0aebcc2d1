"""The peer benchmark: one edit built in nbedit and in other tools, rendered side by side.

``edit`` designs the edit and writes its sources; each ``*_side`` module builds and renders it in one tool;
``child`` runs one contender in a process of its own; ``agree`` compares outputs; ``cli`` runs it all.
"""
