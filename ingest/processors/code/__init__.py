"""Source code processors: Python through `ast`, other languages through tree-sitter."""

from __future__ import annotations

from .processors import CodeProcessor, PythonProcessor

__all__ = ["CodeProcessor", "PythonProcessor"]
