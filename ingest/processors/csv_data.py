"""CSV and TSV: dialect sniffed, rows rewritten uniformly, chunks of row groups
that each repeat the header line."""

from __future__ import annotations

import csv
import io
from typing import Any, ClassVar

from ..chunking import ChunkList, normalize_newlines, split_text
from ..content_types import CSV
from ..models import FetchedContent, ProcessedDocument
from ._common import build_document, fail, file_name, require_text
from .base import ChunkPolicy

_SAMPLE_CHARS = 16_384
_DELIMITERS = ",;\t|"


class CsvProcessor:
    """The first row is taken as the header; rows may be ragged (validation warns)."""

    name: ClassVar[str] = "csv"
    version: ClassVar[str] = "2"  # 2: fixed-format chunk ids
    content_types: ClassVar[tuple[str, ...]] = (CSV,)

    def process(self, content: FetchedContent, policy: ChunkPolicy) -> ProcessedDocument:
        raw = normalize_newlines(require_text(content, self.name))
        delimiter, quotechar = _dialect(raw, file_name(content))
        try:
            source = io.StringIO(raw, newline="")
            reader = csv.reader(source, delimiter=delimiter, quotechar=quotechar)
            rows = [row for row in reader if row]
            rendered = [_render(row, delimiter, quotechar) for row in rows]
        except csv.Error as exc:
            raise fail(content, self.name, f"invalid CSV: {exc}") from exc

        header, data = (rendered[0], rendered[1:]) if rendered else ("", [])
        chunks = ChunkList(content.item.uri, content.content_type)
        _chunk_rows(header, data, policy, chunks)
        metadata: dict[str, Any] = {
            "columns": rows[0] if rows else [],
            "row_count": len(data),
            "delimiter": delimiter,
        }
        return build_document(
            content,
            text="\n".join(rendered),
            title=None,
            metadata=metadata,
            chunks=chunks.chunks,
        )


def _dialect(raw: str, name: str) -> tuple[str, str]:
    if name.lower().endswith(".tsv"):
        return "\t", '"'
    sample = raw[:_SAMPLE_CHARS]
    if len(raw) > _SAMPLE_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]  # whole lines only
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=_DELIMITERS)
    except csv.Error:
        return ",", '"'
    quotechar = sniffed.quotechar if sniffed.quotechar in ('"', "'") else '"'
    return sniffed.delimiter, quotechar


def _render(row: list[str], delimiter: str, quotechar: str) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, quotechar=quotechar, lineterminator="\n").writerow(row)
    return out.getvalue()[:-1]


def _chunk_rows(header: str, data: list[str], policy: ChunkPolicy, chunks: ChunkList) -> None:
    """Rows are numbered from 1 after the header; lines are lines of the rewritten text."""
    line = header.count("\n") + 2
    if not data or len(header) > policy.max_chars // 2:
        # A header too long to repeat in every chunk gets chunks of its own.
        for piece, start in split_text(header, policy):
            first = header.count("\n", 0, start) + 1
            chunks.add(piece, start_line=first, end_line=first + piece.count("\n"))
        header = ""
    prefix = [header] if header else []
    target = min(policy.target_chars, policy.max_chars)
    group: list[str] = []
    size = len(header)
    first_row = first_line = 0

    def flush(last_row: int, last_line: int) -> None:
        nonlocal size
        if group:
            chunks.add(
                "\n".join([*prefix, *group]),
                start_row=first_row,
                end_row=last_row,
                start_line=first_line,
                end_line=last_line,
            )
            group.clear()
            size = len(header)

    for number, row in enumerate(data, start=1):
        if len(header) + 1 + len(row) > policy.max_chars:
            flush(number - 1, line - 1)
            for piece, start in split_text(row, policy):
                piece_line = line + row.count("\n", 0, start)
                chunks.add(
                    piece,
                    start_row=number,
                    end_row=number,
                    start_line=piece_line,
                    end_line=piece_line + piece.count("\n"),
                )
        else:
            if group and size + 1 + len(row) > target:
                flush(number - 1, line - 1)
            if not group:
                first_row, first_line = number, line
            group.append(row)
            size += 1 + len(row)
        line += row.count("\n") + 1
    flush(len(data), line - 1)
