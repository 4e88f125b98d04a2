"""The processor benchmark's own arithmetic and its parsers-alone side."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.bench_processors import _markdown_and_python_ms, run_parsers


def test_markdown_and_python_cost_counts_only_those_files_and_their_share_of_loading() -> None:
    row = {
        "files": 10,
        "load_seconds": 0.010,  # 1 ms per file read, shared out by file count
        "types": {
            ".md": {"files": 3, "seconds": 0.006, "chunks": 9},
            ".py": {"files": 1, "seconds": 0.002, "chunks": 2},
            ".svg": {"files": 6, "seconds": 0.600, "chunks": 60},
        },
    }
    assert _markdown_and_python_ms(row) == pytest.approx((8 + 4) / 4)
    ours = {"files": 2, "types": {"text/markdown": {"files": 2, "seconds": 0.003}}}
    assert _markdown_and_python_ms(ours) == pytest.approx(1.5)


def test_the_parsers_side_decodes_and_parses_every_file_by_its_type(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# Title\n\nSome *text* and [a link](b.md).\n")
    (tmp_path / "b.py").write_text("def f():\n    return 1\n")
    (tmp_path / "c.py").write_text("def broken(:\n")  # a syntax error is parsed, not fatal
    (tmp_path / "d.txt").write_text("plain\n")
    files = sorted(tmp_path.iterdir())
    result = run_parsers(tmp_path, files)
    types = result["types"]
    assert result["files"] == 4
    assert {kind: row["files"] for kind, row in types.items()} == {
        "text/markdown": 1,
        "text/x-python": 2,
        "text/plain": 1,
    }
    assert all(row["seconds"] >= 0 for row in types.values())
