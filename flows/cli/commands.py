"""Registers every command on the `ingest` app."""

from __future__ import annotations

from . import auth, fs, jobs, server, store_commands, web  # noqa: F401  (jobs: submit, runs...)

__all__ = ["auth", "fs", "server", "store_commands", "web"]
