"""Source code: Python chunked by symbol with `ast`, other languages by line windows."""

from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, ClassVar

from ..chunking import ChunkList, line_windows, normalize_newlines
from ..content_types import CODE_LANGUAGES
from ..models import FetchedContent, ProcessedDocument
from ._common import build_document, file_name, require_text
from .base import ChunkPolicy

PYTHON = "text/x-python"
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


class CodeProcessor:
    """Every code language without a dedicated processor: windows of lines."""

    name: ClassVar[str] = "code"
    version: ClassVar[str] = "1"
    content_types: ClassVar[tuple[str, ...]] = tuple(t for t in CODE_LANGUAGES if t != PYTHON)

    def process(self, content: FetchedContent, policy: ChunkPolicy) -> ProcessedDocument:
        text = normalize_newlines(require_text(content, self.name))
        lines = text.split("\n")
        chunks = ChunkList(content.item.uri, content.content_type)
        _add_windows(chunks, lines, 1, len(lines), policy)
        return build_document(
            content,
            text=text,
            title=file_name(content) or None,
            metadata={
                "language": CODE_LANGUAGES.get(content.content_type, "unknown"),
                "line_count": len(lines),
            },
            chunks=chunks.chunks,
        )


@dataclass(frozen=True)
class _Region:
    start: int  # 1-based, inclusive
    end: int
    symbol: str
    kind: str
    node: ast.AST | None = None


class PythonProcessor:
    """Python: one chunk per top-level function or class (methods of a large class
    on their own), module-level code in between; line windows when it does not parse."""

    name: ClassVar[str] = "python"
    version: ClassVar[str] = "1"
    content_types: ClassVar[tuple[str, ...]] = (PYTHON,)

    def process(self, content: FetchedContent, policy: ChunkPolicy) -> ProcessedDocument:
        text = normalize_newlines(require_text(content, self.name))
        lines = text.split("\n")
        chunks = ChunkList(content.item.uri, content.content_type)
        metadata: dict[str, Any] = {"language": "python", "line_count": len(lines)}
        tree, problem = _parse(text)
        if tree is None:
            metadata["warnings"] = [problem]
            _add_windows(chunks, lines, 1, len(lines), policy)
        else:
            module = PurePosixPath(file_name(content)).stem or "<module>"
            regions = _top_level_regions(tree, lines, module)
            metadata["imports"] = _imports(tree)
            metadata["symbols"] = _symbols(regions, lines)
            docstring = _first_line(ast.get_docstring(tree))
            if docstring:
                metadata["docstring"] = docstring
            for region in regions:
                _add_region(chunks, lines, region, policy)
        return build_document(
            content,
            text=text,
            title=file_name(content) or None,
            metadata=metadata,
            chunks=chunks.chunks,
        )


def _parse(text: str) -> tuple[ast.Module | None, str]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes etc. are not our concern
            return ast.parse(text), ""
    except SyntaxError as exc:
        return None, f"syntax error at line {exc.lineno or '?'}: {exc.msg}"
    except (RecursionError, MemoryError, ValueError) as exc:
        return None, f"cannot parse as Python: {type(exc).__name__}: {exc}"


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _symbol_start(node: ast.stmt, floor: int, lines: list[str]) -> int:
    """First line of a definition: its decorators and the comment lines right above."""
    decorators = node.decorator_list if isinstance(node, _DEFS) else []
    start = min([node.lineno, *(d.lineno for d in decorators)])
    while start - 1 > floor and _is_comment(lines[start - 2]):
        start -= 1
    return start


def _regions(
    body: list[ast.stmt],
    lines: list[str],
    first: int,
    last: int,
    kinds: tuple[str, str],
    prefix: str,
    rest: str,
) -> list[_Region]:
    """Definitions in `body` as regions, with the lines between them (from `first`
    to `last`) as regions of kind `kinds[1]` named `rest`."""
    def_kind, rest_kind = kinds
    regions: list[_Region] = []
    cursor = first
    previous_end = first - 1
    for stmt in body:
        if isinstance(stmt, _DEFS):
            start = max(_symbol_start(stmt, previous_end, lines), cursor)
            end = stmt.end_lineno or stmt.lineno
            if start > cursor:
                regions.append(_Region(cursor, start - 1, rest, rest_kind))
            kind = "class" if isinstance(stmt, ast.ClassDef) else def_kind
            regions.append(_Region(start, end, prefix + stmt.name, kind, stmt))
            cursor = end + 1
        previous_end = stmt.end_lineno or stmt.lineno
    if cursor <= last:
        regions.append(_Region(cursor, last, rest, rest_kind))
    return regions


def _top_level_regions(tree: ast.Module, lines: list[str], module: str) -> list[_Region]:
    return _regions(tree.body, lines, 1, len(lines), ("function", "module"), "", module)


def _class_regions(node: ast.ClassDef, lines: list[str], region: _Region) -> list[_Region]:
    prefix = region.symbol + "."
    kinds = ("method", "class")
    return _regions(node.body, lines, region.start, region.end, kinds, prefix, region.symbol)


def _add_region(
    chunks: ChunkList, lines: list[str], region: _Region, policy: ChunkPolicy
) -> None:
    start, end = _trim_blank(lines, region.start, region.end)
    if start > end:
        return
    text = "\n".join(lines[start - 1 : end])
    if isinstance(region.node, ast.ClassDef) and len(text) > policy.max_chars:
        for part in _class_regions(region.node, lines, region):
            _add_region(chunks, lines, part, policy)
        return
    extra: dict[str, Any] = {}
    if isinstance(region.node, _DEFS):
        docstring = _first_line(ast.get_docstring(region.node))
        if docstring:
            extra["docstring"] = docstring
    location = {"symbol": region.symbol, "symbol_kind": region.kind}
    if len(text) <= policy.max_chars:
        chunks.add(text, extra, start_line=start, end_line=end, **location)
        return
    for piece, first, last in line_windows(lines[start - 1 : end], policy, start):
        chunks.add(piece, extra, start_line=first, end_line=last, **location)


def _add_windows(
    chunks: ChunkList, lines: list[str], start: int, end: int, policy: ChunkPolicy
) -> None:
    for piece, first, last in line_windows(lines[start - 1 : end], policy, start):
        chunks.add(piece, start_line=first, end_line=last)


def _trim_blank(lines: list[str], start: int, end: int) -> tuple[int, int]:
    while start <= end and not lines[start - 1].strip():
        start += 1
    while end >= start and not lines[end - 1].strip():
        end -= 1
    return start, end


def _first_line(docstring: str | None) -> str | None:
    if not docstring:
        return None
    return docstring.strip().split("\n", 1)[0].strip() or None


def _imports(tree: ast.Module) -> list[str]:
    found: dict[str, None] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found[alias.name] = None
        elif isinstance(node, ast.ImportFrom):
            found["." * node.level + (node.module or "")] = None
    return list(found)


def _symbols(regions: list[_Region], lines: list[str]) -> list[dict[str, Any]]:
    """Top-level definitions and the methods (and nested classes) of classes."""
    symbols: list[dict[str, Any]] = []
    for region in regions:
        if region.node is None:
            continue
        symbols.append(
            {
                "name": region.symbol,
                "kind": region.kind,
                "start_line": region.start,
                "end_line": region.end,
            }
        )
        if isinstance(region.node, ast.ClassDef):
            members = _class_regions(region.node, lines, region)
            symbols.extend(_symbols([m for m in members if m.node is not None], lines))
    return symbols
