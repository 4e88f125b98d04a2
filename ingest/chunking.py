"""Format-neutral chunking: splitting text at paragraph, line, sentence and word
boundaries within character (and optionally token) limits, line windows, overlap
prefixes, token counters, and offset-to-line arithmetic. Chunk ids and the chunk list
live in `chunk_ids` (imported from here too)."""

from __future__ import annotations

import bisect
import functools
import importlib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate, count
from operator import add
from typing import TYPE_CHECKING, Any

from .chunk_ids import ChunkList as ChunkList
from .chunk_ids import chunk_id as chunk_id
from .chunk_ids import location_key as location_key
from .errors import ProcessingError

if TYPE_CHECKING:  # processors import this module; keep the import one-way at runtime
    from .processors.base import ChunkPolicy

Span = tuple[int, int]
TokenCounter = Callable[[str], int]

_SENTENCE_END = re.compile(r"([.!?\u3002\uff01\uff1f]+[\"'\u201d\u2019)\]]*)\s+")
_WORD = re.compile(r"\S+")
# A line is blank when str.isspace() holds for all of it; re's \s is the same set.
_LINE = re.compile(r"^.*\S", re.MULTILINE)
_PARAGRAPH = re.compile(r"^.*\S(?:\n.*\S)*", re.MULTILINE)


def normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def clean_lines(text: str) -> str:
    """Newlines normalised to `\\n`, trailing whitespace of every line removed."""
    return "\n".join(line.rstrip() for line in normalize_newlines(text).split("\n"))


def is_blank(line: str) -> bool:
    return not line or line.isspace()


def line_starts(lines: Sequence[str] | Sequence[bytes]) -> list[int]:
    """Where each line of the lines joined by newlines starts, and one past the end."""
    # starts[i] = the lengths of the lines before i, plus one newline after each; in C.
    return list(map(add, accumulate(map(len, lines), initial=0), count()))


class LineIndex:
    """Maps character offsets of a text to 1-based line numbers, by bisecting the
    offsets where lines start (`starts`, one per line and one past the end)."""

    def __init__(self, text: str, first_line: int = 1) -> None:
        self._index_lines(text.split("\n"), first_line)

    @classmethod
    def of_lines(cls, lines: Sequence[str], first_line: int = 1) -> LineIndex:
        """The index of `"\n".join(lines)`, for a caller that has split it already."""
        index = cls.__new__(cls)
        index._index_lines(lines, first_line)
        return index

    def _index_lines(self, lines: Sequence[str], first_line: int) -> None:
        self.starts = line_starts(lines)
        self._first = first_line - 1

    def line_of(self, offset: int) -> int:
        return self._first + bisect.bisect_right(self.starts, offset)

    def lines_of(self, start: int, end: int) -> tuple[int, int]:
        """Inclusive line range of the non-empty span `text[start:end]`."""
        return self.line_of(start), self.line_of(max(start, end - 1))


def _count_words(text: str) -> int:
    return len(text.split())


_TOKENIZERS: dict[str, TokenCounter] = {"whitespace": _count_words, "chars": len}


@functools.lru_cache(maxsize=16)
def resolve_tokenizer(spec: str) -> TokenCounter:
    """The token counter named by `spec`: 'whitespace' (words), 'chars', or
    'package.module:function' naming a callable that returns the token count of a
    string (how a model's tokenizer is plugged in). ValueError when it cannot be found."""
    if spec in _TOKENIZERS:
        return _TOKENIZERS[spec]
    module_name, colon, attribute = spec.partition(":")
    if not colon or not module_name or not attribute:
        known = ", ".join(repr(name) for name in _TOKENIZERS)
        raise ValueError(f"unknown tokenizer {spec!r}: use {known} or 'package.module:function'")
    try:
        found: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"cannot load tokenizer {spec!r}: {exc}") from exc
    if not callable(found):
        raise ValueError(f"tokenizer {spec!r} is not callable")
    counter: TokenCounter = found
    return counter


@dataclass(frozen=True, slots=True)
class _Limits:
    """The size bounds of a policy; a span fits when it is within every bound."""

    max_chars: int
    target_chars: int
    counter: TokenCounter | None = None
    tokenizer: str = ""
    max_tokens: int = 0
    target_tokens: int = 0

    @classmethod
    def of(cls, policy: ChunkPolicy) -> _Limits:
        if not policy.tokenizer:
            return cls(policy.max_chars, min(policy.target_chars, policy.max_chars))
        return cls(
            policy.max_chars,
            min(policy.target_chars, policy.max_chars),
            resolve_tokenizer(policy.tokenizer),
            policy.tokenizer,
            policy.max_tokens,
            min(policy.target_tokens, policy.max_tokens),
        )

    def tokens(self, text: str) -> int:
        assert self.counter is not None
        try:
            return int(self.counter(text))
        except Exception as exc:  # a plugged-in tokenizer must not break the processor contract
            raise ProcessingError(f"tokenizer {self.tokenizer!r} failed: {exc!r}") from exc

    def fits(self, text: str, start: int, end: int) -> bool:
        if end - start > self.max_chars:
            return False
        return self.counter is None or self.tokens(text[start:end]) <= self.max_tokens

    def within_target(self, text: str, start: int, end: int) -> bool:
        if end - start > self.target_chars:
            return False
        return self.counter is None or self.tokens(text[start:end]) <= self.target_tokens


def fits(text: str, policy: ChunkPolicy) -> bool:
    """True when `text` is within the policy's maximum size (characters and tokens)."""
    return _Limits.of(policy).fits(text, 0, len(text))


def size_limits(policy: ChunkPolicy) -> _Limits:
    """The policy's bounds, resolved once, for a processor that checks many spans."""
    return _Limits.of(policy)


def split_text(text: str, policy: ChunkPolicy) -> list[tuple[str, int]]:
    """Split `text` into pieces of at most `policy.max_chars`, as `(piece, start_offset)`.

    Paragraphs (runs of non-blank lines) are packed up to the target size; a
    paragraph over the maximum is split at lines, then sentences, then
    whitespace, then hard. Every piece is a slice of `text` and together they
    hold every non-whitespace character exactly once, in order.
    """
    return pack_spans(text, _paragraphs(text, 0, len(text)), policy)


def pack_spans(text: str, spans: Iterable[Span], policy: ChunkPolicy) -> list[tuple[str, int]]:
    """Pack consecutive spans of `text` (structural units: paragraphs, Markdown
    blocks...) up to the target size, splitting a span over the maximum like
    `split_text` does; returns `(piece, start_offset)`."""
    limits = _Limits.of(policy)
    packed = _pack(text, _units(text, spans, limits), limits)
    return [(text[start:end], start) for start, end in packed]


def _units(text: str, spans: Iterable[Span], limits: _Limits) -> Iterator[Span]:
    """The spans, each refined at paragraphs, lines... when over the maximum."""
    for span in spans:
        if limits.fits(text, *span):  # the common case, without a nested generator
            yield span
        else:
            yield from _refine(text, span, 0, limits)


def with_overlap(
    text: str, pieces: Sequence[tuple[str, int]], policy: ChunkPolicy
) -> list[tuple[str, int, int]]:
    """Pieces of `text` (as `split_text` gives them) extended backwards by an overlap
    prefix that repeats the end of the previous piece, as `(chunk, start, overlap)`.

    `chunk` is `text[start:...]` and `chunk[overlap:]` is the piece. The prefix has at
    most `policy.overlap_chars` characters, starts at a word when there is one to
    start at, and never takes a chunk over the policy's maximum size.
    """
    limits = _Limits.of(policy)
    result: list[tuple[str, int, int]] = []
    previous_start: int | None = None
    for piece, start in pieces:
        end = start + len(piece)
        cut = start
        budget = min(policy.overlap_chars, limits.max_chars - len(piece))
        if previous_start is not None and budget > 0:
            cut = _overlap_start(text, max(previous_start, start - budget), start)
            while cut < start and not limits.fits(text, cut, end):
                cut = _next_word(text, cut, start)
        result.append((text[cut:end], cut, start - cut))
        previous_start = start
    return result


def _overlap_start(text: str, cut: int, stop: int) -> int:
    if cut > 0 and not text[cut - 1].isspace() and not text[cut].isspace():
        boundary = next((i for i in range(cut, stop) if text[i].isspace()), None)
        if boundary is not None:  # else no word to start at (CJK, hard splits): cut as is
            cut = boundary
    while cut < stop and text[cut].isspace():
        cut += 1
    return cut


def _next_word(text: str, pos: int, stop: int) -> int:
    while pos < stop and not text[pos].isspace():
        pos += 1
    while pos < stop and text[pos].isspace():
        pos += 1
    return pos


def line_windows(
    lines: Sequence[str], policy: ChunkPolicy, first_line: int = 1
) -> list[tuple[str, int, int]]:
    """Windows of whole lines up to the target size, broken preferably at blank
    lines, as `(text, start_line, end_line)`; a line over the maximum is split."""
    text = "\n".join(lines)
    index = LineIndex.of_lines(lines, first_line)
    return source_line_windows(text, index, 0, len(text), size_limits(policy))


def source_line_windows(
    text: str, index: LineIndex, start: int, end: int, limits: _Limits
) -> list[tuple[str, int, int]]:
    """`line_windows` of the lines in `text[start:end]`, for a caller that holds the
    whole text and its line index: `start` is where a line starts, `end` where one
    ends; line numbers are the index's."""
    if limits.counter is None:
        spans = _char_line_windows(text, index.starts, start, end, limits)
    else:
        spans = _pack(text, _line_units(text, start, end, limits), limits)
    windows = []
    for first, last in spans:
        start_line, end_line = index.lines_of(first, last)
        windows.append((text[first:last], start_line, end_line))
    return windows


def _char_line_windows(
    text: str, starts: list[int], start: int, end: int, limits: _Limits
) -> list[Span]:
    """`_pack` of `_line_units` when only characters count, the same spans: the lines of a
    paragraph over the target join a window by bisecting where lines start, not one by
    one (most of a large function is such lines)."""
    windows = _CharWindows(limits.target_chars)
    for paragraph in _paragraphs(text, start, end):
        if paragraph[1] - paragraph[0] <= limits.target_chars:
            windows.add(*paragraph)
            continue
        line = bisect.bisect_right(starts, paragraph[0]) - 1  # it starts where a line does
        last_line = bisect.bisect_right(starts, paragraph[1] - 1) - 1
        while line <= last_line:
            if windows.first is not None:  # the lines up to `reach` end within the target
                limit = windows.first + windows.target
                reach = bisect.bisect_right(starts, limit, line, last_line + 1) - 1
                if reach >= line and _line_end(text, starts, reach, paragraph[1]) > limit:
                    reach -= 1  # it starts within the target and ends past it
                if reach >= line:
                    windows.last = _line_end(text, starts, reach, paragraph[1])
                    line = reach + 1
                    continue
            unit = starts[line], _line_end(text, starts, line, paragraph[1])
            for part in _refine(text, unit, _SENTENCE_LEVEL, limits):
                windows.add(*part)
            line += 1
    return windows.close()


def _line_end(text: str, starts: list[int], line: int, stop: int) -> int:
    """Where the last non-blank character of a non-blank line ends (`_LINE`'s end)."""
    match = _LINE.match(text, starts[line], min(starts[line + 1] - 1, stop))
    assert match is not None
    return match.end()


class _CharWindows:
    """Units merged while the window from the first one stays within `target`
    characters; `_pack` when only characters count."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.packed: list[Span] = []
        self.first: int | None = None  # the open window: first..last
        self.last = 0

    def add(self, start: int, end: int) -> None:
        if self.first is not None and end - self.first <= self.target:
            self.last = end
            return
        self.close()
        self.first, self.last = start, end

    def close(self) -> list[Span]:
        if self.first is not None:
            self.packed.append((self.first, self.last))
            self.first = None
        return self.packed


def _line_units(text: str, start: int, end: int, limits: _Limits) -> Iterator[Span]:
    """Paragraphs within the target; the lines of a larger one, each refined at
    sentences, words and hard cuts when over the maximum."""
    for paragraph in _paragraphs(text, start, end):
        if limits.within_target(text, *paragraph):
            yield paragraph
            continue
        # A paragraph starts where a line starts, where `^` matches in the whole text:
        # its lines are found without a slice or a nested generator (most code is here).
        for match in _LINE.finditer(text, *paragraph):
            line = match.span()
            if limits.fits(text, *line):
                yield line
            else:
                yield from _refine(text, line, _SENTENCE_LEVEL, limits)


def _trim(text: str, start: int, end: int) -> Span:
    # str.strip() removes exactly the characters str.isspace() is true for, in C.
    piece = text[start:end]
    kept = piece.lstrip()
    if not kept:
        return start, start
    return start + len(piece) - len(kept), start + len(piece.rstrip())


# The levels yield their spans one by one: a 10 MB line of short words holds two
# million of them, and only the packed pieces need to be kept.


def _paragraphs(text: str, start: int, end: int) -> Iterator[Span]:
    """Runs of non-blank lines, from the start of their first line (indentation kept)."""
    return _matches(_PARAGRAPH, text, start, end)


def _lines(text: str, start: int, end: int) -> Iterator[Span]:
    """Non-blank lines, from their start, without trailing whitespace."""
    return _matches(_LINE, text, start, end)


def _matches(pattern: re.Pattern[str], text: str, start: int, end: int) -> Iterator[Span]:
    # On a slice: `^` must match at `start`, which need not follow a newline.
    piece = text[start:end] if start or end < len(text) else text
    for match in pattern.finditer(piece):
        yield start + match.start(), start + match.end()


def _sentences(text: str, start: int, end: int) -> Iterator[Span]:
    pos = start
    for match in _SENTENCE_END.finditer(text, start, end):
        span = _trim(text, pos, match.end(1))
        if span[1] > span[0]:
            yield span
        pos = match.end()
    span = _trim(text, pos, end)
    if span[1] > span[0]:
        yield span


def _words(text: str, start: int, end: int) -> Iterator[Span]:
    return (match.span() for match in _WORD.finditer(text, start, end))


_LEVELS: tuple[Callable[[str, int, int], Iterator[Span]], ...] = (
    _paragraphs,
    _lines,
    _sentences,
    _words,
)
_SENTENCE_LEVEL = _LEVELS.index(_sentences)


def _refine(text: str, span: Span, level: int, limits: _Limits) -> Iterator[Span]:
    """`span` if it fits, else its parts at the next finer level that fit."""
    start, end = span
    if limits.fits(text, start, end):
        yield span
    elif level >= len(_LEVELS):
        yield from _hard_split(text, start, end, limits)
    else:
        for part in _LEVELS[level](text, start, end):
            if limits.fits(text, *part):  # the common case, without a nested generator
                yield part
            else:
                yield from _refine(text, part, level + 1, limits)


def _hard_split(text: str, start: int, end: int, limits: _Limits) -> list[Span]:
    step = limits.max_chars
    if limits.counter is None:
        return [(pos, min(pos + step, end)) for pos in range(start, end, step)]
    spans: list[Span] = []
    pos = start
    while pos < end:
        low, high = pos + 1, min(pos + step, end)  # the longest fitting prefix, at least 1
        while low < high:
            middle = (low + high + 1) // 2
            if limits.fits(text, pos, middle):
                low = middle
            else:
                high = middle - 1
        spans.append((pos, low))
        pos = low
    return spans


def _pack(text: str, units: Iterable[Span], limits: _Limits) -> list[Span]:
    """Merge consecutive units while the merged extent stays within the target."""
    if limits.counter is None:
        windows = _CharWindows(limits.target_chars)
        for start, end in units:
            windows.add(start, end)
        return windows.close()
    packed: list[Span] = []
    for start, end in units:
        if packed and limits.within_target(text, packed[-1][0], end):
            packed[-1] = (packed[-1][0], end)
        else:
            packed.append((start, end))
    return packed
