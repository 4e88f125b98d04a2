"""Source code chunked by symbol: Python read with `ast`, the other languages with
tree-sitter grammars (`code_symbols`); line windows where nothing can be read."""

from __future__ import annotations

import ast
import dataclasses
import itertools
from typing import Any, ClassVar

from ..chunking import ChunkList, line_windows, normalize_newlines, size_limits
from ..content_types import CODE_LANGUAGES
from ..models import FetchedContent, ProcessedDocument
from ..python_source import imported_modules, parse_python
from ._common import build_document, file_name, require_text
from .base import ChunkPolicy
from .code_symbols import Outline, Symbol, outline, sql_statements_outline, walk_symbols
from .languages import detect_language

PYTHON = "text/x-python"
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_SECTIONED = frozenset({"yaml", "toml"})  # one chunk per top-level section, never merged
_SMALL_FRACTION = 4  # a piece under target_chars / 4 is merged with its neighbours


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
            _add_windows(chunks, lines, 1, len(lines), policy, language)
        else:
            metadata["imports"] = found.imports
            metadata["symbols"] = _symbol_list(found.symbols)
            if found.warnings:
                metadata["warnings"] = found.warnings
            chunker = _SymbolChunker(
                chunks, lines, policy, language, merge_symbols=language not in _SECTIONED
            )
            chunker.add(found.symbols, _stem(content))
        return build_document(
            content,
            text=text,
            title=file_name(content) or None,
            metadata=metadata,
            chunks=chunks.chunks,
        )


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
    tree, problem = _parse(text)
    if tree is None:
        metadata["warnings"] = [problem]
        _add_windows(chunks, lines, 1, len(lines), policy, None)
    else:
        symbols = _python_symbols(tree.body, lines, 0, "")
        metadata["imports"] = imported_modules(tree)
        metadata["symbols"] = _symbol_list(symbols)
        docstring = _first_line(ast.get_docstring(tree))
        if docstring:
            metadata["docstring"] = docstring
        # Python keeps every symbol in its own chunk: no merging.
        chunker = _SymbolChunker(chunks, lines, policy, None, merge=False, header_docstrings=False)
        chunker.add(symbols, _stem(content))
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


# -- chunks from symbols -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Piece:
    start: int
    end: int
    symbol: str
    kind: str
    docstring: str | None = None
    is_symbol: bool = False  # a whole definition, not code around definitions
    text: str | None = None  # set on the line windows of something too large


class _SymbolChunker:
    """One chunk per symbol; a symbol over `max_chars` split at its members, then at
    blank lines and lines; the code between symbols kept; small neighbours merged."""

    def __init__(
        self,
        chunks: ChunkList,
        lines: list[str],
        policy: ChunkPolicy,
        language: str | None,
        *,
        merge: bool = True,
        merge_symbols: bool = True,
        header_docstrings: bool = True,
    ) -> None:
        self.chunks = chunks
        self.lines = lines
        self.policy = policy
        self.language = language
        self.merge = merge
        self.merge_symbols = merge_symbols
        self.header_docstrings = header_docstrings
        self.target = min(policy.target_chars, policy.max_chars)
        self.limits = size_limits(policy)
        self._source = "\n".join(lines)
        self._offsets = list(itertools.accumulate([len(line) + 1 for line in lines], initial=0))

    def add(self, symbols: list[Symbol], module: str) -> None:
        pieces = self._plan(symbols, 1, len(self.lines), module, "module")
        for group in self._groups(pieces):
            self._emit(group)

    def _size(self, start: int, end: int) -> int:
        return self._offsets[end] - self._offsets[start - 1] - 1

    def _fits(self, start: int, end: int) -> bool:
        """Lines `start`..`end` are within the maximum size (characters and tokens)."""
        return self.limits.fits(self._source, self._offsets[start - 1], self._offsets[end] - 1)

    def _trim(self, start: int, end: int) -> tuple[int, int]:
        while start <= end and not self.lines[start - 1].strip():
            start += 1
        while end >= start and not self.lines[end - 1].strip():
            end -= 1
        return start, end

    def _plan(
        self, symbols: list[Symbol], first: int, last: int, rest: str, rest_kind: str
    ) -> list[_Piece]:
        pieces: list[_Piece] = []
        cursor = first
        for symbol in symbols:
            start, end = max(symbol.start, cursor), min(symbol.end, last)
            if end < start:  # on lines already taken (`a(){} b(){}` on one line)
                continue
            if start > cursor:
                pieces.extend(self._piece(cursor, start - 1, rest, rest_kind))
            pieces.extend(self._symbol(symbol, start, end))
            cursor = end + 1
        if cursor <= last:
            pieces.extend(self._piece(cursor, last, rest, rest_kind))
        return pieces

    def _symbol(self, symbol: Symbol, start: int, end: int) -> list[_Piece]:
        start, end = self._trim(start, end)
        if start > end:
            return []
        if symbol.children and not self._fits(start, end):
            pieces = self._plan(symbol.children, start, end, symbol.name, symbol.kind)
            if self.header_docstrings and pieces and not pieces[0].is_symbol:
                pieces[0] = dataclasses.replace(pieces[0], docstring=symbol.docstring)
            return pieces
        return self._piece(start, end, symbol.name, symbol.kind, symbol.docstring, True)

    def _piece(
        self,
        start: int,
        end: int,
        name: str,
        kind: str,
        docstring: str | None = None,
        is_symbol: bool = False,
    ) -> list[_Piece]:
        start, end = self._trim(start, end)
        if start > end:
            return []
        if self._fits(start, end):
            return [_Piece(start, end, name, kind, docstring, is_symbol)]
        windows = line_windows(self.lines[start - 1 : end], self.policy, start)
        return [_Piece(a, b, name, kind, docstring, is_symbol, text) for text, a, b in windows]

    def _small(self, piece: _Piece) -> bool:
        return self._size(piece.start, piece.end) < self.target // _SMALL_FRACTION

    def _groups(self, pieces: list[_Piece]) -> list[list[_Piece]]:
        """Neighbours merged while the result stays within the target size, when
        one side is small; two substantial pieces are never merged."""
        groups: list[list[_Piece]] = []
        for piece in pieces:
            group = groups[-1] if groups else None
            if (
                self.merge
                and group is not None
                and piece.text is None
                and group[-1].text is None
                and self.limits.within_target(
                    self._source, self._offsets[group[0].start - 1], self._offsets[piece.end] - 1
                )
                and (self._small(piece) or all(self._small(p) for p in group))
                and (
                    self.merge_symbols or not (piece.is_symbol and any(p.is_symbol for p in group))
                )
            ):
                group.append(piece)
            else:
                groups.append([piece])
        return groups

    def _emit(self, group: list[_Piece]) -> None:
        first, last = group[0], group[-1]
        text = (
            first.text
            if first.text is not None
            else "\n".join(self.lines[first.start - 1 : last.end])
        )
        named = [p for p in group if p.is_symbol] or group
        main = max(named, key=lambda p: self._size(p.start, p.end))
        extra: dict[str, Any] = {"language": self.language} if self.language else {}
        if main.docstring:
            extra["docstring"] = main.docstring
        members = list(dict.fromkeys(p.symbol for p in group if p.is_symbol))
        if len(group) > 1 and members:
            extra["symbols"] = members
        self.chunks.add(
            text,
            extra,
            start_line=first.start,
            end_line=last.end,
            symbol=main.symbol,
            symbol_kind=main.kind,
        )


def _add_windows(
    chunks: ChunkList,
    lines: list[str],
    start: int,
    end: int,
    policy: ChunkPolicy,
    language: str | None,
) -> None:
    extra = {"language": language} if language else None
    for piece, first, last in line_windows(lines[start - 1 : end], policy, start):
        chunks.add(piece, extra, start_line=first, end_line=last)


# -- Python ------------------------------------------------------------------------------


def _parse(text: str) -> tuple[ast.Module | None, str]:
    try:
        return parse_python(text), ""
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


def _python_symbols(
    body: list[ast.stmt], lines: list[str], floor: int, prefix: str
) -> list[Symbol]:
    """Definitions in `body`; the members of classes (methods, nested classes) as
    their children."""
    symbols: list[Symbol] = []
    previous_end = floor
    for stmt in body:
        if isinstance(stmt, _DEFS):
            start = _symbol_start(stmt, previous_end, lines)
            end = stmt.end_lineno or stmt.lineno
            name = prefix + stmt.name
            if isinstance(stmt, ast.ClassDef):
                members = _python_symbols(stmt.body, lines, stmt.lineno, name + ".")
                symbols.append(Symbol(name, "class", start, end, _docstring(stmt), members))
            else:
                kind = "method" if prefix else "function"
                symbols.append(Symbol(name, kind, start, end, _docstring(stmt)))
        previous_end = stmt.end_lineno or stmt.lineno
    return symbols


def _docstring(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> str | None:
    return _first_line(ast.get_docstring(node))


def _first_line(docstring: str | None) -> str | None:
    if not docstring:
        return None
    return docstring.strip().split("\n", 1)[0].strip() or None
