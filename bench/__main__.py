"""``python -m bench``: nbedit against other video tools on the same edit (see bench/peers/cli.py)."""

from bench.peers.cli import main

main()
