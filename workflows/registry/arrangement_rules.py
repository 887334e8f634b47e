"""Reading and checking the arrangement table (附件1 联盟安排表) before anything is written: pure
functions over bytes and a registry snapshot, collecting every problem before the import gives up."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO

from workflows.errors import FieldError, ValidationFailed
from workflows.registry.composition import composition_problem
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
from workflows.registry.service_area import parse_towns, sheet_area_problems
from workflows.registry.sheets import SheetRow, cell_text, duplicates, load_sheets, read_table, refused

ALLIANCE_SHEET = "联盟"
ARRANGEMENT_SHEET = "联盟安排表"
ALLIANCE_HEADERS = ("联盟编号", "联盟名称", "状态", "服务区域")
ARRANGEMENT_HEADERS = (
    "序号", "园所编号", "园所名称", "统一社会信用代码", "园所类别", "等级", "办园状态", "乡镇/街道",
    "地址", "园长", "园长电话", "联系人", "联系电话", "联盟编号", "联盟角色", "加入日期",
)  # fmt: skip
# 序号 is for people reading the sheet; the import never needs it. A table saved before alliances had
# a service area has no 服务区域 column: the areas then stay as they are.
OPTIONAL_HEADERS = frozenset({"序号", "服务区域"})
AREA_HEADER = "服务区域"
ACTIVE_LABELS = {True: "启用", False: "停用"}


@dataclass(frozen=True)
class AllianceRow:
    row: int
    code: str
    name: str
    active: bool
    service_area: tuple[str, ...] | None  # None: the sheet has no 服务区域 column, keep the area


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


def _failed(errors: list[FieldError]) -> ValidationFailed:
    return refused(errors, sheet_order=(ARRANGEMENT_SHEET, ALLIANCE_SHEET), title="联盟安排表")


def parse_arrangement(
    data: BinaryIO | bytes,
    *,
    registered: Mapping[str, Registered],
    alliance_names: Mapping[str, str],
    alliance_areas: Mapping[str, list[str]] | None = None,
) -> Arrangement:
    """Read the workbook and check it against itself and the registry; raise with every problem."""
    sheets = load_sheets(data, (ALLIANCE_SHEET, ARRANGEMENT_SHEET))
    errors: list[FieldError] = []
    alliance_table = read_table(sheets, ALLIANCE_SHEET, ALLIANCE_HEADERS, errors, optional=OPTIONAL_HEADERS)
    kindergarten_table = read_table(sheets, ARRANGEMENT_SHEET, ARRANGEMENT_HEADERS, errors, optional=OPTIONAL_HEADERS)
    if alliance_table is None or kindergarten_table is None:
        raise _failed(errors)
    alliances, active = _read_alliances(alliance_table, alliance_names, alliance_areas or {}, errors)
    in_sheet = {cell_text(row.raw("园所编号")) for row in kindergarten_table}
    outside = {code: reg for code, reg in registered.items() if code not in in_sheet}
    kindergartens, places = _read_kindergartens(kindergarten_table, active, outside, errors)
    errors.extend(_check_roles(places, alliance_table, active, outside))
    if errors:
        raise _failed(errors)
    return Arrangement(alliances, kindergartens)


def _read_alliances(
    table: list[SheetRow],
    alliance_names: Mapping[str, str],
    alliance_areas: Mapping[str, list[str]],
    errors: list[FieldError],
) -> tuple[list[AllianceRow], dict[str, bool]]:
    result: list[AllianceRow] = []
    codes, names = [], []
    areas: list[tuple[int, str, list[str]]] = []
    active_by_code: dict[str, bool] = {}
    for row in table:
        code = row.text("联盟编号", max_len=16, required=True)
        name = row.text("联盟名称", max_len=100, required=True)
        active = row.choice("状态", ACTIVE_LABELS)
        area = row.checked(AREA_HEADER, parse_towns) if AREA_HEADER in row.columns else None
        codes.append((row, code))
        names.append((row, name))
        if code:
            active_by_code.setdefault(code, active is not False)
            areas.append((row.number, code, area or []))
        if not row.errors and code and name and active is not None:
            kept = None if AREA_HEADER not in row.columns else tuple(area or ())
            result.append(AllianceRow(row.number, code, name, active, kept))
        errors.extend(row.errors)
    errors.extend(duplicates(codes, "联盟编号") + duplicates(names, "联盟名称"))
    if table and AREA_HEADER in table[0].columns:
        # Alliances the sheet does not list keep their areas: a town of theirs is taken.
        outside = {code: towns for code, towns in alliance_areas.items() if code not in active_by_code}
        by_number = {row.number: row for row in table}
        for number, message in sheet_area_problems(areas, outside):
            errors.append(by_number[number].problem(AREA_HEADER, "area_taken", message))
    owners = {name: code for code, name in alliance_names.items() if code not in active_by_code}
    for row, name in names:
        if name in owners:
            message = f"「联盟名称」{name} 已被不在本表中的联盟 {owners[name]} 使用"
            errors.append(row.problem("联盟名称", "conflict", message))
    return result, active_by_code


def _read_kindergartens(
    table: list[SheetRow],
    alliances: Mapping[str, bool],
    outside: Mapping[str, Registered],
    errors: list[FieldError],
) -> tuple[list[KindergartenRow], list[tuple[SheetRow, str, AllianceRole]]]:
    result: list[KindergartenRow] = []
    places: list[tuple[SheetRow, str, AllianceRole]] = []
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
        elif alliance and role is None and not cell_text(row.raw("联盟角色")):
            row.fail("联盟角色", "alliance_without_role", "填写了「联盟编号」但未填写「联盟角色」")
        elif not alliance and role is not None:
            row.fail("联盟编号", "role_without_alliance", "填写了「联盟角色」但未填写「联盟编号」")
        elif alliance and role is not None:
            places.append((row, alliance, role))
            problem = composition_problem(role, category, rating) if category and rating is not None else None
            if problem:
                row.fail("联盟角色", "composition", f"「联盟角色」为{ROLE_LABELS[role]}，但{problem}")
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
        if not (code and name and category and rating is not None and status and town):
            raise RuntimeError("expected code and name and category and rating is not None and status and town")
        result.append(
            KindergartenRow(
                row.number, code, name, credit, category, rating, status, town,
                address or "", head_name or "", head_phone or "", contact_name or "", contact_phone or "",
                alliance, role, joined_on,
            )
        )  # fmt: skip
    for header, values in (("园所编号", codes), ("园所名称", names), ("统一社会信用代码", credits)):
        errors.extend(duplicates(values, header))
    return result, places


def _check_roles(
    places: list[tuple[SheetRow, str, AllianceRole]],
    alliance_table: list[SheetRow],
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
        code = cell_text(row.raw("联盟编号"))
        # A disbanded (停用) alliance with nobody in it needs no lead or pillar.
        if not code or not (alliances.get(code) or code in staffed):
            continue
        for role in (AllianceRole.LEAD, AllianceRole.PILLAR):
            if (code, role) not in holders:
                message = f"：联盟 {code} 没有{ROLE_LABELS[role]}"
                found.append(row.problem("联盟编号", "missing_role", message))
    return found
