"""Registers every command on the `ingest` app, in the order `ingest --help` lists them."""

# isort: skip_file
from __future__ import annotations

from . import fs, web, serve, runs, store, auth, submit, server  # noqa: F401

__all__ = ["auth", "fs", "runs", "serve", "server", "store", "submit", "web"]
