"""CSV and TSV: the dialect is sniffed from the first 64 KB, then every row is read and
compared with the header's field count. Rows are counted from 1, the header being row 1.
When the policy maps the item to a table schema (`table_schema`), the header's columns
and the values' types are checked too.

Codes: error ``malformed-csv``; warnings ``no-header``, ``ragged-row``; with a table
schema, errors ``missing-column``, ``unexpected-column``, ``duplicate-column`` and warning
``bad-value``.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from typing import ClassVar

from ..content_types import CSV
from ..models import FetchedContent, ValidationIssue, ValidationResult
from .base import issues_past_cap
from .policy import PolicyValidator
from .table_schema import load_table_schema
from .text import no_text

TSV = "text/tab-separated-values"
SAMPLE_CHARS = 64 * 1024
MAX_RAGGED = 50
_DELIMITERS = ",;\t|"

Dialect = type[csv.Dialect] | csv.Dialect


class _Sniffer(csv.Sniffer):
    """A linear-time sniffer: the stdlib's quote-guessing regexes backtrack
    quadratically (a 64 KB sample of `,"a` takes many seconds), so the delimiter is
    the candidate that splits the sample's rows most consistently into 2+ fields.
    `has_header` calls `sniff`, so it gets this one too."""

    def __init__(self, delimiters: str) -> None:
        super().__init__()
        self.delimiters = delimiters

    def sniff(self, sample: str, delimiters: str | None = None) -> type[csv.Dialect]:
        best: tuple[float, int, str] | None = None
        for delimiter in delimiters or self.delimiters:
            reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
            widths = Counter(len(row) for row in reader if row)
            if not widths:
                continue
            width, rows = widths.most_common(1)[0]
            score = (rows / widths.total(), width, delimiter)
            if width > 1 and (best is None or score > best):
                best = score
        if best is None:
            raise csv.Error("Could not determine delimiter")
        return type("sniffed", (csv.excel,), {"delimiter": best[2]})


def sample_of(text: str) -> str:
    """The first 64 KB, cut after a whole line when there is one."""
    if len(text) <= SAMPLE_CHARS:
        return text
    cut = text.rfind("\n", 0, SAMPLE_CHARS)
    return text[: cut + 1] if cut > 0 else text[:SAMPLE_CHARS]


def sniff(sample: str, tabs: bool) -> tuple[Dialect, bool | None]:
    """Dialect (excel-tab for TSV, excel when sniffing fails) and whether there is a
    header (None when the sniffer cannot tell)."""
    sniffer = _Sniffer("\t" if tabs else _DELIMITERS)
    dialect: Dialect = csv.excel_tab
    if not tabs:
        try:
            dialect = sniffer.sniff(sample)
        except csv.Error:
            dialect = csv.excel
    try:
        return dialect, sniffer.has_header(sample)
    except csv.Error:
        return dialect, None


def _is_tsv(content: FetchedContent) -> bool:
    name = (content.item.path or content.item.uri).lower()
    return content.content_type.split(";", 1)[0].strip() == TSV or name.endswith(".tsv")


class CsvValidator(PolicyValidator):
    name: ClassVar[str] = "csv"
    content_types: ClassVar[tuple[str, ...]] = (CSV, TSV)

    def validate(self, content: FetchedContent) -> ValidationResult:
        text = content.text
        if text is None or content.is_binary:
            return ValidationResult(errors=[no_text(content)])
        dialect, has_header = sniff(sample_of(text), _is_tsv(content))
        warnings: list[ValidationIssue] = []
        if has_header is False:
            warnings.append(
                ValidationIssue(
                    code="no-header",
                    message="the first row does not look like a header",
                    location="row 1",
                )
            )

        schema_path = self.policy.schema_path_for(content.item, "table-schema")
        table = load_table_schema(schema_path) if schema_path is not None else None
        header: list[str] = []
        header_row = 1
        typed: dict[int, str] = {}
        rows: list[int] = []  # the rows whose typed cells are collected, in order
        cells: dict[str, list[str]] = {}

        reader = csv.reader(io.StringIO(text, newline=""), dialect)
        row, width, ragged = 0, -1, 0
        try:
            for fields in reader:
                row += 1
                if not fields:
                    continue  # a blank line
                if width < 0:
                    width = len(fields)
                    if table is not None:
                        header, header_row = _names(fields), row
                        typed = table.typed_fields(header)
                        cells = {name: [] for name in typed.values()}
                elif len(fields) == width:
                    if typed:
                        rows.append(row)
                        for index, name in typed.items():
                            cells[name].append(fields[index])
                else:
                    ragged += 1
                    if ragged <= MAX_RAGGED:
                        warnings.append(
                            ValidationIssue(
                                code="ragged-row",
                                message=f"{len(fields)} fields, the header has {width}",
                                location=f"row {row}",
                            )
                        )
        except csv.Error as exc:
            return ValidationResult(
                errors=[
                    ValidationIssue(
                        code="malformed-csv", message=str(exc), location=f"row {row + 1}"
                    )
                ],
                warnings=warnings,
            )
        warnings += issues_past_cap(ragged, MAX_RAGGED, "ragged-row", "ragged rows")
        if table is None:
            return ValidationResult(warnings=warnings)
        return ValidationResult(
            errors=table.header_issues(header, header_row),
            warnings=warnings + table.value_issues(rows, cells),
        )


def _names(header: list[str]) -> list[str]:
    """Header names as a table schema compares them: trimmed, without a byte order mark."""
    names = [name.strip() for name in header]
    names[0] = names[0].removeprefix("\ufeff").strip()
    return names
