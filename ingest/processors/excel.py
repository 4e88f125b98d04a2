"""XLSX: one section per sheet, rows as text lines under the header row; chunk metadata
carries `sheet` and the `cell_range` it covers (e.g. `A1:F40`)."""

from __future__ import annotations

from typing import Any, ClassVar

from ..content_types import XLSX
from ._documents import DocumentProcessor


class XlsxProcessor(DocumentProcessor):
    name: ClassVar[str] = "xlsx"
    version: ClassVar[str] = "1"
    content_types: ClassVar[tuple[str, ...]] = (XLSX,)
    kind: ClassVar[str] = "xlsx"

    def locate(self, location: dict[str, Any]) -> dict[str, Any]:
        first = column_letter(location.pop("col_start"))
        last = column_letter(location.pop("col_end"))
        location.pop("first_col", None)
        location["cell_range"] = f"{first}{location['row_start']}:{last}{location['row_end']}"
        return location


def column_letter(number: int) -> str:
    """The spreadsheet name of the 1-based column `number`: 1 -> A, 27 -> AA."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
