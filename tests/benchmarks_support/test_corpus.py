"""The benchmark corpus generator is deterministic and has the promised mix."""

from __future__ import annotations

import ast
import json
from collections import Counter
from pathlib import Path

from benchmarks.corpus import FILES_PER_FOLDER, generate_corpus
from ingest.decoding import decode_bytes


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    generate_corpus(tmp_path / "a", 300, seed=7)
    generate_corpus(tmp_path / "b", 300, seed=7)
    generate_corpus(tmp_path / "c", 300, seed=8)
    first = snapshot(tmp_path / "a")
    assert len(first) == 300
    assert first == snapshot(tmp_path / "b")
    assert first != snapshot(tmp_path / "c")


def test_mix_sizes_and_folders(tmp_path: Path) -> None:
    generate_corpus(tmp_path, 1000)
    files = snapshot(tmp_path)
    kinds = Counter(name.rsplit("/", 1)[1].split("-", 1)[0] for name in files)
    assert kinds == {
        "markdown": 350,
        "python": 300,
        "text": 150,
        "json": 100,
        "csv": 50,
        "code": 30,
        "binary": 20,
    }

    folders = Counter(name.rsplit("/", 1)[0] for name in files)
    assert max(folders.values()) <= FILES_PER_FOLDER
    assert {folder.count("/") for folder in folders} == {1, 2}

    for name, data in files.items():
        kind = name.rsplit("/", 1)[1].split("-", 1)[0]
        if kind == "markdown":
            assert 1024 <= len(data) <= 10 * 1024, name
            assert data.startswith((b"# ", b"---\n"))
        elif kind == "python":
            assert 1024 <= len(data) <= 12 * 1024, name
            ast.parse(data)
        elif kind == "json":
            json.loads(data)
        elif kind == "binary":
            assert name.endswith((".md", ".txt", ".json"))
            assert decode_bytes(data).is_binary
