"""The overview dashboards: one alliance's year, and the district's alliances side by side."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from tests.fixtures.evaluation_year import YEAR, build_year, cst
from workflows.applications.models import Application
from workflows.clock import BEIJING


@pytest.fixture
def year(runtime, world):
    return build_year(runtime, world)


def _alliance(client, login, world, code, username="officer"):
    return client.get(f"/api/dashboards/alliances/{world.alliances[code].id}", params={"year": YEAR},
                      headers=login(username))  # fmt: skip


def test_an_alliance_dashboard_shows_its_year(client, login, world, year):
    r = _alliance(client, login, world, "A", "kg-a2")
    assert r.status_code == 200, r.text
    a = r.json()
    assert [(m["name"].split()[0], m["role"], m["never_attended"]) for m in a["members"]] == [
        ("A-LEAD", "lead", False), ("A-PIL", "pillar", False), ("A-M1", "member", False), ("A-M2", "member", True),
    ]  # fmt: skip
    spring, autumn = a["semesters"]
    assert (spring["centralised_held"], spring["meets_minimum"]) == (1, False)  # S2 has no 研讨记录
    assert spring["by_state"] == {"archived": 1, "held": 1, "cancelled": 1}
    assert (autumn["centralised_held"], autumn["meets_minimum"]) == (1, False)
    assert (autumn["plan"]["status"], autumn["plan"]["status_label"]) == ("late", "逾期提交")
    assert autumn["summary"]["status"] == "missing"
    assert a["materials"] | {"overdue_activities": None} == {
        "activities": 4, "categories_present": 21, "categories_expected": 28, "completeness": 75.0,
        "overdue_activities": None,
    }  # fmt: skip
    assert a["attendance"] == {"expected": 15, "attended": 11, "leave": 1, "absent": 3, "unrecorded": 0, "rate": 73.3}
    assert a["evaluation"] is None and a["last_grade"] is None


def test_an_alliance_dashboard_is_private_to_the_alliance_and_the_bureau(client, login, world, year):
    for username in ("lead-b", "kg-b1", "kg-out"):
        assert _alliance(client, login, world, "A", username).status_code == 404, username
    for username in ("researcher", "lead-a", "pillar-a"):
        assert _alliance(client, login, world, "A", username).status_code == 200, username
    missing = client.get("/api/dashboards/alliances/00000000-0000-0000-0000-000000000000", headers=login("officer"))
    assert missing.status_code == 404


def test_the_district_dashboard_puts_the_alliances_side_by_side(client, login, world, year, runtime):
    with runtime.db.session() as s:
        s.add(Application(number="SQ2026-9001", kindergarten_id=world.kindergartens["C-OUT"].id, state="submitted",
                          created_by=world.users["kg-out"].id, submitted_at=cst(date(2026, 11, 1))))  # fmt: skip
    for username in ("lead-a", "kg-a1"):
        assert client.get("/api/dashboards/district", headers=login(username)).status_code == 404
    r = client.get("/api/dashboards/district", params={"year": YEAR}, headers=login("researcher"))
    assert r.status_code == 200, r.text
    d = r.json()
    rows = {row["code"]: row for row in d["alliances"]}
    assert (rows["TA"]["centralised_held"], rows["TA"]["centralised_required"], rows["TA"]["meets_minimum"]) == (
        2,
        4,
        False,
    )
    assert (rows["TB"]["centralised_held"], rows["TB"]["meets_minimum"]) == (6, True)  # 跟岗 with 研讨记录 count
    assert (rows["TA"]["plans_on_time"], rows["TA"]["plans_late"], rows["TA"]["summaries_missing"]) == (1, 1, 1)
    assert (rows["TA"]["attendance_rate"], rows["TB"]["attendance_rate"]) == (73.3, 100.0)
    assert (rows["TA"]["never_attended"], rows["TB"]["never_attended"]) == (1, 0)
    assert rows["TA"]["evaluation_state"] == "未发起"
    overdue = {(o["alliance_code"], o["kind"], o["reference"]) for o in d["overdue"]}
    number = _numbers(client, login)
    assert {("TA", "materials", number["S2"]), ("TA", "materials", number["A2"])} <= overdue
    today = datetime.now(BEIJING).date()
    assert (("TA", "summary", "2026-autumn") in overdue) == (today > date(2027, 1, 20))
    assert not any(code == "TB" for code, _, _ in overdue)
    waiting = d["applications_waiting"]
    assert (waiting["count"], waiting["by_state"]) == (1, {"submitted": 1, "under_review": 0})
    assert waiting["oldest"][0]["number"] == "SQ2026-9001"


def _numbers(client, login) -> dict[str, str]:
    """Activity numbers by the scripted labels (the topics start with the label)."""
    rows = client.get("/api/dashboards/district", params={"year": YEAR}, headers=login("officer")).json()["overdue"]
    return {o["label"].split("「")[1].split()[0]: o["reference"] for o in rows if o["kind"] == "materials"}


def test_the_dashboards_follow_the_evaluation(client, login, world, year):
    opened = client.post("/api/evaluations/open", headers=login("officer"), json={"year": YEAR}).json()
    a = _alliance(client, login, world, "A", "lead-a").json()
    assert (a["evaluation"]["state"], a["evaluation"]["total"], a["evaluation"]["grade"]) == ("draft", None, None)
    a = _alliance(client, login, world, "A", "officer").json()  # the running total is the bureau's
    assert a["evaluation"]["state"] == "draft" and a["evaluation"]["total"] == opened[0]["total"]
    row = client.get("/api/dashboards/district", params={"year": YEAR}, headers=login("officer")).json()["alliances"][0]
    assert (row["evaluation_state"], row["evaluation_grade"]) == ("待自评", "")
