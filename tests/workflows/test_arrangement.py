"""The arrangement table (附件1 联盟安排表): export, import back, and refuse bad workbooks whole."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.db import Database
from tests.fixtures.database import empty_all_tables
from workflows.audit import Actor, AuditEntry
from workflows.errors import ValidationFailed
from workflows.registry.arrangement import export_arrangement, import_arrangement
from workflows.registry.credit_code import make_credit_code
from workflows.registry.models import (
    Alliance,
    AllianceRole,
    Category,
    Kindergarten,
    KindergartenStatus,
    Membership,
    Rating,
)

ACTOR = Actor(id="u-1", name="成幼科 李老师", role="bureau")
TODAY = date(2025, 9, 1)
JOINED = date(2023, 9, 1)

# Exported row order: LM01 lead, pillar, 3 members (rows 2-6); LM02 likewise (7-11); then K11, K12.
KINDERGARTENS = [
    # code, name, category, rating, alliance, role
    (
        "K01",
        "青山湖区第一幼儿园",
        Category.DISTRICT_DIRECT,
        Rating.PROVINCIAL_DEMO,
        "LM01",
        AllianceRole.LEAD,
    ),
    ("K02", "京东镇中心幼儿园", Category.TOWNSHIP_CENTRAL, Rating.NONE, "LM01", AllianceRole.PILLAR),
    ("K03", "A&B<幼儿园>", Category.PRIVATE, Rating.MUNICIPAL_DEMO, "LM01", AllianceRole.MEMBER),
    ("K04", "小太阳幼儿园", Category.PRIVATE, Rating.NONE, "LM01", AllianceRole.MEMBER),
    ("K05", "蓓蕾幼儿园", Category.PRIVATE, Rating.NONE, "LM01", AllianceRole.MEMBER),
    ("K06", "青山湖区第二幼儿园", Category.DISTRICT_DIRECT, Rating.NONE, "LM02", AllianceRole.LEAD),
    ("K07", "湖坊镇中心幼儿园", Category.TOWNSHIP_CENTRAL, Rating.NONE, "LM02", AllianceRole.PILLAR),
    ("K08", '七彩虹"双语"幼儿园', Category.PRIVATE, Rating.NONE, "LM02", AllianceRole.MEMBER),
    ("K09", "童心'幼儿园", Category.PRIVATE, Rating.NONE, "LM02", AllianceRole.MEMBER),
    ("K10", "启智幼儿园", Category.PRIVATE, Rating.NONE, "LM02", AllianceRole.MEMBER),
    ("K11", "新芽幼儿园", Category.PRIVATE, Rating.NONE, None, None),
    ("K12", "晨曦幼儿园", Category.PRIVATE, Rating.NONE, None, None),
]


def build_registry(session: Session) -> None:
    alliances = {
        "LM01": Alliance(code="LM01", name="第一联盟（青山湖）", service_area=["湖坊镇", "京东镇"]),
        "LM02": Alliance(code="LM02", name="东&西<联盟>"),
        "LM03": Alliance(code="LM03", name="已停用联盟", active=False),
    }
    session.add_all(alliances.values())
    for n, (code, name, category, rating, alliance, role) in enumerate(KINDERGARTENS, start=1):
        k = Kindergarten(
            code=code,
            name=name,
            # K12 has no credit code yet; the others begin with a digit the sheet must keep as text.
            credit_code=None if code == "K12" else make_credit_code(f"52360111MJ{n:07d}"),
            category=category,
            rating=rating,
            status=KindergartenStatus.UNDER_CONSTRUCTION if code == "K02" else KindergartenStatus.OPERATING,
            town="京东镇" if code == "K02" else "湖坊镇",
            address="" if code == "K11" else f"南昌市青山湖区民强路{n}号",
            head_name=f"园长{n}",
            head_phone=f"0791-8800{n:04d}",
            contact_name="王老师",
            contact_phone=f"0{n:02d}13800000",
        )
        session.add(k)
        if alliance and role:
            started = date(2022, 3, 1) if code == "K03" else JOINED
            session.add(Membership(alliance=alliances[alliance], kindergarten=k, role=role, started_on=started))
        if code == "K11":  # history that must not show in the sheet
            session.add(
                Membership(
                    alliance=alliances["LM01"],
                    kindergarten=k,
                    role=AllianceRole.MEMBER,
                    started_on=date(2021, 9, 1),
                    ended_on=date(2023, 7, 1),
                )
            )
    session.flush()


def snapshot(session: Session) -> dict[str, Any]:
    kindergartens = sorted(
        (
            k.code, k.name, k.credit_code, k.category, k.rating, k.status, k.town, k.address,
            k.head_name, k.head_phone, k.contact_name, k.contact_phone,
        )
        for k in session.scalars(select(Kindergarten))
    )  # fmt: skip
    alliances = sorted((a.code, a.name, a.active, tuple(a.service_area)) for a in session.scalars(select(Alliance)))
    current = sorted(
        (m.kindergarten.code, m.alliance.code, m.role, m.started_on)
        for m in session.scalars(select(Membership).where(Membership.ended_on.is_(None)))
    )
    return {"kindergartens": kindergartens, "alliances": alliances, "current": current}


def row_counts(db: Database) -> tuple[int, ...]:
    with db.session() as s:
        return tuple(
            s.scalar(select(func.count()).select_from(model)) or 0
            for model in (Kindergarten, Alliance, Membership, AuditEntry)
        )


def exported(db: Database) -> bytes:
    with db.session() as s:
        build_registry(s)
    with db.session() as s:
        return export_arrangement(s)


def edited(data: bytes, change: Callable[[Any], None]) -> bytes:
    workbook = load_workbook(io.BytesIO(data))
    change(workbook)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def with_cells(**values: Any) -> Callable[[Any], None]:
    """A change that writes ``values`` (by cell reference) into the arrangement sheet."""

    def change(workbook: Any) -> None:
        for ref, value in values.items():
            workbook["联盟安排表"][ref] = value

    return change


def refused(db: Database, data: bytes) -> list[tuple[str, str, str]]:
    """Import ``data``; assert it fails and changes nothing; return (field, code, message) triples."""
    before = row_counts(db)
    with db.session() as s:
        registry = snapshot(s)
    with pytest.raises(ValidationFailed) as caught, db.session() as s:
        import_arrangement(s, data, actor=ACTOR, today=TODAY)
    assert row_counts(db) == before
    with db.session() as s:
        assert snapshot(s) == registry
    return [(e.field, e.code, e.message) for e in caught.value.errors]


# --- round trip ---------------------------------------------------------------------------------


def test_export_into_empty_database_gives_back_the_registry(db: Database) -> None:
    data = exported(db)
    with db.session() as s:
        original = snapshot(s)
        assert export_arrangement(s) == data  # same registry, same bytes
    empty_all_tables(db)

    with db.session() as s:
        report = import_arrangement(s, io.BytesIO(data), actor=ACTOR, today=TODAY)
    assert (report.alliances_created, report.kindergartens_created) == (3, 12)
    assert (report.memberships_started, report.memberships_ended, report.unchanged) == (10, 0, 0)
    with db.session() as s:
        assert snapshot(s) == original
        assert export_arrangement(s) == data
        entry = s.scalars(select(AuditEntry)).one()
    assert (entry.entity_type, entry.entity_id, entry.event) == (
        "registry",
        "arrangement",
        "arrangement_imported",
    )
    assert entry.data["kindergartens_created"] == 12
    assert entry.actor_name == ACTOR.name


def test_reimport_changes_nothing(db: Database) -> None:
    data = exported(db)
    with db.session() as s:
        before = snapshot(s)
    counts = row_counts(db)
    with db.session() as s:
        report = import_arrangement(s, data, actor=ACTOR, today=TODAY)
    assert not report.changed
    assert report.unchanged == 12
    assert report.not_in_sheet == ()
    with db.session() as s:
        assert snapshot(s) == before
    # Only the audit row is new.
    assert row_counts(db) == (*counts[:3], counts[3] + 1)


def test_moving_a_kindergarten_ends_one_membership_and_starts_another(db: Database) -> None:
    def move_k04_to_lm02(workbook: Any) -> None:
        sheet = workbook["联盟安排表"]
        assert sheet["B5"].value == "K04"
        sheet["N5"], sheet["P5"] = "LM02", None  # no date: the move starts today

    data = edited(exported(db), move_k04_to_lm02)
    with db.session() as s:
        report = import_arrangement(s, data, actor=ACTOR, today=TODAY)
    assert (report.memberships_ended, report.memberships_started, report.unchanged) == (1, 1, 11)
    with db.session() as s:
        k04 = s.scalars(select(Kindergarten).where(Kindergarten.code == "K04")).one()
        history = sorted((m.alliance.code, m.started_on, m.ended_on) for m in k04.memberships)
    assert history == [("LM01", JOINED, TODAY), ("LM02", TODAY, None)]


def test_swapping_leads_and_names(db: Database) -> None:
    def swap(workbook: Any) -> None:
        sheet = workbook["联盟安排表"]
        sheet["N2"], sheet["N7"] = "LM02", "LM01"  # the two leads change alliances
        sheet["C7"], sheet["C8"] = sheet["C8"].value, sheet["C7"].value
        sheet["D7"], sheet["D8"] = sheet["D8"].value, sheet["D7"].value
        sheet["K9"] = "13907910000"
        workbook["联盟"]["B2"], workbook["联盟"]["B3"] = "东&西<联盟>", "第一联盟（青山湖）"

    data = edited(exported(db), swap)
    with db.session() as s:
        report = import_arrangement(s, data, actor=ACTOR, today=TODAY)
    assert (report.memberships_ended, report.memberships_started) == (2, 2)
    assert (report.kindergartens_updated, report.alliances_updated, report.unchanged) == (3, 2, 8)
    with db.session() as s:
        lm01 = s.scalars(select(Alliance).where(Alliance.code == "LM01")).one()
        assert (lm01.name, lm01.lead and lm01.lead.code, lm01.pillar and lm01.pillar.code) == (
            "东&西<联盟>",
            "K06",
            "K02",
        )
        k06 = s.scalars(select(Kindergarten).where(Kindergarten.code == "K06")).one()
        assert k06.name == "湖坊镇中心幼儿园"


def test_kindergartens_missing_from_the_sheet_are_left_alone(db: Database) -> None:
    data = edited(exported(db), lambda wb: wb["联盟安排表"].delete_rows(13))  # K12
    with db.session() as s:
        report = import_arrangement(s, data, actor=ACTOR, today=TODAY)
    assert report.not_in_sheet == ("K12",)
    assert not report.changed


# --- the exported workbook ----------------------------------------------------------------------


def test_exported_workbook_layout(db: Database) -> None:
    workbook = load_workbook(io.BytesIO(exported(db)))
    assert workbook.sheetnames == ["联盟安排表", "联盟"]
    assert workbook.properties.title == "附件1 联盟安排表"
    assert workbook.properties.created == workbook.properties.modified == datetime(2000, 1, 1)  # noqa: DTZ001 - openpyxl's naive UTC properties
    sheet = workbook["联盟安排表"]
    assert [c.value for c in sheet[1]][:4] == ["序号", "园所编号", "园所名称", "统一社会信用代码"]
    assert all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:P13"
    assert sheet.column_dimensions["C"].width >= 2 * len("青山湖区第一幼儿园")
    assert [sheet.cell(row, 2).value for row in range(2, 14)] == [k[0] for k in KINDERGARTENS]
    assert sheet["C4"].value == "A&B<幼儿园>"
    # Codes and phones are text, so Excel keeps the digits as they are; the date is a date.
    assert sheet["D2"].data_type == "s" and sheet["D2"].value.startswith("5236")
    assert sheet["M2"].data_type == "s" and sheet["M2"].value == "00113800000"
    assert sheet["P2"].value == datetime(2023, 9, 1)  # noqa: DTZ001 - a calendar date cell
    assert sheet["P4"].value == datetime(2022, 3, 1)  # noqa: DTZ001 - a calendar date cell
    assert sheet["N12"].value is None and sheet["P12"].value is None
    alliances = workbook["联盟"]
    assert [[c.value for c in row] for row in alliances.iter_rows()] == [
        ["联盟编号", "联盟名称", "状态", "服务区域"],
        ["LM01", "第一联盟（青山湖）", "启用", "湖坊镇、京东镇"],
        ["LM02", "东&西<联盟>", "启用", None],
        ["LM03", "已停用联盟", "停用", None],
    ]
    assert alliances.freeze_panes == "A2" and alliances.auto_filter.ref == "A1:D4"


def test_export_zip_has_fixed_timestamps(db: Database) -> None:
    data = exported(db)
    with db.session() as s:
        again = export_arrangement(s)
    assert again == data
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert {e.date_time for e in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert archive.testzip() is None
