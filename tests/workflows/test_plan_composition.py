"""The plan's 1+1+N composition in the arrangement table (附件1), and the alliances' service areas.

方案: 「各联盟形成以1所省级示范园、公办园为龙头，1所乡镇中心幼儿园为支柱，N所民办园为主体」 and
「各民办园结合乡镇、街道区域划分……申请」.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from storage.db import Database
from tests.workflows.test_arrangement import ACTOR, TODAY, edited, exported, refused, with_cells
from workflows.registry.arrangement import import_arrangement
from workflows.registry.models import Alliance

# Rows of the exported sheet: 2 K01 LM01 lead (区直属, 省级示范), 3 K02 pillar, 4 K03 member (民办, 市级示范),
# 5 K04 member (民办), 6 K05; 7 K06 LM02 lead (区直属), 8 K07 pillar, 9-11 members; 12 K11, 13 K12 outside.


def _without_k01(workbook: Any) -> None:
    """K01 leaves LM01, so another row may take the lead's seat."""
    sheet = workbook["联盟安排表"]
    sheet["N2"] = sheet["O2"] = sheet["P2"] = None


def test_以1所省级示范园_公办园为龙头_a_private_kindergarten_as_龙头园_is_refused_at_its_row_and_column(
    db: Database,
) -> None:
    def private_lead(workbook: Any) -> None:
        _without_k01(workbook)
        workbook["联盟安排表"]["O5"] = "龙头园"  # K04, 民办, no rating

    assert refused(db, edited(exported(db), private_lead)) == [
        (
            "联盟安排表!O5",
            "composition",
            "第5行「联盟角色」为龙头园，但该园为民办及企事业办园；龙头园须为省级示范园或区直属公办园",
        )
    ]


def test_以1所省级示范园_公办园为龙头_a_private_provincial_demonstration_kindergarten_may_lead(db: Database) -> None:
    def provincial_lead(workbook: Any) -> None:
        _without_k01(workbook)
        workbook["联盟安排表"]["F5"] = "省级示范"
        workbook["联盟安排表"]["O5"] = "龙头园"

    with db.session() as s:
        import_arrangement(s, edited(exported(db), provincial_lead), actor=ACTOR, today=TODAY)
    with db.session() as s:
        lm01 = s.scalars(select(Alliance).where(Alliance.code == "LM01")).one()
        assert lm01.lead is not None and lm01.lead.code == "K04"


def test_1所乡镇中心幼儿园为支柱_a_支柱园_that_is_no_township_central_kindergarten_is_refused(db: Database) -> None:
    def private_pillar(workbook: Any) -> None:
        sheet = workbook["联盟安排表"]
        sheet["N3"] = sheet["O3"] = sheet["P3"] = None  # K02 leaves
        sheet["O4"] = "支柱园"  # K03, 民办 (市级示范)

    assert refused(db, edited(exported(db), private_pillar)) == [
        (
            "联盟安排表!O4",
            "composition",
            "第4行「联盟角色」为支柱园，但该园为民办及企事业办园（市级示范）；支柱园须为乡镇中心幼儿园",
        )
    ]


def test_N所民办园为主体_a_member_that_is_not_private_is_refused(db: Database) -> None:
    problems = refused(db, edited(exported(db), with_cells(E4="区直属")))
    assert problems == [
        (
            "联盟安排表!O4",
            "composition",
            "第4行「联盟角色」为成员园，但该园为区直属（市级示范）；成员园须为民办园（民办及企事业办园）",
        )
    ]


def test_every_composition_problem_is_listed_with_the_others(db: Database) -> None:
    def spoil(workbook: Any) -> None:
        sheet = workbook["联盟安排表"]
        sheet["E7"] = "民办及企事业办园"  # LM02's lead becomes private
        sheet["E8"] = "区直属"  # LM02's pillar is no longer township central
        sheet["C9"] = None  # and an unrelated problem

    fields = {(f, c) for f, c, _ in refused(db, edited(exported(db), spoil))}
    assert fields == {
        ("联盟安排表!O7", "composition"),
        ("联盟安排表!O8", "composition"),
        ("联盟安排表!C9", "required"),
    }


# --- service areas ------------------------------------------------------------------------------------


def _areas(db: Database) -> dict[str, list[str]]:
    with db.session() as s:
        return {a.code: list(a.service_area) for a in s.scalars(select(Alliance))}


def test_结合乡镇_街道区域划分_the_table_sets_each_alliances_service_area(db: Database) -> None:
    def areas(workbook: Any) -> None:
        workbook["联盟"]["D2"] = "湖坊镇、京东镇，上海路街道"
        workbook["联盟"]["D3"] = "塘山镇 罗家镇"

    with db.session() as s:
        report = import_arrangement(s, edited(exported(db), areas), actor=ACTOR, today=TODAY)
    assert report.alliances_updated == 2
    assert _areas(db) == {"LM01": ["湖坊镇", "京东镇", "上海路街道"], "LM02": ["塘山镇", "罗家镇"], "LM03": []}


def test_结合乡镇_街道区域划分_a_town_served_by_two_alliances_is_refused_at_the_second(db: Database) -> None:
    problems = refused(db, edited(exported(db), lambda wb: wb["联盟"].__setitem__("D3", "塘山镇、京东镇")))
    assert problems == [
        (
            "联盟!D3",
            "area_taken",
            "第3行「服务区域」京东镇 已是第2行联盟 LM01的服务区域，一个乡镇/街道只由一个联盟服务",
        )
    ]


def test_a_town_kept_by_an_alliance_missing_from_the_sheet_is_taken(db: Database) -> None:
    def drop_lm01(workbook: Any) -> None:
        workbook["联盟"].delete_rows(2)  # LM01 keeps 湖坊镇、京东镇
        workbook["联盟"]["D2"] = "湖坊镇"

    problems = refused(db, edited(exported(db), drop_lm01))
    assert ("联盟!D2", "area_taken") in {(f, c) for f, c, _ in problems}
    assert any("不在本表中的联盟 LM01" in m for _, _, m in problems)


def test_a_table_without_the_service_area_column_keeps_the_areas(db: Database) -> None:
    data = edited(exported(db), lambda wb: wb["联盟"].delete_cols(4))
    with db.session() as s:
        report = import_arrangement(s, data, actor=ACTOR, today=TODAY)
    assert not report.changed
    assert _areas(db)["LM01"] == ["湖坊镇", "京东镇"]
