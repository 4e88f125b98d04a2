"""Table schemas for CSV and TSV: the columns a table must or may have, and the type of
their values, checked with pandas. The policy maps items to a table schema file by glob.

A table schema is a JSON object with a top-level ``columns`` key::

    {
      "columns": {"id": "integer", "price": "number", "name": "string",
                  "active": "boolean", "day": "date", "updated": "datetime"},
      "required": ["id", "price"],
      "allow_extra": false
    }

- ``columns`` (required): each expected column by header name, with its type: ``string``
  (anything), ``integer`` (digits with an optional sign), ``number`` (an integer or a
  decimal or scientific number, what ``pandas.to_numeric`` reads), ``boolean`` (true/false,
  t/f, yes/no, y/n, 1/0, in any case), ``date`` (YYYY-MM-DD) or ``datetime`` (ISO 8601,
  with or without a time zone).
- ``required``: the columns that must be present; default: every column of ``columns``.
- ``allow_extra``: whether the header may have columns not in ``columns``; default false.
- ``description``: free text, ignored.

Header names are compared after trimming spaces. Empty cells are missing values, accepted
in a column of any type. Ragged rows (already warned about) are not type-checked.

Codes: errors ``missing-column``, ``unexpected-column``, ``duplicate-column`` (a header
problem rejects the item); warning ``bad-value`` (a row problem, like ``ragged-row``: row,
column and value, the first 50 listed and the rest counted).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from ..errors import ConfigurationError
from ..models import ValidationIssue
from .base import issues_past_cap

if TYPE_CHECKING:
    import pandas as pd

ColumnType = Literal["string", "integer", "number", "boolean", "date", "datetime"]
COLUMN_TYPES: tuple[ColumnType, ...] = (
    "string",
    "integer",
    "number",
    "boolean",
    "date",
    "datetime",
)
MAX_BAD_VALUES = 50
MAX_NAMES_SHOWN = 20
_SHOWN_CHARS = 40
_BOOLEANS = frozenset({"true", "false", "t", "f", "yes", "no", "y", "n", "1", "0"})
_EXPECTED: dict[ColumnType, str] = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean (true/false, yes/no, 1/0)",
    "date": "a date (YYYY-MM-DD)",
    "datetime": "an ISO 8601 datetime",
}

# The format of a table schema file, so a mistake in one is reported with its place.
FORMAT: dict[str, Any] = {
    "type": "object",
    "required": ["columns"],
    "additionalProperties": False,
    "properties": {
        "columns": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {"enum": list(COLUMN_TYPES)},
        },
        "required": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        "allow_extra": {"type": "boolean"},
        "description": {"type": "string"},
    },
}
_FORMAT_CHECK = Draft202012Validator(FORMAT)


def _pointer(parts: Sequence[str | int]) -> str:
    return "/" + "/".join(str(part) for part in parts)


def _shown(value: str) -> str:
    return repr(value if len(value) <= _SHOWN_CHARS else value[:_SHOWN_CHARS] + "...")


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(map(repr, names[:MAX_NAMES_SHOWN]))
    more = len(names) - MAX_NAMES_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def _valid_mask(values: pd.Series, kind: ColumnType) -> pd.Series:
    """True where a (trimmed, non-empty) cell is a value of `kind`."""
    import pandas as pd

    if kind == "integer":
        return values.str.fullmatch(r"[+-]?\d+")
    if kind == "number":
        return pd.to_numeric(values, errors="coerce").notna()
    if kind == "boolean":
        return values.str.lower().isin(_BOOLEANS)
    if kind == "date":
        return pd.to_datetime(values, format="%Y-%m-%d", errors="coerce").notna()
    if kind == "datetime":
        return pd.to_datetime(values, format="ISO8601", errors="coerce", utc=True).notna()
    return pd.Series(True, index=values.index)


@dataclass(frozen=True)
class TableSchema:
    """A loaded, checked table schema."""

    path: str
    columns: dict[str, ColumnType]
    required: tuple[str, ...]
    allow_extra: bool

    def header_issues(self, header: Sequence[str], row: int = 1) -> list[ValidationIssue]:
        """Missing, unexpected and repeated columns of a header (names already trimmed)."""
        location = f"row {row}"
        issues = [
            ValidationIssue(
                code="missing-column",
                message=f"required column {name!r} is missing",
                location=location,
            )
            for name in self.required
            if name not in header
        ]
        repeated = [n for n, count in Counter(header).items() if count > 1 and n in self.columns]
        if repeated:
            issues.append(
                ValidationIssue(
                    code="duplicate-column",
                    message=f"column(s) {_names(repeated)} appear more than once in the header",
                    location=location,
                )
            )
        extra = [name for name in dict.fromkeys(header) if name not in self.columns]
        if extra and not self.allow_extra:
            issues.append(
                ValidationIssue(
                    code="unexpected-column",
                    message=f"column(s) {_names(extra)} not in the table schema "
                    f"(allowed: {_names(list(self.columns))})",
                    location=location,
                )
            )
        return issues

    def typed_fields(self, header: Sequence[str]) -> dict[int, str]:
        """Field index -> column name, for the columns whose values need a type check."""
        typed: dict[int, str] = {}
        for index, name in enumerate(header):
            if self.columns.get(name, "string") != "string" and name not in typed.values():
                typed[index] = name
        return typed

    def value_issues(
        self, rows: Sequence[int], cells: dict[str, list[str]], cap: int = MAX_BAD_VALUES
    ) -> list[ValidationIssue]:
        """`bad-value` warnings for the cells (by column name, aligned with the CSV row
        numbers `rows`) that are not empty and not of their column's type."""
        import pandas as pd

        bad: list[tuple[int, int, str, str]] = []
        order = {name: position for position, name in enumerate(cells)}
        for name, values in cells.items():
            series = pd.Series(values, index=pd.Index(rows), dtype=str).str.strip()
            series = series[series != ""]
            if series.empty:
                continue
            wrong = series[~_valid_mask(series, self.columns[name]).to_numpy(dtype=bool)]
            bad += [
                (row, order[name], name, value)
                for row, value in zip(wrong.index.tolist(), wrong.tolist(), strict=True)
            ]
        bad.sort()
        issues = [
            ValidationIssue(
                code="bad-value",
                message=f"{_shown(value)} is not {_EXPECTED[self.columns[name]]}",
                location=f"row {row}, column {name!r}",
            )
            for row, _, name, value in bad[:cap]
        ]
        return issues + issues_past_cap(len(bad), cap, "bad-value", "bad values")


@lru_cache(maxsize=64)
def load_table_schema(path: str) -> TableSchema:
    """Read and check the table schema at `path` once per process; ConfigurationError if
    it is unreadable or not in the format above."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read table schema {path!r}: {exc}") from exc
    problem = best_match(_FORMAT_CHECK.iter_errors(document))
    if problem is not None:
        where = f" at {_pointer(problem.absolute_path)}" if problem.absolute_path else ""
        raise ConfigurationError(f"invalid table schema {path!r}{where}: {problem.message}")
    columns = cast(dict[str, ColumnType], document["columns"])
    required = tuple(document.get("required", columns))
    unknown = [name for name in required if name not in columns]
    if unknown:
        raise ConfigurationError(
            f"invalid table schema {path!r}: 'required' names {_names(unknown)}, not in 'columns'"
        )
    return TableSchema(path, dict(columns), required, bool(document.get("allow_extra", False)))
