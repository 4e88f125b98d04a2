"""Registers every command on the `ingest` app."""

from __future__ import annotations

from . import auth, fs, jobs, store_commands, web  # noqa: F401  (jobs: submit, runs, status...)

__all__ = ["auth", "fs", "store_commands", "web"]
