"""Where the repository and its sample corpus are (importable without re-running the
session set-up in tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLES = REPO_ROOT / "samples" / "corpus"
