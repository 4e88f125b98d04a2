"""Registers every command on the `ingest` app."""

from __future__ import annotations

from . import fs, store_commands, web

__all__ = ["fs", "store_commands", "web"]
