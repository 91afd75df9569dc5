"""`python -m envspec`: the same entry point as the console script."""

from __future__ import annotations

from envspec.cli.main import entrypoint

if __name__ == "__main__":
    entrypoint()
