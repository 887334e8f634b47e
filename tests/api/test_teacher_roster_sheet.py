"""The district roster as .xlsx through the API: export, template, import all or nothing."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from typing import Any

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from workflows.audit import AuditEntry
from workflows.registry import roster_sheet
from workflows.registry.models import Teacher
from workflows.registry.roster_rules import PHONE_FORMAT, birth_year_range

HEADERS = ["序号", "园所编号", "园所名称", "教师编号", "姓名", "岗位", "教师层级", "出生年份", "联系电话", "状态"]


def export(client, login, username: str = "officer") -> bytes:
    r = client.get("/api/teachers/roster.xlsx", headers=login(username))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''%E6%95%99%E5%B8%88%E5%90%8D%E5%86%8C.xlsx" in r.headers["content-disposition"]
    return r.content


def rows_of(data: bytes) -> list[list[Any]]:
    sheet = load_workbook(io.BytesIO(data))["教师名册"]
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def edited(data: bytes, change: Callable[[Any], None]) -> bytes:
    workbook = load_workbook(io.BytesIO(data))
    change(workbook["教师名册"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def appended(*rows: list[Any]) -> Callable[[Any], None]:
    def change(sheet: Any) -> None:
        for row in rows:
            sheet.append(row)

    return change


def upload(client, login, data: bytes, username: str = "officer"):
    return client.post(
        "/api/teachers/import",
        headers=login(username),
        files={"file": ("教师名册.xlsx", data, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")},
    )


def count(runtime) -> int:
    with runtime.db.session() as s:
        return s.scalar(select(func.count()).select_from(Teacher))


def test_export_lists_every_teacher_and_is_deterministic(client, world, login, runtime):
    client.post(
        "/api/teachers",
        headers=login("kg-a1"),
        json={"name": "周晓梅", "level": "backbone", "birth_year": 1990, "phone": "0791-88886666"},
    )
    data = export(client, login)
    assert data == export(client, login, "researcher")
    rows = rows_of(data)
    assert rows[0] == HEADERS
    assert len(rows) == 1 + len(world.kindergartens) - 1 + 1  # every kindergarten but C-OUT has a head
    by_code = {r[3]: r for r in rows[1:]}
    assert by_code["A-M1-T02"][1:] == [
        "A-M1",
        "A-M1 A&B<幼儿园>",
        "A-M1-T02",
        "周晓梅",
        "教师",
        "骨干教师",
        1990,
        "0791-88886666",
        "在职",
    ]
    assert [r[0] for r in rows[1:]] == list(range(1, len(rows)))
    # Text cells stay text in Excel (leading zeros of landlines).
    sheet = load_workbook(io.BytesIO(data))["教师名册"]
    assert sheet["I2"].number_format == "@"
    assert "填写说明" in load_workbook(io.BytesIO(data)).sheetnames


def test_template_is_the_empty_roster(client, world, login):
    r = client.get("/api/teachers/template.xlsx", headers=login("admin"))
    assert r.status_code == 200
    assert rows_of(r.content) == [HEADERS]
    assert r.content == client.get("/api/teachers/template.xlsx", headers=login("officer")).content


def test_only_the_bureau_exports_and_only_officer_and_admin_import(client, world, login):
    data = export(client, login)
    for username in ("kg-a1", "lead-a", "pillar-a"):
        assert client.get("/api/teachers/roster.xlsx", headers=login(username)).status_code == 404
        assert client.get("/api/teachers/template.xlsx", headers=login(username)).status_code == 404
        assert upload(client, login, data, username).status_code == 404
    assert upload(client, login, data, "researcher").status_code == 404
    assert upload(client, login, data, "admin").status_code == 200


def test_round_trip_changes_nothing(client, world, login, runtime):
    client.post(
        "/api/teachers", headers=login("kg-b1"), json={"name": "周晓梅", "level": "new", "phone": "13800138000"}
    )
    before = export(client, login)
    r = upload(client, login, before)
    assert r.status_code == 200, r.text
    total = count(runtime)
    assert r.json() == {"created": 0, "updated": 0, "marked_left": 0, "unchanged": total, "not_in_sheet": 0}
    assert export(client, login) == before


def test_import_adds_updates_and_marks_left(client, world, login, runtime):
    at = {row[3]: i for i, row in enumerate(rows_of(export(client, login)), start=1)}
    data = edited(
        export(client, login),
        lambda sheet: (
            # A-M1's head moves on; B-M1's head gets a phone and a birth year; two new teachers by name or code.
            sheet.cell(row=at["A-M1-T1"], column=10, value="离职"),
            sheet.cell(row=at["B-M1-T1"], column=8, value=1985),
            sheet.cell(row=at["B-M1-T1"], column=9, value="13912345678"),
            sheet.append([None, "A-M1", None, None, "新教师甲", "教师", "新教师", "2000", "138 0000 0001", None]),
            sheet.append(
                [None, None, "B-M2 A&B<幼儿园>", "B-M2-T09", "新教师乙", "保育员", "青年教师", None, None, "在职"]
            ),
        ),
    )
    r = upload(client, login, data)
    assert r.status_code == 200, r.text
    assert r.json() == {"created": 2, "updated": 2, "marked_left": 1, "unchanged": 6, "not_in_sheet": 0}
    officer = login("officer")
    by_code = {t["code"]: t for t in client.get("/api/teachers", headers=officer).json()}
    assert by_code["A-M1-T1"]["active"] is False and by_code["A-M1-T1"]["left_on"]
    assert (by_code["B-M1-T1"]["birth_year"], by_code["B-M1-T1"]["phone"]) == (1985, "13912345678")
    assert by_code["A-M1-T02"]["name"] == "新教师甲" and by_code["A-M1-T02"]["phone"] == "13800000001"
    assert by_code["B-M2-T09"]["post"] == "保育员"
    with runtime.db.session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.event == "roster_imported")).one()
        assert entry.data["created"] == 2

    # Without a code, a row finds its teacher by phone within the kindergarten: no second entry.
    again = edited(
        export(client, login),
        appended([None, "A-M1", None, None, "新教师甲", "业务园长", "骨干教师", 2000, "13800000001", None]),
    )
    r = upload(client, login, again)
    assert r.status_code == 422  # the sheet lists A-M1-T02 twice now (by code, and by phone)
    problems = {(e["field"], e["message"]) for e in r.json()["errors"]}
    assert problems == {("教师名册!I12", "第12行与第3行是同一位教师（A-M1-T02）")}


def test_a_phone_can_move_between_kindergartens_in_one_import(client, world, login):
    t = client.post(
        "/api/teachers", headers=login("kg-a1"), json={"name": "调动", "level": "young", "phone": "13700137000"}
    ).json()
    row = next(i for i, r in enumerate(rows_of(export(client, login)), start=1) if r[3] == t["code"])
    data = edited(
        export(client, login),
        lambda sheet: (
            sheet.cell(row=row, column=10, value="离职"),
            sheet.append([None, "B-M1", None, None, "调动", "教师", "青年教师", None, "13700137000", "在职"]),
        ),
    )
    r = upload(client, login, data)
    assert r.status_code == 200, r.text
    holders = client.get("/api/teachers?q=13700137000", headers=login("officer")).json()
    assert sorted((h["code"], h["active"]) for h in holders) == [("A-M1-T02", False), ("B-M1-T02", True)]


def test_a_bad_workbook_is_refused_whole_with_every_problem_by_row_and_column(client, world, login, runtime):
    client.post(
        "/api/teachers", headers=login("kg-a1"), json={"name": "原主人", "level": "young", "phone": "13900139000"}
    )
    before = export(client, login)
    total = count(runtime)
    assert len(rows_of(before)) == 10  # the sheet's rows 2-10; the rows below start at 11
    data = edited(
        before,
        appended(
            [None, "A-M2", None, None, "好的一行", "教师", "新教师", 1999, "13811112222", None],
            [None, "Z-99", None, None, "未知园", "教师", "新教师", None, "13811113333", None],
            [None, "A-M2", "B-M1 A&B<幼儿园>", None, "园所不一致", "教师", "新教师", None, "13811114444", None],
            [None, None, None, None, "", "", "专家", 1900, "12345", "退休"],
            [None, "B-M2", None, None, "撞号", "教师", "新教师", None, "139 0013 9000", None],
            [None, "B-M2", None, None, "表内重号", "教师", "新教师", None, "13811112222", None],
            [None, "B-M2", None, None, "无从识别", "教师", "新教师", None, None, None],
        ),
    )
    r = upload(client, login, data)
    assert r.status_code == 422
    body = r.json()
    low, high = birth_year_range()
    assert body["message"] == "教师名册有 12 处问题，未导入任何内容"
    assert [(e["field"], e["message"]) for e in body["errors"]] == [
        ("教师名册!B12", "第12行「园所编号」Z-99 不存在"),
        ("教师名册!C13", "第13行「园所名称」B-M1 A&B<幼儿园> 与「园所编号」A-M2（A-M2 A&B<幼儿园>）不是同一所幼儿园"),
        ("教师名册!B14", "第14行「园所编号」和「园所名称」至少填写一项"),
        ("教师名册!E14", "第14行「姓名」不能为空"),
        ("教师名册!F14", "第14行「岗位」不能为空（如 教师）"),
        ("教师名册!G14", "第14行「教师层级」“专家”不是有效选项（可选：新教师、青年教师、骨干教师、学科带头人）"),
        ("教师名册!H14", f"第14行「出生年份」“1900”有误：出生年份须在 {low} 至 {high} 年之间"),
        ("教师名册!I14", f"第14行「联系电话」“12345”有误：电话号码格式不正确（{PHONE_FORMAT}）"),
        ("教师名册!J14", "第14行「状态」“退休”不是有效选项（可选：在职、离职）"),
        ("教师名册!I15", "第15行「联系电话」13900139000 与第3行（原主人）重复，在职教师的电话不能重复"),
        ("教师名册!I16", "第16行「联系电话」13811112222 与第11行（好的一行）重复，在职教师的电话不能重复"),
        ("教师名册!I17", "第17行未填写「教师编号」时须填写「联系电话」，用于识别教师"),
    ]
    assert {e["code"] for e in body["errors"]} >= {"unknown_kindergarten", "duplicate", "required", "invalid"}
    assert count(runtime) == total
    assert export(client, login) == before  # nothing was imported, not even the good row

    # A sheet that lists only new teachers names the active teacher who already has the number.
    template = client.get("/api/teachers/template.xlsx", headers=login("officer")).content
    partial = edited(
        template, appended([None, "B-M2", None, None, "撞号", "教师", "新教师", None, "13900139000", None])
    )
    r = upload(client, login, partial)
    assert [(e["field"], e["message"]) for e in r.json()["errors"]] == [
        (
            "教师名册!I2",
            "第2行「联系电话」13900139000 已由A-M1 A&B<幼儿园>的在职教师原主人（A-M1-T02）使用；"
            "如该教师已离职，请在表中将其「状态」改为「离职」",
        )
    ]

    # Fixed (the bad rows dropped, the clash resolved by marking the holder left), it goes in whole.
    holder_row = next(i for i, row in enumerate(rows_of(before), start=1) if row[4] == "原主人")

    def fix(sheet: Any) -> None:
        sheet.delete_rows(12, 6)
        sheet.cell(row=holder_row, column=10, value="离职")
        sheet.append([None, "B-M2", None, None, "撞号", "教师", "新教师", None, "139 0013 9000", None])

    r = upload(client, login, edited(data, fix))
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 2 and r.json()["marked_left"] == 1
    assert count(runtime) == total + 2


def test_missing_columns_and_files_that_are_no_workbook(client, world, login):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "教师名册"
    sheet.append(["园所编号", "姓名"])
    out = io.BytesIO()
    workbook.save(out)
    r = upload(client, login, out.getvalue())
    assert r.status_code == 422
    missing = [e["message"] for e in r.json()["errors"]]
    assert "「教师名册」表缺少必需的列「教师层级」" in missing and len(missing) == 7

    wrong_sheet = io.BytesIO()
    Workbook().save(wrong_sheet)
    assert (
        upload(client, login, wrong_sheet.getvalue()).json()["errors"][0]["message"] == "工作簿缺少「教师名册」工作表"
    )
    junk = upload(client, login, b"PK\x03\x04 not really a zip")
    assert junk.status_code == 422 and junk.json()["errors"][0]["field"] == "file"


def test_a_zip_bomb_is_refused_before_it_is_read(client, world, login, runtime):
    """The roster import reads through the arrangement import's guarded reader."""

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/sharedStrings.xml", bytes(5 * 1024 * 1024))
    total = count(runtime)
    r = upload(client, login, out.getvalue())
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {"field": "file", "code": "zip_bomb", "message": "文件解压后过大或压缩比异常，已拒绝读取"}
    ]
    assert count(runtime) == total


def test_an_oversized_upload_is_413_before_it_is_read(client, world, login, runtime, monkeypatch):
    monkeypatch.setattr(runtime.settings, "max_upload_bytes", 1000)
    r = upload(client, login, b"x" * 200_000)  # past the limit and its multipart slack
    assert r.status_code == 413


def test_a_number_taken_after_the_check_refuses_the_import_whole(client, world, login, runtime, monkeypatch):
    """Should a principal save a number between the sheet's check and its writing, the unique index
    refuses the import (409) and nothing of it is kept."""

    client.post(
        "/api/teachers", headers=login("kg-a1"), json={"name": "先到", "level": "young", "phone": "13500135000"}
    )
    template = client.get("/api/teachers/template.xlsx", headers=login("officer")).content
    data = edited(
        template,
        appended(
            [None, "B-M1", None, None, "无冲突", "教师", "新教师", None, "13500135001", None],
            [None, "B-M2", None, None, "后到", "教师", "新教师", None, "13500135000", None],
        ),
    )
    monkeypatch.setattr(roster_sheet, "_check_phones", lambda *args: None)  # as if the first were not yet saved
    total = count(runtime)
    r = upload(client, login, data)
    assert r.status_code == 409
    assert r.json() == {"code": "roster_changed", "message": "导入期间教师名册被他人修改，请重新导入"}
    assert count(runtime) == total
