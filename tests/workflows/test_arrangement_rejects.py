"""A bad arrangement table is refused whole, every problem named by row and column, nothing imported."""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from docx import Document
from PIL import Image

from storage.db import Database
from tests.workflows.test_arrangement import (
    edited,
    exported,
    refused,
    with_cells,
)
from workflows.registry.credit_code import make_credit_code

# --- refused workbooks --------------------------------------------------------------------------


def test_missing_column_is_named(db: Database) -> None:
    data = edited(exported(db), lambda wb: wb["联盟安排表"].delete_cols(4))
    assert refused(db, data) == [("联盟安排表", "missing_column", "「联盟安排表」表缺少必需的列「统一社会信用代码」")]


def test_missing_sheet(db: Database) -> None:
    data = edited(exported(db), lambda wb: wb.remove(wb["联盟"]))
    assert refused(db, data) == [("联盟", "missing_sheet", "工作簿缺少「联盟」工作表")]


def test_duplicate_kindergarten_names_both_rows(db: Database) -> None:
    def duplicate(workbook: Any) -> None:
        sheet = workbook["联盟安排表"]
        sheet["B6"] = "K04"
        sheet["C12"] = sheet["C2"].value
        sheet["D13"] = sheet["D3"].value

    problems = refused(db, edited(exported(db), duplicate))
    credit = make_credit_code("52360111MJ0000002")
    for expected in [
        ("联盟安排表!B6", "duplicate", "第6行「园所编号」K04 与第5行重复"),
        ("联盟安排表!C12", "duplicate", "第12行「园所名称」青山湖区第一幼儿园 与第2行重复"),
        ("联盟安排表!D13", "duplicate", f"第13行「统一社会信用代码」{credit} 与第3行重复"),
        # K05 is no longer in the sheet but keeps its name, which row 6 still uses.
        ("联盟安排表!C6", "conflict", "第6行「园所名称」蓓蕾幼儿园 已被不在本表中的园所 K05 使用"),
    ]:
        assert expected in problems


def test_unknown_alliance(db: Database) -> None:
    data = edited(exported(db), with_cells(N7="LM09"))
    problems = refused(db, data)
    assert ("联盟安排表!N7", "unknown_alliance", "第7行「联盟编号」LM09 不存在于「联盟」表") in problems
    # K06 was LM02's lead, so LM02 is now without one.
    assert ("联盟!A3", "missing_role", "第3行：联盟 LM02 没有龙头园") in problems
    assert len(problems) == 2


def test_two_leads_in_one_alliance(db: Database) -> None:
    # K04 is made a district-direct kindergarten, so the only problem is the second lead.
    data = edited(exported(db), with_cells(E5="区直属", O5="龙头园"))
    assert refused(db, data) == [
        (
            "联盟安排表!O5",
            "duplicate_role",
            "第5行：联盟 LM01 的龙头园已是第2行，一个联盟只能有一个龙头园",
        )
    ]


def test_lead_held_by_a_kindergarten_not_in_the_sheet(db: Database) -> None:
    def drop_lead(workbook: Any) -> None:
        sheet = workbook["联盟安排表"]
        sheet.delete_rows(2)  # K01, LM01's lead, stays lead in the registry
        sheet["E2"], sheet["O2"] = "区直属", "龙头园"  # K02, as a district-direct kindergarten, claims the seat

    problems = refused(db, edited(exported(db), drop_lead))
    # K02 left its pillar seat for the lead's, so LM01 also lacks a pillar.
    assert [(f, c) for f, c, _ in problems] == [
        ("联盟安排表!O2", "duplicate_role"),
        ("联盟!A2", "missing_role"),
    ]
    assert "不在本表中的园所 K01（青山湖区第一幼儿园）" in problems[0][2]


def test_several_problems_are_all_listed(db: Database) -> None:
    def spoil(workbook: Any) -> None:
        sheet = workbook["联盟安排表"]
        sheet["D4"] = "52360111MJ000000X"  # 17 characters
        good = make_credit_code("52360111MJ0000004")
        sheet["D5"] = good[:17] + ("1" if good[17] == "0" else "0")  # wrong check character
        sheet["E6"] = "公办"
        sheet["P7"] = "2024-13-01"
        sheet["N12"] = None  # role without alliance, on an unaffiliated row
        sheet["O12"] = "成员园"
        sheet["O13"] = "会员园"
        sheet["C9"] = None
        workbook["联盟"]["C2"] = "暂停"

    fields = {f: c for f, c, _ in refused(db, edited(exported(db), spoil))}
    assert fields == {
        "联盟!C2": "invalid_choice",
        "联盟安排表!D4": "invalid_credit_code",
        "联盟安排表!D5": "invalid_credit_code",
        "联盟安排表!E6": "invalid_choice",
        "联盟安排表!P7": "invalid_date",
        "联盟安排表!N12": "role_without_alliance",
        "联盟安排表!O13": "invalid_choice",
        "联盟安排表!C9": "required",
    }


def test_alliance_without_role_and_role_without_alliance(db: Database) -> None:
    def spoil(workbook: Any) -> None:
        sheet = workbook["联盟安排表"]
        sheet["N12"] = "LM01"
        sheet["O13"] = "成员园"

    problems = refused(db, edited(exported(db), spoil))
    assert problems == [
        ("联盟安排表!O12", "alliance_without_role", "第12行填写了「联盟编号」但未填写「联盟角色」"),
        ("联盟安排表!N13", "role_without_alliance", "第13行填写了「联盟角色」但未填写「联盟编号」"),
    ]


def test_alliance_without_pillar(db: Database) -> None:
    # K07 becomes a private kindergarten, which a member may be.
    data = edited(exported(db), with_cells(E8="民办及企事业办园", O8="成员园"))
    assert refused(db, data) == [("联盟!A3", "missing_role", "第3行：联盟 LM02 没有支柱园")]


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, format="PNG")
    return out.getvalue()


def docx_bytes() -> bytes:
    out = io.BytesIO()
    Document().save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    "make",
    [png_bytes, lambda: os.urandom(4096), docx_bytes, lambda: b""],
    ids=["png", "random", "docx", "empty"],
)
def test_not_an_xlsx(db: Database, make: Callable[[], bytes]) -> None:
    exported(db)
    problems = refused(db, make())
    assert [(f, c) for f, c, _ in problems] == [("file", "not_xlsx")]
    assert ".xlsx" in problems[0][2]


def test_zip_bomb_is_refused_before_reading(db: Database) -> None:
    exported(db)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as entry:
            chunk = bytes(1024 * 1024)
            for _ in range(200):
                entry.write(chunk)
    assert len(out.getvalue()) < 1024 * 1024
    assert refused(db, out.getvalue()) == [("file", "zip_bomb", "文件解压后过大或压缩比异常，已拒绝读取")]


def test_small_but_highly_compressed_zip_is_refused(db: Database) -> None:
    exported(db)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/sharedStrings.xml", bytes(5 * 1024 * 1024))  # ratio ~1000, under 50 MB
    assert [c for _, c, _ in refused(db, out.getvalue())] == ["zip_bomb"]
