"""Registers every command on the `ingest` app."""

from __future__ import annotations

from . import auth, fs, server, store, submit, web  # noqa: F401  (submit: also runs...)

__all__ = ["auth", "fs", "server", "store", "submit", "web"]
