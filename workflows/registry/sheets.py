"""The registry's .xlsx tables (arrangement table, teacher roster): written as deterministic
workbooks and read back guarded against hostile files, every problem kept with its sheet, row
and column so an import can refuse the whole workbook and say exactly what to fix."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any, BinaryIO, TypeVar

from openpyxl import load_workbook
from openpyxl.styles import Font
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from templates.xlsx import display_width
from workflows.errors import FieldError, ValidationFailed
from workflows.registry.credit_code import credit_code_problem
from workflows.untrusted import Limits, UnsafeFile, UntrustedArchive, seekable

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_RATIO = 100
MAX_ZIP_ENTRIES = 1000
MAX_ROWS = 10_000
XLSX_LIMITS = Limits(
    max_members=MAX_ZIP_ENTRIES,
    max_member_bytes=MAX_UNPACKED_BYTES,
    max_total_bytes=MAX_UNPACKED_BYTES,
    max_ratio=MAX_RATIO,
    max_elements=1_000_000,
)
NOT_XLSX = "文件不是有效的 Excel 工作簿（.xlsx），请用 Excel 另存为 .xlsx 后重新上传"

_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日")

E = TypeVar("E")
T = TypeVar("T")


# --- writing ------------------------------------------------------------------------------------


def write_table(sheet: Worksheet, headers: tuple[str, ...], rows: list[list[Any]]) -> None:
    """A header row in bold, then ``rows``; text cells keep their text (leading zeros) on edit."""
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    widths = [display_width(h) for h in headers]
    for values in rows:
        sheet.append(values)
        for cell, value in zip(sheet[sheet.max_row], values, strict=True):
            # Text format keeps credit codes and phone numbers as typed (leading zeros) on edit too.
            if isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            elif not isinstance(value, int):
                cell.number_format = "@"
        for index, value in enumerate(values):
            text = value.isoformat() if isinstance(value, date) else str(value or "")
            widths[index] = max(widths[index], display_width(text))
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(width + 4, 60)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{max(sheet.max_row, 1)}"


# --- reading ------------------------------------------------------------------------------------


def read_upload(data: BinaryIO | bytes) -> BinaryIO:
    """The uploaded workbook as a seekable stream (never read into memory whole); refused past the limit."""
    stream: BinaryIO = io.BytesIO(bytes(data)) if isinstance(data, bytes | bytearray | memoryview) else data
    seekable = getattr(stream, "seekable", lambda: False)()
    if seekable:
        stream.seek(0, 2)
        if stream.tell() > MAX_FILE_BYTES:
            raise ValidationFailed.single("file", "too_large", "文件过大（超过 50 MB）")
        stream.seek(0)
    return stream


def _guard_zip(archive: UntrustedArchive) -> None:
    # Members were bounded by their declared sizes (workflows.untrusted: zipfile never inflates an entry
    # past them), and the workbook as a whole by its compression ratio here; then every XML part is
    # parsed once under the element and depth limits, before openpyxl (through defusedxml) reads it.
    unpacked, packed = sum(e.file_size for e in archive.members), sum(e.compress_size for e in archive.members)
    if unpacked > MAX_RATIO * max(packed, 1):
        raise UnsafeFile("suspicious_archive", "文件解压后过大或压缩比异常")
    if not archive.has("[Content_Types].xml"):
        raise ValidationFailed.single("file", "not_xlsx", NOT_XLSX)
    for name in archive.names():
        if name.endswith((".xml", ".rels")):
            archive.check_xml(name)


def load_sheets(data: BinaryIO | bytes, names: Iterable[str]) -> dict[str, list[tuple[Any, ...]]]:
    """The cell values of the named sheets that exist in the workbook; refuses what is no .xlsx."""
    sheets: dict[str, list[tuple[Any, ...]]] = {}
    try:
        with seekable(read_upload(data), max_bytes=MAX_FILE_BYTES) as stream:
            with UntrustedArchive(stream, XLSX_LIMITS) as archive:
                _guard_zip(archive)
            stream.seek(0)
            workbook = load_workbook(stream, read_only=True, data_only=True)
            try:
                for name in names:
                    if name in workbook.sheetnames:
                        rows = sheets.setdefault(name, [])
                        for values in workbook[name].iter_rows(values_only=True):
                            rows.append(tuple(values))
                            if len(rows) > MAX_ROWS + 1:
                                raise ValidationFailed.single(
                                    "file", "too_many_rows", f"「{name}」表超过 {MAX_ROWS} 行"
                                )
            finally:
                workbook.close()
    except UnsafeFile as exc:
        if exc.code == "not_a_package":
            raise ValidationFailed.single("file", "not_xlsx", NOT_XLSX) from None
        if exc.code in ("suspicious_archive", "too_many_members"):
            raise ValidationFailed.single("file", "zip_bomb", "文件解压后过大或压缩比异常，已拒绝读取") from None
        raise exc.refusal("file") from None
    except ValidationFailed:
        raise
    except Exception:  # noqa: BLE001 - openpyxl and its XML parsers raise many kinds; to the clerk they mean one thing
        raise ValidationFailed.single("file", "not_xlsx", NOT_XLSX) from None
    return sheets


def cell_text(value: Any) -> str:
    """A cell as the text a person typed: 13800000000.0 reads 13800000000, dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        value = value.isoformat()
    return str(value).strip()


class SheetRow:
    """One data row of a sheet; each reader records its own problem and returns None."""

    def __init__(self, sheet: str, number: int, columns: Mapping[str, int], values: tuple[Any, ...]) -> None:
        self.sheet, self.number, self.columns, self.values = sheet, number, columns, values
        self.errors: list[FieldError] = []

    def raw(self, header: str) -> Any:
        index = self.columns.get(header)
        return self.values[index] if index is not None and index < len(self.values) else None

    def field(self, header: str) -> str:
        return f"{self.sheet}!{get_column_letter(self.columns[header] + 1)}{self.number}"

    def problem(self, header: str, code: str, message: str) -> FieldError:
        return FieldError(self.field(header), code, f"第{self.number}行{message}")

    def fail(self, header: str, code: str, message: str) -> None:
        self.errors.append(self.problem(header, code, message))

    def text(self, header: str, *, max_len: int, required: bool = False) -> str | None:
        value = cell_text(self.raw(header))
        if required and not value:
            self.fail(header, "required", f"「{header}」不能为空")
        elif len(value) > max_len:
            self.fail(header, "too_long", f"「{header}」超过 {max_len} 个字")
        else:
            return value
        return None

    def choice(self, header: str, labels: Mapping[E, str], *, required: bool = True) -> E | None:
        value = cell_text(self.raw(header))
        by_label = {label: key for key, label in labels.items()}
        if value in by_label:
            return by_label[value]
        options = "、".join(label for label in labels.values() if label)
        if not value and required:
            self.fail(header, "required", f"「{header}」不能为空（可选：{options}）")
        elif value:
            self.fail(header, "invalid_choice", f"「{header}」“{value}”不是有效选项（可选：{options}）")
        return None

    def date(self, header: str) -> date | None:
        value = self.raw(header)
        if isinstance(value, date):
            return value.date() if isinstance(value, datetime) else value
        text = cell_text(value)
        for fmt in _DATE_FORMATS:
            try:
                return datetime.strptime(text, fmt).date()  # noqa: DTZ007  (a calendar day, no instant)
            except ValueError:
                continue
        if text:
            self.fail(header, "invalid_date", f"「{header}」“{text}”不是有效日期（例如 2024-09-01）")
        return None

    def credit_code(self, header: str) -> str | None:
        value = cell_text(self.raw(header)).upper()
        problem = credit_code_problem(value) if value else None
        if problem:
            self.fail(header, "invalid_credit_code", f"「{header}」{value} 有误：{problem}")
        return value or None

    def checked(self, header: str, check: Callable[[str], T], *, code: str = "invalid") -> T | None:
        """The cell's text through ``check``, which raises ValueError with the Chinese reason."""
        text = cell_text(self.raw(header))
        if not text:
            return None
        try:
            return check(text)
        except ValueError as exc:
            self.fail(header, code, f"「{header}」“{text}”有误：{exc}")
            return None


def read_table(
    sheets: Mapping[str, list[tuple[Any, ...]]],
    sheet: str,
    headers: tuple[str, ...],
    errors: list[FieldError],
    *,
    optional: frozenset[str] = frozenset(),
) -> list[SheetRow] | None:
    """The non-empty data rows of ``sheet``, or None (with the reason in ``errors``) when the sheet
    or one of its required columns is missing. Columns are found by header, in any order."""
    if sheet not in sheets:
        errors.append(FieldError(sheet, "missing_sheet", f"工作簿缺少「{sheet}」工作表"))
        return None
    rows = sheets[sheet]
    columns: dict[str, int] = {}
    for index, value in enumerate(rows[0] if rows else ()):
        columns.setdefault(cell_text(value), index)
    missing = [h for h in headers if h not in columns and h not in optional]
    for header in missing:
        errors.append(FieldError(sheet, "missing_column", f"「{sheet}」表缺少必需的列「{header}」"))
    if missing:
        return None
    return [
        SheetRow(sheet, number, columns, values)
        for number, values in enumerate(rows[1:], start=2)
        if any(cell_text(v) for v in values)
    ]


def duplicates(rows: list[tuple[SheetRow, str | None]], header: str) -> list[FieldError]:
    """A problem on every row whose value an earlier row already has."""
    seen: dict[str, int] = {}
    found = []
    for row, value in rows:
        if value and value in seen:
            found.append(row.problem(header, "duplicate", f"「{header}」{value} 与第{seen[value]}行重复"))
        elif value:
            seen[value] = row.number
    return found


def refused(errors: list[FieldError], *, sheet_order: tuple[str, ...], title: str) -> ValidationFailed:
    """Every problem of a workbook in reading order (sheet, row, column), under one summary."""

    def position(error: FieldError) -> tuple[int, int, int]:
        sheet, _, cell = error.field.partition("!")
        letters = cell.rstrip("0123456789")
        column = column_index_from_string(letters) if letters else 0
        order = sheet_order.index(sheet) if sheet in sheet_order else len(sheet_order)
        return (order, int(cell[len(letters) :] or 0), column)

    summary = f"{title}有 {len(errors)} 处问题，未导入任何内容" if len(errors) > 1 else None
    return ValidationFailed(sorted(errors, key=position), summary=summary)
