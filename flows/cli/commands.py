"""Registers every command on the `ingest` app."""

from __future__ import annotations

from . import fs, jobs, store_commands, web  # noqa: F401  (jobs: submit, runs, status...)

__all__ = ["fs", "store_commands", "web"]
