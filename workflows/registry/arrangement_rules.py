"""Reading and checking the arrangement table (附件1 联盟安排表) before anything is written: pure
functions over bytes and a registry snapshot, collecting every problem before the import gives up."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from openpyxl import load_workbook
from openpyxl.utils import column_index_from_string, get_column_letter

from workflows.errors import FieldError, ValidationFailed
from workflows.registry.credit_code import credit_code_problem
from workflows.registry.models import (
    CATEGORY_LABELS,
    RATING_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
    AllianceRole,
    Category,
    KindergartenStatus,
    Rating,
)

ALLIANCE_SHEET = "联盟"
ARRANGEMENT_SHEET = "联盟安排表"
ALLIANCE_HEADERS = ("联盟编号", "联盟名称", "状态")
ARRANGEMENT_HEADERS = (
    "序号", "园所编号", "园所名称", "统一社会信用代码", "园所类别", "等级", "办园状态", "乡镇/街道",
    "地址", "园长", "园长电话", "联系人", "联系电话", "联盟编号", "联盟角色", "加入日期",
)  # fmt: skip
# 序号 is for people reading the sheet; the import never needs it.
OPTIONAL_HEADERS = frozenset({"序号"})
ACTIVE_LABELS = {True: "启用", False: "停用"}

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_RATIO = 100
MAX_ZIP_ENTRIES = 1000
MAX_ROWS = 10_000
NOT_XLSX = "文件不是有效的 Excel 工作簿（.xlsx），请用 Excel 另存为 .xlsx 后重新上传"

_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日")

E = TypeVar("E")


@dataclass(frozen=True)
class AllianceRow:
    row: int
    code: str
    name: str
    active: bool


@dataclass(frozen=True)
class KindergartenRow:
    row: int
    code: str
    name: str
    credit_code: str | None
    category: Category
    rating: Rating
    status: KindergartenStatus
    town: str
    address: str
    head_name: str
    head_phone: str
    contact_name: str
    contact_phone: str
    alliance_code: str | None
    role: AllianceRole | None
    joined_on: date | None


@dataclass(frozen=True)
class Arrangement:
    alliances: list[AllianceRow]
    kindergartens: list[KindergartenRow]


@dataclass(frozen=True)
class Registered:
    """A registry kindergarten as the checks see it: identity and current place."""

    code: str
    name: str
    credit_code: str | None
    alliance_code: str | None
    role: AllianceRole | None


def _guard_zip(data: bytes) -> None:
    # Only declared sizes are looked at: zipfile never inflates an entry past its declared size
    # (it stops and fails the CRC), so the declaration bounds what openpyxl can be made to read.
    if len(data) > MAX_FILE_BYTES:
        raise ValidationFailed.single("file", "too_large", "文件过大（超过 50 MB）")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        raise ValidationFailed.single("file", "not_xlsx", NOT_XLSX) from None
    unpacked, packed = sum(e.file_size for e in entries), sum(e.compress_size for e in entries)
    if len(entries) > MAX_ZIP_ENTRIES or unpacked > min(MAX_UNPACKED_BYTES, MAX_RATIO * max(packed, 1)):
        raise ValidationFailed.single("file", "zip_bomb", "文件解压后过大或压缩比异常，已拒绝读取")
    if "[Content_Types].xml" not in {e.filename for e in entries}:
        raise ValidationFailed.single("file", "not_xlsx", NOT_XLSX)


def _load_sheets(data: bytes) -> dict[str, list[tuple[Any, ...]]]:
    _guard_zip(data)
    sheets: dict[str, list[tuple[Any, ...]]] = {}
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            for name in (ALLIANCE_SHEET, ARRANGEMENT_SHEET):
                if name in workbook.sheetnames:
                    rows = sheets.setdefault(name, [])
                    for values in workbook[name].iter_rows(values_only=True):
                        rows.append(tuple(values))
                        if len(rows) > MAX_ROWS + 1:
                            raise ValidationFailed.single("file", "too_many_rows", f"「{name}」表超过 {MAX_ROWS} 行")
        finally:
            workbook.close()
    except ValidationFailed:
        raise
    except Exception:  # openpyxl and its XML parsers raise many kinds; to the clerk they mean one thing
        raise ValidationFailed.single("file", "not_xlsx", NOT_XLSX) from None
    return sheets


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        value = value.isoformat()
    return str(value).strip()


class _Row:
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
        value = _text(self.raw(header))
        if required and not value:
            self.fail(header, "required", f"「{header}」不能为空")
        elif len(value) > max_len:
            self.fail(header, "too_long", f"「{header}」超过 {max_len} 个字")
        else:
            return value
        return None

    def choice(self, header: str, labels: Mapping[E, str], *, required: bool = True) -> E | None:
        value = _text(self.raw(header))
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
        text = _text(value)
        for fmt in _DATE_FORMATS:
            try:
                return datetime.strptime(text, fmt).date()
            except ValueError:
                continue
        if text:
            self.fail(header, "invalid_date", f"「{header}」“{text}”不是有效日期（例如 2024-09-01）")
        return None

    def credit_code(self, header: str) -> str | None:
        value = _text(self.raw(header)).upper()
        problem = credit_code_problem(value) if value else None
        if problem:
            self.fail(header, "invalid_credit_code", f"「{header}」{value} 有误：{problem}")
        return value or None


def _table(
    sheets: dict[str, list[tuple[Any, ...]]], sheet: str, headers: tuple[str, ...], errors: list[FieldError]
) -> list[_Row] | None:
    if sheet not in sheets:
        errors.append(FieldError(sheet, "missing_sheet", f"工作簿缺少「{sheet}」工作表"))
        return None
    rows = sheets[sheet]
    columns: dict[str, int] = {}
    for index, value in enumerate(rows[0] if rows else ()):
        columns.setdefault(_text(value), index)
    missing = [h for h in headers if h not in columns and h not in OPTIONAL_HEADERS]
    for header in missing:
        errors.append(FieldError(sheet, "missing_column", f"「{sheet}」表缺少必需的列「{header}」"))
    if missing:
        return None
    return [
        _Row(sheet, number, columns, values)
        for number, values in enumerate(rows[1:], start=2)
        if any(_text(v) for v in values)
    ]


def _duplicates(rows: list[tuple[_Row, str | None]], header: str) -> list[FieldError]:
    seen: dict[str, int] = {}
    found = []
    for row, value in rows:
        if value and value in seen:
            found.append(row.problem(header, "duplicate", f"「{header}」{value} 与第{seen[value]}行重复"))
        elif value:
            seen[value] = row.number
    return found


def _failed(errors: list[FieldError]) -> ValidationFailed:
    def position(error: FieldError) -> tuple[int, int, int]:
        sheet, _, cell = error.field.partition("!")
        letters = cell.rstrip("0123456789")
        column = column_index_from_string(letters) if letters else 0
        return ((ARRANGEMENT_SHEET, ALLIANCE_SHEET).index(sheet), int(cell[len(letters) :] or 0), column)

    summary = f"联盟安排表有 {len(errors)} 处问题，未导入任何内容" if len(errors) > 1 else None
    return ValidationFailed(sorted(errors, key=position), summary=summary)


def parse_arrangement(
    data: bytes, *, registered: Mapping[str, Registered], alliance_names: Mapping[str, str]
) -> Arrangement:
    """Read the workbook and check it against itself and the registry; raise with every problem."""
    sheets = _load_sheets(data)
    errors: list[FieldError] = []
    alliance_table = _table(sheets, ALLIANCE_SHEET, ALLIANCE_HEADERS, errors)
    kindergarten_table = _table(sheets, ARRANGEMENT_SHEET, ARRANGEMENT_HEADERS, errors)
    if alliance_table is None or kindergarten_table is None:
        raise _failed(errors)
    alliances, active = _read_alliances(alliance_table, alliance_names, errors)
    in_sheet = {_text(row.raw("园所编号")) for row in kindergarten_table}
    outside = {code: reg for code, reg in registered.items() if code not in in_sheet}
    kindergartens, places = _read_kindergartens(kindergarten_table, active, outside, errors)
    errors.extend(_check_roles(places, alliance_table, active, outside))
    if errors:
        raise _failed(errors)
    return Arrangement(alliances, kindergartens)


def _read_alliances(
    table: list[_Row], alliance_names: Mapping[str, str], errors: list[FieldError]
) -> tuple[list[AllianceRow], dict[str, bool]]:
    result: list[AllianceRow] = []
    codes, names = [], []
    active_by_code: dict[str, bool] = {}
    for row in table:
        code = row.text("联盟编号", max_len=16, required=True)
        name = row.text("联盟名称", max_len=100, required=True)
        active = row.choice("状态", ACTIVE_LABELS)
        codes.append((row, code))
        names.append((row, name))
        if code:
            active_by_code.setdefault(code, active is not False)
        if not row.errors and code and name and active is not None:
            result.append(AllianceRow(row.number, code, name, active))
        errors.extend(row.errors)
    errors.extend(_duplicates(codes, "联盟编号") + _duplicates(names, "联盟名称"))
    owners = {name: code for code, name in alliance_names.items() if code not in active_by_code}
    for row, name in names:
        if name in owners:
            message = f"「联盟名称」{name} 已被不在本表中的联盟 {owners[name]} 使用"
            errors.append(row.problem("联盟名称", "conflict", message))
    return result, active_by_code


def _read_kindergartens(
    table: list[_Row],
    alliances: Mapping[str, bool],
    outside: Mapping[str, Registered],
    errors: list[FieldError],
) -> tuple[list[KindergartenRow], list[tuple[_Row, str, AllianceRole]]]:
    result: list[KindergartenRow] = []
    places: list[tuple[_Row, str, AllianceRole]] = []
    codes, names, credits = [], [], []
    taken = {
        "园所名称": {reg.name: code for code, reg in outside.items()},
        "统一社会信用代码": {reg.credit_code: code for code, reg in outside.items() if reg.credit_code},
    }
    for row in table:
        code = row.text("园所编号", max_len=32, required=True)
        name = row.text("园所名称", max_len=100, required=True)
        credit = row.credit_code("统一社会信用代码")
        category = row.choice("园所类别", CATEGORY_LABELS)
        rating = row.choice("等级", RATING_LABELS, required=False)
        status = row.choice("办园状态", STATUS_LABELS)
        town = row.text("乡镇/街道", max_len=50, required=True)
        address = row.text("地址", max_len=200)
        head_name = row.text("园长", max_len=50)
        head_phone = row.text("园长电话", max_len=32)
        contact_name = row.text("联系人", max_len=50)
        contact_phone = row.text("联系电话", max_len=32)
        alliance = row.text("联盟编号", max_len=16) or None
        role = row.choice("联盟角色", ROLE_LABELS, required=False)
        joined_on = row.date("加入日期")
        if alliance and alliance not in alliances:
            row.fail("联盟编号", "unknown_alliance", f"「联盟编号」{alliance} 不存在于「{ALLIANCE_SHEET}」表")
        elif alliance and role is None and not _text(row.raw("联盟角色")):
            row.fail("联盟角色", "alliance_without_role", "填写了「联盟编号」但未填写「联盟角色」")
        elif not alliance and role is not None:
            row.fail("联盟编号", "role_without_alliance", "填写了「联盟角色」但未填写「联盟编号」")
        elif alliance and role is not None:
            places.append((row, alliance, role))
        if not alliance and joined_on is not None:
            row.fail("加入日期", "date_without_alliance", "未填写「联盟编号」时不应填写「加入日期」")
        for header, value in (("园所名称", name), ("统一社会信用代码", credit)):
            if value and value in taken[header]:
                owner = taken[header][value]
                row.fail(header, "conflict", f"「{header}」{value} 已被不在本表中的园所 {owner} 使用")
        codes.append((row, code))
        names.append((row, name))
        credits.append((row, credit))
        errors.extend(row.errors)
        if row.errors:
            continue
        assert code and name and category and rating is not None and status and town
        result.append(
            KindergartenRow(
                row.number, code, name, credit, category, rating, status, town,
                address or "", head_name or "", head_phone or "", contact_name or "", contact_phone or "",
                alliance, role, joined_on,
            )
        )  # fmt: skip
    for header, values in (("园所编号", codes), ("园所名称", names), ("统一社会信用代码", credits)):
        errors.extend(_duplicates(values, header))
    return result, places


def _check_roles(
    places: list[tuple[_Row, str, AllianceRole]],
    alliance_table: list[_Row],
    alliances: Mapping[str, bool],
    outside: Mapping[str, Registered],
) -> list[FieldError]:
    found: list[FieldError] = []
    # Kindergartens missing from the sheet keep their place, so their lead and pillar seats count.
    holders: dict[tuple[str, AllianceRole], str] = {}
    staffed: set[str] = set()
    for reg in outside.values():
        if reg.alliance_code is not None and reg.alliance_code in alliances and reg.role is not None:
            staffed.add(reg.alliance_code)
            holders[(reg.alliance_code, reg.role)] = f"不在本表中的园所 {reg.code}（{reg.name}）"
    for row, alliance, role in places:
        staffed.add(alliance)
        label = ROLE_LABELS[role]
        if role is AllianceRole.MEMBER:
            continue
        if (alliance, role) in holders:
            message = f"：联盟 {alliance} 的{label}已是{holders[(alliance, role)]}，一个联盟只能有一个{label}"
            found.append(row.problem("联盟角色", "duplicate_role", message))
        else:
            holders[(alliance, role)] = f"第{row.number}行"
    for row in alliance_table:
        code = _text(row.raw("联盟编号"))
        # A disbanded (停用) alliance with nobody in it needs no lead or pillar.
        if not code or not (alliances.get(code) or code in staffed):
            continue
        for role in (AllianceRole.LEAD, AllianceRole.PILLAR):
            if (code, role) not in holders:
                message = f"：联盟 {code} 没有{ROLE_LABELS[role]}"
                found.append(row.problem("联盟编号", "missing_role", message))
    return found
