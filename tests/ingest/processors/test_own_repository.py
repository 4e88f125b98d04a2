"""This repository's own Markdown and Python through the processors: every function,
class and method is named by a chunk with its lines, every Markdown chunk has its
heading path. (test_code_processor.py checks the top-level symbols of `ingest/` under
two policies; this covers the whole repository, methods and Markdown.)"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.content_types import MARKDOWN
from ingest.models import ProcessedDocument
from ingest.processors import ChunkPolicy, processor_for

PYTHON = "text/x-python"
REPO = Path(__file__).parents[3]
SKIPPED = {"venv", "samples", "node_modules", "build", "dist", "__pycache__"}
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def repository_files(suffix: str) -> list[Path]:
    return sorted(
        path
        for path in REPO.rglob(f"*{suffix}")
        if not any(
            part in SKIPPED or part.startswith(".") for part in path.relative_to(REPO).parts[:-1]
        )
    )


def process(make_content, path: Path, content_type: str) -> ProcessedDocument:
    relative = path.relative_to(REPO).as_posix()
    content = make_content(path.read_text(encoding="utf-8"), content_type, relative, decode=False)
    return processor_for(content_type).process(content, ChunkPolicy())


def definitions(body: list[ast.stmt], prefix: str = "") -> Iterator[tuple[str, ast.stmt]]:
    """Top-level functions and classes, and the members of classes, qualified."""
    for node in body:
        if isinstance(node, _DEFS):
            name = prefix + node.name
            yield name, node
            if isinstance(node, ast.ClassDef):
                yield from definitions(node.body, name + ".")


def first_lines(node: ast.stmt, lines: list[str]) -> set[int]:
    """Where the definition's chunk may start: its first decorator or `def`, or a
    comment line right above."""
    decorators = node.decorator_list if isinstance(node, _DEFS) else []
    first = min([node.lineno, *(d.lineno for d in decorators)])
    allowed = {first}
    while first > 1 and lines[first - 2].lstrip().startswith("#"):
        first -= 1
        allowed.add(first)
    return allowed


def names(chunk, name: str) -> bool:
    symbol = chunk.metadata.get("symbol", "")
    return (
        symbol == name or symbol.startswith(name + ".") or name in chunk.metadata.get("symbols", ())
    )


PY_FILES = repository_files(".py")
MD_FILES = repository_files(".md")


def test_the_repository_has_files_to_check():
    relative = {path.relative_to(REPO).as_posix() for path in PY_FILES + MD_FILES}
    assert {
        "ingest/chunking.py",
        "tests/ingest/processors/test_own_repository.py",
        "README.md",
    } <= (relative)
    assert not any(part.startswith(".") or part == "samples" for p in relative for part in
                   p.split("/")[:-1])  # fmt: skip


@pytest.mark.parametrize("path", PY_FILES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_function_class_and_method_is_named_with_its_lines(make_content, path):
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    doc = process(make_content, path, PYTHON)
    listed = {s["name"]: (s["start_line"], s["end_line"]) for s in doc.metadata["symbols"]}
    for name, node in definitions(ast.parse(text).body):
        starts = first_lines(node, lines)
        # the document's symbol list has every definition with its exact lines
        assert name in listed, f"{name} not in the symbol list"
        assert listed[name][0] in starts, name
        assert listed[name][1] == node.end_lineno, name
        named = [c for c in doc.chunks if names(c, name)]
        if named:  # its own chunks (a large one in several), together exactly its lines
            assert min(c.metadata["start_line"] for c in named) in starts, name
            assert max(c.metadata["end_line"] for c in named) == node.end_lineno, name
            continue
        # a method of a class kept whole is in the class's chunk
        assert "." in name, f"no chunk names {name}"
        owner = name.rsplit(".", 1)[0]
        holders = [
            c for c in doc.chunks
            if c.metadata.get("symbol") == owner
            and c.metadata["start_line"] <= min(starts)
            and node.end_lineno <= c.metadata["end_line"]
        ]  # fmt: skip
        assert holders, f"no chunk holds {name}"
        chunk_lines = lines[holders[0].metadata["start_line"] - 1 : holders[0].metadata["end_line"]]
        assert holders[0].text == "\n".join(chunk_lines)


@pytest.mark.parametrize("path", MD_FILES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_markdown_file_gives_chunks_with_heading_paths(make_content, path):
    doc = process(make_content, path, MARKDOWN)
    source_lines = path.read_text(encoding="utf-8").replace("\r\n", "\n").split("\n")
    assert doc.chunks
    for chunk in doc.chunks:
        assert isinstance(chunk.metadata["heading_path"], list)
        start, end = chunk.metadata["start_line"], chunk.metadata["end_line"]
        assert chunk.text == "\n".join(source_lines[start - 1 : end]).rstrip()
    for heading in doc.metadata["headings"]:
        at_heading = [c for c in doc.chunks if c.metadata["start_line"] == heading["line"]]
        assert at_heading, f"no chunk starts at heading {heading['text']!r}"
        assert at_heading[0].metadata["heading_path"][-1] == heading["text"]
        assert len(at_heading[0].metadata["heading_path"]) <= heading["level"]
    if doc.metadata["headings"]:
        first = doc.metadata["headings"][0]["line"]
        after = [c for c in doc.chunks if c.metadata["start_line"] >= first]
        assert all(c.metadata["heading_path"] for c in after)
