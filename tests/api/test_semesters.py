"""Semesters through the API: the officer opens and edits them; every refusal names its field in Chinese;
the plan's floor of two centralised activities a semester (「每学期集中研讨活动不少于2次」) holds."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tests.fixtures.activities import create_activity
from workflows.activities.models import Semester

SPRING = {"code": "2027-spring", "starts_on": "2027-02-20", "ends_on": "2027-07-05"}


def errors_of(r) -> dict[str, str]:  # type: ignore[no-untyped-def]
    assert r.status_code == 422, r.text
    return {e["field"]: e["message"] for e in r.json()["errors"]}


def test_the_officer_opens_a_semester_named_by_year_and_season(client, world, login):
    r = client.post("/api/semesters", headers=login("officer"), json={**SPRING, "min_centralised": 3})
    assert r.status_code == 201, r.text
    s = r.json()
    assert (s["code"], s["name"], s["min_centralised"]) == ("2027-spring", "2027年春季学期", 3)
    assert client.get("/api/semesters/2027-spring", headers=login("kg-a1")).json()["name"] == "2027年春季学期"


def test_the_name_is_not_chosen_freely(client, world, login):
    r = client.post("/api/semesters", headers=login("officer"), json={**SPRING, "name": "随便起的名字"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "name"


@pytest.mark.parametrize("minimum", [1, 0, -3])
def test_每学期集中研讨活动不少于2次_a_minimum_below_two_is_refused(client, world, login, minimum):
    errors = errors_of(
        client.post("/api/semesters", headers=login("officer"), json={**SPRING, "min_centralised": minimum})
    )
    assert errors == {"min_centralised": "方案规定每学期集中研讨活动不少于 2 次，最低次数不能低于 2"}
    assert client.get("/api/semesters", headers=login("officer")).json() == []


def test_the_minimum_may_be_raised_but_not_lowered_below_two_by_an_edit(client, world, login):
    h = login("officer")
    assert client.post("/api/semesters", headers=h, json=SPRING).status_code == 201
    assert (
        client.patch("/api/semesters/2027-spring", headers=h, json={"min_centralised": 4}).json()["min_centralised"]
        == 4
    )
    refused = client.patch("/api/semesters/2027-spring", headers=h, json={"min_centralised": 1})
    assert set(errors_of(refused)) == {"min_centralised"}
    assert client.get("/api/semesters/2027-spring", headers=h).json()["min_centralised"] == 4


def test_a_semester_ending_before_it_starts_is_refused_at_the_end_date(client, world, login):
    h = login("officer")
    errors = errors_of(client.post("/api/semesters", headers=h, json={**SPRING, "ends_on": "2027-02-10"}))
    assert errors["ends_on"] == "学期结束日期须晚于开始日期"
    same_day = client.post("/api/semesters", headers=h, json={**SPRING, "ends_on": "2027-02-20"})
    assert "ends_on" in errors_of(same_day)
    assert client.post("/api/semesters", headers=h, json=SPRING).status_code == 201
    edit = client.patch("/api/semesters/2027-spring", headers=h, json={"ends_on": "2027-01-31"})
    assert errors_of(edit)["ends_on"] == "学期结束日期须晚于开始日期"
    assert client.get("/api/semesters/2027-spring", headers=h).json()["ends_on"] == "2027-07-05"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"plan_due_on": "2027-02-01"}, "plan_due_on"),  # before the start
        ({"plan_due_on": "2027-08-01"}, "plan_due_on"),  # after the end
        ({"summary_due_on": "2027-02-01"}, "summary_due_on"),
        ({"summary_due_on": "2027-10-01"}, "summary_due_on"),  # months after the end
        ({"plan_due_on": "2027-05-01", "summary_due_on": "2027-04-01"}, "summary_due_on"),  # before the plan
        ({"starts_on": "2026-09-01"}, "starts_on"),  # a spring semester starting the autumn before
        ({"starts_on": "2027-02-20", "ends_on": "2027-12-20"}, "ends_on"),  # ten months long
        ({"materials_due_days": 365}, "materials_due_days"),
    ],
)
def test_deadlines_and_dates_outside_sensible_bounds_are_refused(client, world, login, change, field):
    errors = errors_of(client.post("/api/semesters", headers=login("officer"), json={**SPRING, **change}))
    assert field in errors and errors[field]


def test_overlapping_semesters_are_refused_and_a_code_is_opened_once(client, world, login):
    h = login("officer")
    autumn = {"code": "2026-autumn", "starts_on": "2026-09-01", "ends_on": "2027-01-20"}
    assert client.post("/api/semesters", headers=h, json=autumn).status_code == 201
    errors = errors_of(client.post("/api/semesters", headers=h, json={**SPRING, "starts_on": "2027-01-15"}))
    assert errors == {"starts_on": "与2026年秋季学期（2026-09-01 至 2027-01-20）时间重叠"}
    assert client.post("/api/semesters", headers=h, json=SPRING).status_code == 201
    edit = client.patch("/api/semesters/2026-autumn", headers=h, json={"ends_on": "2027-03-01"})
    assert "ends_on" in errors_of(edit)
    again = client.post("/api/semesters", headers=h, json=autumn)
    assert again.status_code == 409 and again.json()["message"] == "2026年秋季学期已经设置过了"


def test_only_the_officer_sets_semesters(client, world, login):
    for who in ("admin", "researcher", "lead-a", "kg-a1"):
        assert client.post("/api/semesters", headers=login(who), json=SPRING).status_code == 403
    assert client.post("/api/semesters", headers=login("officer"), json=SPRING).status_code == 201
    for who in ("admin", "lead-a"):
        r = client.patch("/api/semesters/2027-spring", headers=login(who), json={"min_centralised": 5})
        assert r.status_code == 403
    assert client.patch("/api/semesters/2099-spring", headers=login("officer"), json={}).status_code == 404


def test_moving_a_semester_may_not_strand_its_activities(client, world, login, runtime):
    h = login("officer")
    assert client.post("/api/semesters", headers=h, json=SPRING).status_code == 201
    create_activity(client, login, runtime, world, semester="2027-spring", starts_at="2027-06-20T09:00:00",
                    ends_at="2027-06-20T11:00:00")  # fmt: skip
    errors = errors_of(client.patch("/api/semesters/2027-spring", headers=h, json={"ends_on": "2027-06-10"}))
    assert errors == {"ends_on": "本学期已有 2027-06-20 的活动，结束日期不能早于该日"}
    with runtime.db.session() as s:
        assert s.scalars(select(Semester)).one().ends_on == date(2027, 7, 5)


def test_an_older_semester_out_of_season_may_still_have_its_deadline_extended(client, world, login, runtime, semester):
    """The test semester runs from 60 days ago, whatever month that is: extending its plan deadline is fine."""
    with runtime.db.session() as s:
        ends_on = s.scalars(select(Semester)).one().ends_on
    r = client.patch(f"/api/semesters/{semester}", headers=login("officer"), json={"plan_due_on": ends_on.isoformat()})
    assert r.status_code == 200, r.text
