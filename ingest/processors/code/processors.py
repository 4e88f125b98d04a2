"""The code processors: documents and chunks for Python and for every other code language."""

from __future__ import annotations

from typing import Any, ClassVar

from ...chunking import ChunkList, normalize_newlines
from ...content_types import CODE_LANGUAGES
from ...models import FetchedContent, ProcessedDocument
from ...python_source import imported_modules
from .._common import build_document, file_name, require_text
from ..base import ChunkPolicy
from ..languages import detect_language
from .chunker import SymbolChunker, add_line_windows
from .outline import outline
from .python_symbols import docstring_line, parse_module, python_symbols
from .rules.sql import sql_statements_outline
from .symbols import Outline, Symbol, walk_symbols

PYTHON = "text/x-python"
_SECTIONED = frozenset({"yaml", "toml"})  # one chunk per top-level section, never merged


class CodeProcessor:
    """Every code language but Python: symbols from a tree-sitter grammar."""

    name: ClassVar[str] = "code"
    version: ClassVar[str] = "5"  # 5: fixed-format chunk ids
    content_types: ClassVar[tuple[str, ...]] = tuple(t for t in CODE_LANGUAGES if t != PYTHON)

    def process(self, content: FetchedContent, policy: ChunkPolicy) -> ProcessedDocument:
        text = normalize_newlines(require_text(content, self.name))
        language = detect_language(text, content.content_type) or "unknown"
        if language == "python":  # a modeline says so
            return _python_document(content, text, policy)
        lines = text.split("\n")
        chunks = ChunkList(content.item.uri, content.content_type)
        metadata: dict[str, Any] = {"language": language, "line_count": len(lines)}
        found = _outline(language, text, file_name(content))
        if found is None:
            add_line_windows(chunks, lines, 1, len(lines), policy, language)
        else:
            metadata["imports"] = found.imports
            metadata["symbols"] = _symbol_list(found.symbols)
            if found.warnings:
                metadata["warnings"] = found.warnings
            chunker = SymbolChunker(
                chunks, text, lines, policy, language, merge_symbols=language not in _SECTIONED
            )
            chunker.add(found.symbols, _stem(content))
        return _document(content, text, metadata, chunks)


def _outline(language: str, text: str, name: str) -> Outline | None:
    try:
        found = outline(language, text, name)
    except (ValueError, TypeError, RecursionError, MemoryError, UnicodeError) as exc:
        return Outline([], [], [f"cannot read symbols: {type(exc).__name__}: {exc}"])
    if found is None and language == "sql":
        found = sql_statements_outline(text)
        found.warnings.append("no SQL grammar installed: statements split at ';'")
    return found


class PythonProcessor:
    """Python: one chunk per top-level function or class (methods of a large class
    on their own), module-level code in between; line windows when it does not parse."""

    name: ClassVar[str] = "python"
    version: ClassVar[str] = "4"  # 4: fixed-format chunk ids
    content_types: ClassVar[tuple[str, ...]] = (PYTHON,)

    def process(self, content: FetchedContent, policy: ChunkPolicy) -> ProcessedDocument:
        text = normalize_newlines(require_text(content, self.name))
        return _python_document(content, text, policy)


def _python_document(content: FetchedContent, text: str, policy: ChunkPolicy) -> ProcessedDocument:
    lines = text.split("\n")
    chunks = ChunkList(content.item.uri, content.content_type)
    metadata: dict[str, Any] = {"language": "python", "line_count": len(lines)}
    tree, problem = parse_module(text)
    if tree is None:
        metadata["warnings"] = [problem]
        add_line_windows(chunks, lines, 1, len(lines), policy, None)
    else:
        symbols = python_symbols(tree.body, lines, 0, "")
        metadata["imports"] = imported_modules(tree)
        metadata["symbols"] = _symbol_list(symbols)
        docstring = docstring_line(tree)
        if docstring:
            metadata["docstring"] = docstring
        # Python keeps every symbol in its own chunk: no merging.
        chunker = SymbolChunker(
            chunks, text, lines, policy, None, merge=False, header_docstrings=False
        )
        chunker.add(symbols, _stem(content))
    return _document(content, text, metadata, chunks)


def _document(
    content: FetchedContent, text: str, metadata: dict[str, Any], chunks: ChunkList
) -> ProcessedDocument:
    return build_document(
        content,
        text=text,
        title=file_name(content) or None,
        metadata=metadata,
        chunks=chunks.chunks,
    )


def _stem(content: FetchedContent) -> str:
    # Not the file's name: a module `serve.py` may define a function `serve`.
    return "<module>"


def _symbol_list(symbols: list[Symbol]) -> list[dict[str, Any]]:
    return [
        {"name": s.name, "kind": s.kind, "start_line": s.start, "end_line": s.end}
        for s in walk_symbols(symbols)
    ]
