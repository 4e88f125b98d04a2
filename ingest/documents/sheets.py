"""XLSX with openpyxl in read-only mode (runs in the sandbox): one section per worksheet,
rows as text lines (cells joined by ` | `), the first row as a header when it is one (it
then starts every chunk of the sheet), formulas as their cached values; each block knows
its row and columns, so chunks get a `cell_range`. Rows per sheet and cells per workbook are
capped, with a warning when a cap cuts."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import openpyxl

from .extraction import Block, Extracted, Part
from .limits import DocumentLimits
from .ooxml_repair import repaired


def extract_xlsx(data: bytes, limits: DocumentLimits) -> Extracted:
    workbook = openpyxl.load_workbook(
        io.BytesIO(repaired(data)), read_only=True, data_only=True, keep_links=False
    )
    try:
        warnings: list[str] = []
        parts: list[Part] = []
        cells_left = limits.max_cells
        names = list(workbook.sheetnames)
        for index, name in enumerate(names, start=1):
            sheet = workbook[name]
            if not hasattr(sheet, "iter_rows"):
                continue  # a chart sheet
            part = Part(heading_path=[name], meta={"sheet": name, "sheet_index": index})
            rows: list[tuple[int, int, list[str]]] = []
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                if number > limits.max_sheet_rows:
                    warnings.append(
                        f"sheet {name!r}: only the first {limits.max_sheet_rows} rows were read "
                        "(max_sheet_rows)"
                    )
                    break
                cells_left -= len(values)
                if cells_left < 0:
                    warnings.append(
                        f"sheet {name!r}: reading stopped at row {number}, after "
                        f"{limits.max_cells} cells (max_cells)"
                    )
                    break
                texts = [_cell(value) for value in values]
                filled = [i for i, text in enumerate(texts) if text]
                if filled:
                    rows.append((number, filled[0], texts[: filled[-1] + 1]))
            _fill(part, rows)
            if part.blocks:
                parts.append(part)
            if cells_left < 0:
                break
        properties = workbook.properties
        metadata: dict[str, Any] = {"sheets": names, "sheet_count": len(names)}
        for key in ("title", "creator", "subject", "keywords", "created", "modified"):
            value = getattr(properties, key, None)
            if value not in (None, ""):
                metadata["author" if key == "creator" else key] = (
                    value.isoformat() if hasattr(value, "isoformat") else value
                )
        return Extracted(title=metadata.get("title"), metadata=metadata, warnings=warnings,
                         parts=parts)  # fmt: skip
    finally:
        workbook.close()


def _fill(part: Part, rows: list[tuple[int, int, list[str]]]) -> None:
    if not rows:
        return
    first = min(start for _, start, _ in rows)
    header = _is_header(rows)
    for n, (number, _, texts) in enumerate(rows):
        line = " | ".join(texts[first:])
        meta = {"row": number, "col": [first + 1, len(texts)]}
        part.blocks.append(Block(line, meta, "\n"))
        if n == 0 and header:
            part.repeat = line
            part.meta["header_row"] = number
    part.meta["first_col"] = first + 1


def _is_header(rows: list[tuple[int, int, list[str]]]) -> bool:
    """The first row is a header when rows follow it, its filled cells are all text, and
    it names several columns or sits over numbers."""
    if len(rows) < 2:
        return False
    _, _, first = rows[0]
    filled = [text for text in first if text]
    if not filled or any(_numeric(text) for text in filled):
        return False
    below = [text for _, _, texts in rows[1:6] for text in texts if text]
    return len(filled) >= 2 or any(_numeric(text) for text in below)


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return " ".join(str(value).split())
