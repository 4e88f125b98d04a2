"""Source code processors: Python read with `ast`, the other languages with
tree-sitter grammars and per-family symbol rules (`rules/`)."""

from __future__ import annotations

from .processors import CodeProcessor, PythonProcessor

__all__ = ["CodeProcessor", "PythonProcessor"]
