"""The district's teacher roster as .xlsx: exported, an empty template, and imported back.

The import reads and checks the whole workbook against the registry first and writes nothing
unless every row holds (the arrangement table's machinery, ``sheets``): every problem is named by
row and column. Then it upserts teachers, matched within their kindergarten by 教师编号 or else
by 联系电话; 状态 离职 marks a teacher as left. Teachers the sheet does not list stay as they are.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from templates.xlsx import save_workbook_deterministic
from workflows import audit
from workflows.errors import Conflict, FieldError
from workflows.numbering import next_value
from workflows.registry import roster_rules
from workflows.registry.models import LEVEL_LABELS, Kindergarten, Teacher, TeacherLevel
from workflows.registry.sheets import (
    SheetRow,
    cell_text,
    load_sheets,
    read_table,
    read_upload,
    refused,
    write_table,
)

SHEET = "教师名册"
GUIDE_SHEET = "填写说明"
TITLE = "教师名册"
HEADERS = (
    "序号", "园所编号", "园所名称", "教师编号", "姓名", "岗位", "教师层级", "出生年份", "联系电话", "状态",
)  # fmt: skip
OPTIONAL_HEADERS = frozenset({"序号"})
GUIDE = (
    "每行一位教师。「园所编号」与「园所名称」至少填写一项，两项都填时须为同一所幼儿园。",
    "「教师编号」留空表示新教师，由系统编号；已有教师按「教师编号」识别，未填编号时按同园的「联系电话」识别。",
    "「教师层级」可填：" + "、".join(LEVEL_LABELS.values()) + "。",
    "「岗位」如：" + "、".join(roster_rules.POSTS) + "。",
    "「联系电话」为 1 开头的 11 位手机号，或座机如 0791-88886666；在职教师的电话不能重复。",
    "「状态」填 在职 或 离职（留空为在职）。离职教师保留在名册中，不会删除。",
    "表中未列出的教师保持不变。整表检查无误才导入；有问题时逐行列出，不做任何修改。",
)


@dataclass(frozen=True)
class RosterImportReport:
    created: int = 0
    updated: int = 0
    # Teachers the sheet marks as left (离职) who were active before.
    marked_left: int = 0
    unchanged: int = 0
    # Registry teachers the sheet does not list; they are left as they are.
    not_in_sheet: int = 0


@dataclass(frozen=True)
class RosterRow:
    row: int
    kindergarten_id: uuid.UUID
    code: str | None
    name: str
    post: str
    level: TeacherLevel
    birth_year: int | None
    phone: str | None
    active: bool

    def values(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "post": self.post,
            "level": self.level,
            "birth_year": self.birth_year,
            "phone": self.phone,
            "active": self.active,
        }


def _teachers(session: Session) -> list[Teacher]:
    stmt = select(Teacher).join(Kindergarten).options(selectinload(Teacher.kindergarten))
    return list(session.scalars(stmt.order_by(Kindergarten.code, Teacher.code)))


# --- export -------------------------------------------------------------------------------------


def _guide(workbook: Workbook) -> None:
    sheet = workbook.create_sheet(GUIDE_SHEET)
    sheet.append(["填写说明"])
    sheet["A1"].font = Font(bold=True)
    for line in GUIDE:
        sheet.append([line])
    sheet.column_dimensions["A"].width = 110


def _workbook(rows: list[list[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    if not isinstance(sheet, Worksheet):
        raise TypeError("expected isinstance(sheet, Worksheet)")
    sheet.title = SHEET
    write_table(sheet, HEADERS, rows)
    _guide(workbook)
    props = workbook.properties
    props.title, props.subject, props.creator = TITLE, "1+1+N 幼教联盟 教师名册", "Kinderflow"
    return save_workbook_deterministic(workbook)


def export_roster(session: Session) -> bytes:
    """Every kindergarten's teachers, left ones included; the same roster gives the same bytes."""
    rows: list[list[Any]] = []
    for number, t in enumerate(_teachers(session), start=1):
        k = t.kindergarten
        rows.append(
            [number, k.code, k.name, t.code, t.name, t.post, LEVEL_LABELS[t.level], t.birth_year, t.phone,
             roster_rules.STATUS_LABELS[t.active]]
        )  # fmt: skip
    return _workbook(rows)


def roster_template() -> bytes:
    """The empty roster, with the guide to filling it in."""
    return _workbook([])


# --- reading ------------------------------------------------------------------------------------


def _kindergarten(
    row: SheetRow, by_code: dict[str, Kindergarten], by_name: dict[str, Kindergarten]
) -> Kindergarten | None:
    code, name = cell_text(row.raw("园所编号")), cell_text(row.raw("园所名称"))
    by_its_code, by_its_name = by_code.get(code), by_name.get(name)
    if code and by_its_code is None:
        row.fail("园所编号", "unknown_kindergarten", f"「园所编号」{code} 不存在")
    elif name and by_its_name is None and not code:
        row.fail("园所名称", "unknown_kindergarten", f"「园所名称」{name} 不存在")
    elif not code and not name:
        row.fail("园所编号", "required", "「园所编号」和「园所名称」至少填写一项")
    elif code and name and by_its_name is not by_its_code:
        if by_its_code is None:
            raise RuntimeError("expected by_its_code is not None")
        message = f"「园所名称」{name} 与「园所编号」{code}（{by_its_code.name}）不是同一所幼儿园"
        row.fail("园所名称", "kindergarten_mismatch", message)
    else:
        return by_its_code or by_its_name
    return None


def _read_row(row: SheetRow, by_code: dict[str, Kindergarten], by_name: dict[str, Kindergarten]) -> RosterRow | None:
    kindergarten = _kindergarten(row, by_code, by_name)
    code = row.text("教师编号", max_len=roster_rules.CODE_MAX) or None
    name = row.checked("姓名", roster_rules.clean_name) if cell_text(row.raw("姓名")) else None
    if name is None and not cell_text(row.raw("姓名")):
        row.fail("姓名", "required", "「姓名」不能为空")
    post = row.checked("岗位", roster_rules.clean_post)
    if post is None and not cell_text(row.raw("岗位")):
        row.fail("岗位", "required", f"「岗位」不能为空（如 {roster_rules.DEFAULT_POST}）")
    level = row.choice("教师层级", LEVEL_LABELS)
    birth_year = row.checked("出生年份", roster_rules.parse_birth_year)
    phone = row.checked("联系电话", roster_rules.normalise_phone)
    active = row.choice("状态", roster_rules.STATUS_LABELS, required=False)
    if code is None and not cell_text(row.raw("联系电话")):
        row.fail("联系电话", "required", "未填写「教师编号」时须填写「联系电话」，用于识别教师")
    if row.errors:
        return None
    if kindergarten is None or name is None or post is None or level is None:
        raise RuntimeError(
            "expected kindergarten is not None and name is not None and post is not None and level is not None"
        )
    return RosterRow(row.number, kindergarten.id, code, name, post, level, birth_year, phone, active is not False)


# A row, the teacher it updates, and the fields whose value changes.
Change = tuple["RosterRow", Teacher, dict[str, Any]]


@dataclass
class _Plan:
    """What the import would do: rows matched to existing teachers, and rows that add one."""

    updates: list[tuple[RosterRow, Teacher]]
    creates: list[RosterRow]


def _match(rows: list[tuple[SheetRow, RosterRow]], teachers: list[Teacher], errors: list[FieldError]) -> _Plan:
    by_code = {(t.kindergarten_id, t.code): t for t in teachers}
    by_phone: dict[tuple[uuid.UUID, str], Teacher] = {}
    # The active teacher with a number wins over one who has left with the same number.
    for t in sorted(teachers, key=lambda t: (t.active, t.left_on is None)):
        if t.phone:
            by_phone[(t.kindergarten_id, t.phone)] = t
    plan = _Plan([], [])
    claimed: dict[uuid.UUID, int] = {}
    new_codes: dict[tuple[uuid.UUID, str], int] = {}
    for sheet_row, r in rows:
        if r.code is not None:
            teacher = by_code.get((r.kindergarten_id, r.code))
        else:
            if r.phone is None:
                raise RuntimeError("expected r.phone is not None")
            teacher = by_phone.get((r.kindergarten_id, r.phone))
        header = "教师编号" if r.code is not None else "联系电话"
        if teacher is not None and teacher.id in claimed:
            message = f"与第{claimed[teacher.id]}行是同一位教师（{teacher.code}）"
            errors.append(sheet_row.problem(header, "duplicate", message))
        elif teacher is not None:
            claimed[teacher.id] = r.row
            plan.updates.append((r, teacher))
        elif r.code is not None and (r.kindergarten_id, r.code) in new_codes:
            message = f"「教师编号」{r.code} 与第{new_codes[(r.kindergarten_id, r.code)]}行重复"
            errors.append(sheet_row.problem("教师编号", "duplicate", message))
        else:
            if r.code is not None:
                new_codes[(r.kindergarten_id, r.code)] = r.row
            plan.creates.append(r)
    return plan


def _check_phones(plan: _Plan, rows: dict[int, SheetRow], teachers: list[Teacher], errors: list[FieldError]) -> None:
    """After the import, a number may belong to one active teacher only."""
    targeted = {t.id for _, t in plan.updates}
    holders: dict[str, list[RosterRow | Teacher]] = defaultdict(list)
    for t in teachers:
        if t.id not in targeted and t.active and t.phone:
            holders[t.phone].append(t)
    for r in sorted([r for r, _ in plan.updates] + plan.creates, key=lambda r: r.row):
        if r.active and r.phone:
            holders[r.phone].append(r)
    for phone, group in holders.items():
        kept = [h for h in group if isinstance(h, Teacher)]
        in_sheet = [h for h in group if isinstance(h, RosterRow)]
        if kept:
            t = kept[0]
            owner = f"{t.kindergarten.name}的在职教师{t.name}（{t.code}）"
            message = f"「联系电话」{phone} 已由{owner}使用；如该教师已离职，请在表中将其「状态」改为「离职」"
            errors.extend(rows[r.row].problem("联系电话", "duplicate", message) for r in in_sheet)
        else:
            first = in_sheet[0]
            message = f"「联系电话」{phone} 与第{first.row}行（{first.name}）重复，在职教师的电话不能重复"
            errors.extend(rows[r.row].problem("联系电话", "duplicate", message) for r in in_sheet[1:])


def parse_roster(data: BinaryIO | bytes, *, kindergartens: list[Kindergarten], teachers: list[Teacher]) -> _Plan:
    """Read the workbook and check it against the registry; raise with every problem."""
    sheets = load_sheets(data, (SHEET,))
    errors: list[FieldError] = []
    table = read_table(sheets, SHEET, HEADERS, errors, optional=OPTIONAL_HEADERS)
    if table is None:
        raise refused(errors, sheet_order=(SHEET,), title=TITLE)
    by_code = {k.code: k for k in kindergartens}
    by_name = {k.name: k for k in kindergartens}
    rows: list[tuple[SheetRow, RosterRow]] = []
    for sheet_row in table:
        read = _read_row(sheet_row, by_code, by_name)
        errors.extend(sheet_row.errors)
        if read is not None:
            rows.append((sheet_row, read))
    plan = _match(rows, teachers, errors)
    _check_phones(plan, {s.number: s for s, _ in rows}, teachers, errors)
    if errors:
        raise refused(errors, sheet_order=(SHEET,), title=TITLE)
    return plan


# --- import -------------------------------------------------------------------------------------


def _codes(session: Session, kindergarten: Kindergarten, reserved: set[str], count: int) -> list[str]:
    """``count`` new teacher codes for one kindergarten, past every code in use or in the sheet."""
    # Drawing from the kindergarten's counter waits for anyone adding a teacher there right now.
    next_value(session, f"teacher:{kindergarten.id}")
    taken = set(session.scalars(select(Teacher.code).where(Teacher.kindergarten_id == kindergarten.id))) | reserved
    prefix = f"{kindergarten.code}-T"
    numbers = [int(c[len(prefix) :]) for c in taken if c.startswith(prefix) and c[len(prefix) :].isdigit()]
    codes: list[str] = []
    n = max(numbers, default=0)
    while len(codes) < count:
        n += 1
        if f"{prefix}{n:02d}" not in taken:
            codes.append(f"{prefix}{n:02d}")
    return codes


def _apply(session: Session, plan: _Plan, kindergartens: list[Kindergarten]) -> list[Change]:
    today = roster_rules.district_today()
    changes = [(r, t, {n: v for n, v in r.values().items() if getattr(t, n) != v}) for r, t in plan.updates]
    with session.no_autoflush:
        # A number moving between teachers is first let go of, so the unique index holds at each step.
        moving = [t for _, t, changed in changes if "phone" in changed or "active" in changed]
        for t in moving:
            t.phone = None
        if moving:
            session.flush()
        for r, t, changed in changes:
            for name, value in r.values().items():
                setattr(t, name, value)
            if "active" in changed:
                t.left_on = None if t.active else today
        session.flush()
        by_id = {k.id: k for k in kindergartens}
        new_by_kindergarten: dict[uuid.UUID, list[RosterRow]] = defaultdict(list)
        for r in plan.creates:
            new_by_kindergarten[r.kindergarten_id].append(r)
        for kindergarten_id, new_rows in sorted(new_by_kindergarten.items(), key=lambda item: by_id[item[0]].code):
            kindergarten = by_id[kindergarten_id]
            reserved = {r.code for r in new_rows if r.code}
            fresh = iter(_codes(session, kindergarten, reserved, sum(1 for r in new_rows if not r.code)))
            for r in new_rows:
                code = r.code or next(fresh)
                left_on = None if r.active else today
                session.add(Teacher(kindergarten=kindergarten, code=code, left_on=left_on, **r.values()))
        session.flush()
    return changes


def import_roster(session: Session, data: BinaryIO | bytes, *, actor: audit.Actor) -> RosterImportReport:
    """Check the whole roster workbook, then apply it in the caller's transaction."""
    kindergartens = list(session.scalars(select(Kindergarten)))
    teachers = _teachers(session)
    plan = parse_roster(read_upload(data), kindergartens=kindergartens, teachers=teachers)
    try:
        changes = _apply(session, plan, kindergartens)
    except IntegrityError:
        # Someone saved a teacher with one of these numbers or codes after the sheet was checked.
        raise Conflict("导入期间教师名册被他人修改，请重新导入", code="roster_changed") from None
    updated = sum(1 for _, _, changed in changes if changed)
    report = RosterImportReport(
        created=len(plan.creates),
        updated=updated,
        marked_left=sum(1 for r, _, changed in changes if "active" in changed and not r.active),
        unchanged=len(plan.updates) - updated,
        not_in_sheet=len(teachers) - len(plan.updates),
    )
    audit.append(session, entity_type="registry", entity_id="teacher_roster", event="roster_imported", actor=actor,
                 data=asdict(report))  # fmt: skip
    return report
