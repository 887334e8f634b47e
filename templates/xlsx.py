"""Excel workbooks as deterministic bytes, with columns wide enough for Chinese text.

save_workbook_deterministic(workbook) -> bytes   # the same workbook, the same bytes; no formulas
fit_column_widths(sheet)                          # CJK characters count as two
"""

from __future__ import annotations

import io
import unicodedata
import zipfile
from datetime import datetime
from typing import Any

from openpyxl.cell.cell import MergedCell
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from templates.rendering import PROPERTIES_TIME, rewrite_zip

# openpyxl takes the document properties as naive datetimes and writes them out as UTC ("Z").
_PROPERTIES_DATETIME = datetime.strptime(PROPERTIES_TIME, "%Y-%m-%dT%H:%M:%SZ")  # noqa: DTZ007 - naive UTC, see above


def save_workbook_deterministic(workbook: Workbook) -> bytes:
    """The workbook as .xlsx bytes with fixed created/modified properties and a deterministic zip."""
    write_as_text(workbook)
    properties = workbook.properties
    properties.created = properties.modified = _PROPERTIES_DATETIME
    for sheet in workbook.worksheets:
        # openpyxl writes sheetFormatPr/@outlineLevelCol from the previous save's column outlines, so a
        # second save of one workbook differs from the first; computing the columns first settles it.
        columns = getattr(sheet, "column_dimensions", None)
        if columns is not None:
            columns.to_tree()
    buffer = io.BytesIO()
    # ExcelWriter, not Workbook.save: save() stamps "modified" with the current time.
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(workbook, archive).write_data()
    return rewrite_zip(buffer.getvalue())


# What a spreadsheet program may take for the start of a formula (OWASP "CSV injection"), tab and CR
# included: some programs strip them and read on.
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def write_as_text(workbook: Workbook) -> None:
    """Every cell is a value, never a formula: text that looks like one is stored as text, marked so.

    The service writes no formulas of its own, while much of what it writes is user text (topics,
    names, file names); openpyxl would store ``=HYPERLINK(...)`` as a live formula. Stored as a string
    with the quote prefix, Excel and LibreOffice show it as typed and keep it text even when edited.
    """
    for sheet in workbook.worksheets:
        if not isinstance(sheet, Worksheet):
            continue
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell, MergedCell):
                    continue
                value = cell.value
                if cell.data_type == "f" or (isinstance(value, str) and value.startswith(FORMULA_LEADS)):
                    cell.data_type = "s"
                    cell.quotePrefix = True


def display_width(text: str) -> int:
    """Width of ``text`` in Latin character cells: wide and full-width characters (汉字, ，) count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _cell_width(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        text = value.strftime("%Y-%m-%d %H:%M")
    elif isinstance(value, float):
        text = f"{value:.2f}"
    else:
        text = str(value)
    return max((display_width(line) for line in text.splitlines()), default=0)


def fit_column_widths(sheet: Worksheet, *, min_width: float = 6, max_width: float = 60, padding: float = 2) -> None:
    """Set each used column's width from its longest line; cells merged across columns are skipped."""
    spanning = {
        (row, col)
        for merged in sheet.merged_cells.ranges
        if merged.max_col > merged.min_col
        for row in range(merged.min_row, merged.max_row + 1)
        for col in range(merged.min_col, merged.max_col + 1)
    }
    widths: dict[int, int] = {}
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell, MergedCell) or (cell.row, cell.column) in spanning:
                continue
            widths[cell.column] = max(widths.get(cell.column, 0), _cell_width(cell.value))
    for column, width in widths.items():
        sheet.column_dimensions[get_column_letter(column)].width = min(max(width + padding, min_width), max_width)
