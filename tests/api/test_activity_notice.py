"""「每次活动请提前通报」: an activity is announced a set number of days before it starts (per semester, 3 by
default, never less than 1); later only with the section's leave and a reason, and then it is marked
「未提前通报」 on the activity, on the compliance page and in the evaluation's evidence."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from tests.fixtures.activities import SEMESTER, create_activity, fire, today
from workflows.activities.models import Semester


def _starting_in(days: int) -> str:
    return datetime.combine(today() + timedelta(days=days), datetime.min.time()).replace(hour=9).isoformat()


def _errors(r) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {e["field"]: e["message"] for e in r.json()["errors"]}


@pytest.mark.parametrize("days", [0, -1])
def test_the_notice_period_is_at_least_one_day_每次活动请提前通报(client, world, login, semester, days):
    h = login("officer")
    refused = client.patch(f"/api/semesters/{SEMESTER}", headers=h, json={"notice_days": days})
    assert refused.status_code == 422
    assert _errors(refused) == {"notice_days": "方案要求每次活动提前通报，提前通报天数不能少于 1 天"}
    assert client.get(f"/api/semesters/{SEMESTER}", headers=h).json()["notice_days"] == 3  # the default
    assert client.patch(f"/api/semesters/{SEMESTER}", headers=h, json={"notice_days": 5}).json()["notice_days"] == 5


def test_an_announcement_one_day_before_the_start_with_a_three_day_rule_is_refused_每次活动请提前通报(
    client, world, login, runtime, semester
):
    lead, officer = login("lead-a"), login("officer")
    a = create_activity(client, login, runtime, world, allow_late=False, starts_at=_starting_in(1), ends_at=None)
    due = (today() + timedelta(days=1 - 3)).isoformat()
    assert a["notice_due_on"] == due and a["announced_late"] is False
    r = fire(client, lead, a, "announce")
    assert r.status_code == 422
    assert _errors(r)["announced_at"].startswith(f"本学期活动须提前 3 天通报，本次活动应于 {due} 前通报，已逾期")
    assert client.get(f"/api/activities/{a['id']}", headers=lead).json()["state"] == "planned"
    # Only the section gives leave, with a reason, and only to an activity that needs it.
    leave = {"version": a["version"], "reason": "区级观摩临时调整，经成幼科同意"}
    assert client.post(f"/api/activities/{a['id']}/late-notice", headers=lead, json=leave).status_code == 403
    no_reason = client.post(f"/api/activities/{a['id']}/late-notice", headers=officer, json={**leave, "reason": " "})
    assert no_reason.status_code == 422 and _errors(no_reason) == {"reason": "请说明准许逾期通报的原因"}
    allowed = client.post(f"/api/activities/{a['id']}/late-notice", headers=officer, json=leave)
    assert allowed.status_code == 200, allowed.text
    announced = fire(client, lead, allowed.json(), "announce")
    assert announced.status_code == 200, announced.text
    shown = announced.json()
    assert (shown["state"], shown["announced_late"]) == ("announced", True)
    assert shown["late_notice_reason"] == "区级观摩临时调整，经成幼科同意"
    # The compliance page marks it ...
    rows = client.get(f"/api/compliance?semester={SEMESTER}", headers=officer).json()
    ta = next(r for r in rows if r["alliance_code"] == "TA")
    assert [x["announced_late"] for x in ta["activities"]] == [True]
    # ... and so does the evaluation's evidence.
    opened = client.post("/api/evaluations/open", headers=officer, json={"year": int(SEMESTER[:4])})
    assert opened.status_code in (200, 201), opened.text
    evaluation = next(e for e in opened.json() if e["alliance_code"] == "TA")
    evidence = "\n".join(next(i for i in evaluation["items"] if i["key"] == "activity_count")["evidence"])
    assert f"{a['number']}「{a['topic']}」未提前通报（成幼科准许：区级观摩临时调整，经成幼科同意）" in evidence


def test_an_announcement_in_time_needs_no_leave_and_is_not_marked(client, world, login, runtime, semester):
    lead, officer = login("lead-a"), login("officer")
    with runtime.db.session() as s:
        s.scalar(select(Semester).where(Semester.code == SEMESTER)).notice_days = 5
    a = create_activity(client, login, runtime, world, allow_late=False, starts_at=_starting_in(5), ends_at=None)
    leave = {"version": a["version"], "reason": "不需要"}
    needless = client.post(f"/api/activities/{a['id']}/late-notice", headers=officer, json=leave)
    assert needless.status_code == 422 and "无需准许" in _errors(needless)["reason"]
    announced = fire(client, lead, a, "announce")
    assert announced.status_code == 200 and announced.json()["announced_late"] is False
