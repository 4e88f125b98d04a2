"""Documents through the real `ingest fs` and `ingest export` CLI: the chunks are exported
with their locations; a second run reads none of them; editing one makes it the only
`updated` item."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.documents import (
    make_docx,
    make_epub,
    make_pdf,
    make_pptx,
    make_xlsx,
)

pytestmark = pytest.mark.prefect


def _ingest(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-c", "from cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def _fs(root: Path, store: Path, env: dict[str, str]) -> dict[str, Any]:
    done = _ingest("fs", str(root), "--store", str(store), "--json", env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def test_documents_through_fs_and_export(prefect_api: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PREFECT_API_URL": prefect_api,
        "INGEST_HOME": str(tmp_path / "home"),
        "INGEST_RESULTS_DIR": str(tmp_path / "results"),
    }
    env.pop("INGEST_STORE", None)
    root = tmp_path / "docs"
    root.mkdir()
    files = {
        "handbook.pdf": make_pdf(),
        "manual.docx": make_docx(),
        "deck.pptx": make_pptx(),
        "book.xlsx": make_xlsx(),
        "story.epub": make_epub(),
    }
    for name, data in files.items():
        (root / name).write_bytes(data)
    store = tmp_path / "store.db"

    first = _fs(root, store, env)
    assert first["counts"]["new"] == 5, first
    out = tmp_path / "export.jsonl"
    exported = _ingest("export", "--format", "jsonl", "--out", str(out), "--store", str(store),
                       env=env)  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    records = {Path(r["uri"]).name: r for r in map(json.loads, out.read_text().splitlines())}
    assert set(records) == set(files)

    def chunks(name: str, *keys: str) -> list[tuple[Any, ...]]:
        return [
            (c["text"].split("\n", 1)[0], *(c["metadata"].get(k) for k in keys))
            for c in records[name]["chunks"]
        ]

    assert chunks("handbook.pdf", "page_start", "page_end", "heading_path") == [
        ("Introduction", 1, 1, ["Introduction"]),
        ("Installation", 2, 2, ["Installation"]),
        ("Requirements", 3, 3, ["Installation", "Requirements"]),
        ("Usage", 4, 4, ["Usage"]),
    ]
    assert [c[1][-1] for c in chunks("manual.docx", "heading_path")] == [
        "Operations Manual", "Getting started", "Prerequisites", "Maintenance",
    ]  # fmt: skip
    assert chunks("deck.pptx", "slide") == [("Quarterly review", 1), ("Next steps", 2)]
    assert chunks("book.xlsx", "sheet", "cell_range") == [
        ("Item | Qty | Price", "Inventory", "A1:C4"),
        ("free text only", "Notes", "A1:A2"),
    ]
    assert chunks("story.epub", "chapter", "chapter_title") == [
        ("The Beginning", 1, "The Beginning"),
        ("The Storm", 2, "The Storm"),
    ]
    assert records["handbook.pdf"]["metadata"]["page_count"] == 4

    second = _fs(root, store, env)
    assert second["counts"]["unchanged"] == 5, second
    assert second["phases"].get("fetch", {}).get("items", 0) == 0, "nothing is read again"

    (root / "deck.pptx").write_bytes(make_pptx([("Changed deck", ["New body."], "")]))
    third = _fs(root, store, env)
    assert (third["counts"]["updated"], third["counts"]["unchanged"]) == (1, 4), third
    exported = _ingest("export", "--format", "jsonl", "--out", str(out), "--store", str(store),
                       env=env)  # fmt: skip
    updated = [r for r in map(json.loads, out.read_text().splitlines()) if "deck" in r["uri"]]
    assert updated[0]["chunks"][0]["metadata"]["slide_title"] == "Changed deck"
