"""Chunks from symbols: one per definition, large ones split, small neighbours merged."""

from __future__ import annotations

from typing import Any, NamedTuple

from ...chunking import ChunkList, LineIndex, line_windows, size_limits, source_line_windows
from ..base import ChunkPolicy
from .symbols import Symbol

_SMALL_FRACTION = 4  # a piece under target_chars / 4 is merged with its neighbours


class _Piece(NamedTuple):
    start: int
    end: int
    symbol: str
    kind: str
    docstring: str | None = None
    is_symbol: bool = False  # a whole definition, not code around definitions
    text: str | None = None  # set on the line windows of something too large


class SymbolChunker:
    """One chunk per symbol; a symbol over `max_chars` split at its members, then at
    blank lines and lines; the code between symbols kept; small neighbours merged."""

    def __init__(
        self,
        chunks: ChunkList,
        source: str,
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
        self._source = source  # "\n".join(lines)
        self._index = LineIndex.of_lines(lines)
        self._offsets = self._index.starts

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
                pieces[0] = pieces[0]._replace(docstring=symbol.docstring)
            return pieces
        return self._sized(start, end, symbol.name, symbol.kind, symbol.docstring, True)

    def _piece(self, start: int, end: int, name: str, kind: str) -> list[_Piece]:
        """Code between definitions, trimmed of blank lines."""
        start, end = self._trim(start, end)
        if start > end:
            return []
        return self._sized(start, end, name, kind, None, False)

    def _sized(
        self, start: int, end: int, name: str, kind: str, docstring: str | None, is_symbol: bool
    ) -> list[_Piece]:
        """Trimmed lines `start`..`end`: one piece when they fit, else their line windows."""
        if self._fits(start, end):
            return [_Piece(start, end, name, kind, docstring, is_symbol)]
        span = self._offsets[start - 1], self._offsets[end] - 1
        windows = source_line_windows(self._source, self._index, *span, self.limits)
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
        if first.text is not None:
            text = first.text
        else:
            text = self._source[self._offsets[first.start - 1] : self._offsets[last.end] - 1]
        main = first if len(group) == 1 else self._main(group)
        extra: dict[str, Any] = {"language": self.language} if self.language else {}
        if main.docstring:
            extra["docstring"] = main.docstring
        if len(group) > 1:
            members = list(dict.fromkeys(p.symbol for p in group if p.is_symbol))
            if members:
                extra["symbols"] = members
        self.chunks.add(
            text,
            extra,
            start_line=first.start,
            end_line=last.end,
            symbol=main.symbol,
            symbol_kind=main.kind,
        )

    def _main(self, group: list[_Piece]) -> _Piece:
        """The piece a merged chunk is named after: its largest definition."""
        named = [p for p in group if p.is_symbol] or group
        return max(named, key=lambda p: self._size(p.start, p.end))


def add_line_windows(
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
