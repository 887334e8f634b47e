"""Semesters, plans and summaries, compliance per alliance, and deadline reminders (service, CLI)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import date, timedelta

from docx import Document as WordDocument
from sqlalchemy import func, select

from storage.settings import Settings
from tests.fixtures.activities import SEMESTER, create_activity, docm_bytes, docx_bytes, fire, upload
from workers.app import celery_config
from workers.registry import TASKS
from workers.wiring import runner_for
from workflows.activities.compliance import send_reminders
from workflows.activities.models import Semester
from workflows.notifications import Notification

PLAN = {
    "guiding_idea": "以《3-6岁儿童学习与发展指南》为指导。\n第二段 {{ 7*7 }}",
    "goals": "提升游戏观察能力 A&B<幼儿园>",
    "measures": "每月一次集中研讨",
    "schedule": [
        {"when": "10月", "topic": "自主游戏观察", "format": "集中研讨", "domain": "游戏", "host": "A-PIL"},
        {"when": "12月", "topic": "科学探究", "format": "公开课", "domain": "科学"},
    ],
}


def test_the_section_opens_semesters_with_default_deadlines(client, world, login):
    h = login("officer")
    r = client.post(
        "/api/semesters", headers=h, json={"code": "2027-spring", "starts_on": "2027-02-20", "ends_on": "2027-07-05"}
    )
    assert r.status_code == 201, r.text
    s = r.json()
    assert s["name"] == "2027年春季学期" and s["plan_due_on"] == "2027-03-06" and s["summary_due_on"] == "2027-07-05"
    assert s["materials_due_days"] == 7 and s["min_centralised"] == 2
    again = client.post(
        "/api/semesters", headers=h, json={"code": "2027-spring", "starts_on": "2027-02-20", "ends_on": "2027-07-05"}
    )
    assert again.status_code == 409
    assert client.post("/api/semesters", headers=login("lead-a"), json={"code": "2028-spring", "starts_on": "2028-02-20",
                                                                        "ends_on": "2028-07-05"}).status_code == 403  # fmt: skip
    bad = client.post(
        "/api/semesters", headers=h, json={"code": "2027-summer", "starts_on": "2027-07-20", "ends_on": "2027-07-01"}
    )
    assert bad.status_code == 422
    extended = client.patch(
        "/api/semesters/2027-spring", headers=h, json={"plan_due_on": "2027-03-13", "materials_due_days": 10}
    )
    assert extended.json()["plan_due_on"] == "2027-03-13" and extended.json()["materials_due_days"] == 10
    assert [x["code"] for x in client.get("/api/semesters", headers=login("kg-a1")).json()] == ["2027-spring"]


def test_plan_written_in_the_form_is_rendered_and_judged_late(client, world, login, semester):
    alliance = world.alliances["A"].id
    url = f"/api/semesters/{semester}/alliances/{alliance}/plan"
    missing = client.get(url, headers=login("kg-a1")).json()
    assert missing["status"] == "missing" and missing["overdue"] is True  # due 14 days after a start 60 days ago
    assert client.put(url, headers=login("pillar-a"), json={"form": PLAN}).status_code == 403
    assert client.get(url, headers=login("kg-b1")).status_code == 404
    r = client.put(url, headers=login("lead-a"), json={"form": PLAN})
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["status"] == "late" and plan["status_label"] == "逾期提交" and plan["source"] == "form"
    assert plan["document"]["filename"].endswith("联盟互动计划.docx")
    doc = WordDocument(io.BytesIO(client.get(f"{url}/content", headers=login("kg-a2")).content))
    text = "\n".join(p.text for p in doc.paragraphs)
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    assert "联盟互动计划" in text and "一、指导思想" in text and "{{ 7*7 }}" in text
    assert "提升游戏观察能力 A&B<幼儿园>" in text and "自主游戏观察" in cells
    # A revision keeps the first submission's lateness, and needs the current version.
    stale = client.put(url, headers=login("lead-a"), json={"version": plan["version"] - 1, "form": PLAN})
    assert stale.status_code == 409
    revised = client.put(
        url, headers=login("lead-a"), json={"version": plan["version"], "form": {**PLAN, "goals": "新目标"}}
    )
    assert revised.status_code == 200 and revised.json()["status"] == "late"
    assert revised.json()["document"]["version_no"] == 2
    assert revised.json()["first_submitted_at"] == plan["first_submitted_at"]


def test_summary_uploaded_as_a_word_file_is_on_time(client, world, login, semester):
    alliance = world.alliances["A"].id
    url = f"/api/semesters/{semester}/alliances/{alliance}/summary"
    refused = client.post(f"{url}/upload", headers=login("lead-a"), files={"file": ("小结.docx", docm_bytes())})
    assert refused.status_code == 422 and refused.json()["errors"][0]["code"] == "macro_document"
    written = docx_bytes("小结")
    r = client.post(f"{url}/upload", headers=login("lead-a"), files={"file": ("../教研经验小结.docx", written)})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "on_time" and r.json()["source"] == "upload"
    assert r.json()["document"]["filename"] == "教研经验小结.docx"
    assert client.get(f"{url}/content", headers=login("officer")).content == written


def test_an_activity_counts_when_held_with_its_研讨记录_whatever_its_format_每学期集中研讨活动不少于2次(
    client, world, login, runtime, semester
):
    h = login("lead-a")
    held = create_activity(client, login, runtime, world)  # 集中研讨
    held = fire(client, h, fire(client, h, held, "announce").json(), "hold").json()
    assert upload(client, h, held["id"], "discussion", docx_bytes("研讨记录"), "研讨记录.docx").status_code == 201
    outreach = create_activity(client, login, runtime, world, format="送教")
    fire(client, h, fire(client, h, outreach, "announce").json(), "hold")
    cancelled = create_activity(client, login, runtime, world, format="公开课")
    fire(client, h, cancelled, "cancel", comment="天气原因")
    create_activity(client, login, runtime, world, format="观摩")  # planned: not yet counted
    client.put(f"/api/semesters/{semester}/alliances/{world.alliances['A'].id}/plan", headers=h, json={"form": PLAN})

    rows = {
        r["alliance_code"]: r
        for r in client.get(f"/api/compliance?semester={semester}", headers=login("officer")).json()
    }
    a, b = rows["TA"], rows["TB"]
    assert a["centralised_held"] == 1 and a["minimum"] == 2 and a["meets_minimum"] is False
    reasons = {x["number"]: (x["counts"], x["reason"]) for x in a["activities"]}
    assert reasons[held["number"]] == (True, "已举行，有研讨主题和研讨记录，计入")
    assert reasons[outreach["number"]][0] is False and "尚无研讨记录" in reasons[outreach["number"]][1]
    assert reasons[cancelled["number"]] == (False, "已取消，不计入")
    # The 送教 counts too once its 研讨记录 is on file: the research counts, not the format.
    assert upload(client, h, outreach["id"], "discussion", docx_bytes("评课研讨"), "研讨.docx").status_code == 201
    again = client.get(f"/api/compliance?semester={semester}", headers=login("officer")).json()
    assert next(r for r in again if r["alliance_code"] == "TA")["meets_minimum"] is True
    a = rows["TA"]
    assert a["activities_by_state"] == {"held": 2, "cancelled": 1, "planned": 1}
    assert a["plan"]["status"] == "late" and a["summary"]["status"] == "missing" and a["summary"]["overdue"] is False
    assert b["plan"]["status"] == "missing" and b["plan"]["overdue"] is True and b["centralised_held"] == 0
    # A kindergarten sees its own alliance only.
    assert [
        r["alliance_code"] for r in client.get(f"/api/compliance?semester={semester}", headers=login("kg-a1")).json()
    ] == ["TA"]
    assert client.get("/api/compliance?semester=2030-spring", headers=login("officer")).status_code == 404


def _reminders(runtime) -> int:
    with runtime.db.session() as s:
        return s.scalar(select(func.count()).select_from(Notification).where(Notification.kind == "deadline.reminder"))


def test_reminders_go_out_once_per_deadline_and_day(runtime, world, semester):
    with runtime.db.session() as s:
        term = s.scalar(select(Semester).where(Semester.code == SEMESTER))
        summary_due = term.summary_due_on
    three_days_before = summary_due - timedelta(days=3)
    with runtime.db.session() as s:
        sent = send_reminders(session=s, today=three_days_before)
    # The lead account of alliance A and of alliance B: summaries are missing; and, the semester being past its
    # middle with no activity counted, each is warned once that it is behind (see the test below).
    assert sent == 4
    with runtime.db.session() as s:
        assert send_reminders(session=s, today=three_days_before) == 0
    with runtime.db.session() as s:
        assert (
            send_reminders(session=s, today=three_days_before + timedelta(days=1)) == 0
        )  # 2 days before: no reminder day
        assert send_reminders(session=s, today=summary_due - timedelta(days=1)) == 2
    assert _reminders(runtime) == 4
    with runtime.db.session() as s:
        title = s.scalars(select(Notification.title).where(Notification.kind == "deadline.reminder")).first()
    assert "教研经验小结" in title


def _behind(runtime) -> list[Notification]:
    with runtime.db.session() as s:
        rows = s.scalars(select(Notification).where(Notification.kind == "activity.behind_minimum")).all()
        s.expunge_all()
    return list(rows)


def test_past_the_middle_of_the_semester_a_lead_short_of_the_minimum_is_warned_once_每学期集中研讨活动不少于2次(
    client, runtime, world, login, semester
):
    with runtime.db.session() as s:
        term = s.scalar(select(Semester).where(Semester.code == SEMESTER))
        starts_on, ends_on = term.starts_on, term.ends_on
    early = starts_on + timedelta(days=10)
    with runtime.db.session() as s:
        send_reminders(session=s, today=early)
    assert _behind(runtime) == []  # before the middle nobody is behind yet
    h = login("lead-a")
    # Alliance A holds one activity with its 研讨记录 and a lecture without one: one counts, one short.
    for fmt, record in (("集中研讨", True), ("讲座", False)):
        a = create_activity(client, login, runtime, world, format=fmt)
        a = fire(client, h, fire(client, h, a, "announce").json(), "hold").json()
        if record:
            assert upload(client, h, a["id"], "discussion", docx_bytes("研讨记录"), "研讨记录.docx").status_code == 201
    middle = starts_on + (ends_on - starts_on) / 2
    for day in (middle, middle + timedelta(days=1)):
        with runtime.db.session() as s:
            send_reminders(session=s, today=day)
    warned = {n.user_id: n for n in _behind(runtime)}
    assert set(warned) == {world.users["lead-a"].id, world.users["lead-b"].id}  # once each, the leads only
    a = warned[world.users["lead-a"].id]
    assert a.title.endswith("集中研讨活动尚差 1 次") and "已计入集中研讨活动 1 次" in a.body
    # The compliance line says it too, and per activity why it counts or not.
    rows = client.get(f"/api/compliance?semester={SEMESTER}", headers=h).json()
    assert rows[0]["behind"] is True
    assert sorted(x["counts"] for x in rows[0]["activities"]) == [False, True]


def test_kinderflow_remind_for_cron(db, runtime, world, semester, tmp_path):
    with runtime.db.session() as s:
        due = s.scalar(select(Semester.summary_due_on).where(Semester.code == SEMESTER))
    env = {k: v for k, v in os.environ.items() if not k.startswith("KINDERFLOW_")}
    env.update({"KINDERFLOW_DEMO": "true", "KINDERFLOW_VAR_DIR": str(tmp_path), "KINDERFLOW_DATABASE_URL": db.url})
    day = (due - timedelta(days=7)).isoformat()
    command = [sys.executable, "-m", "api.cli", "remind", "--date", day]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "已发送 4 条" in done.stdout  # two summaries due, two alliances behind
    with runtime.db.session() as s:  # the same day again (beat, or a second cron line) sends nothing
        assert send_reminders(session=s, today=due - timedelta(days=7)) == 0
    assert _reminders(runtime) == 2


def test_full_mode_beat_runs_the_same_reminders_daily(client, runtime, tmp_path):
    entry = celery_config(Settings(demo=True, var_dir=tmp_path, broker_url="redis://127.0.0.1:6379/0"))["beat_schedule"]
    assert entry["remind-deadlines"]["task"] == "kinderflow.remind_deadlines" in TASKS
    # The task itself, as a worker (here the embedded runner) runs it: nothing is due in an empty district.
    assert runner_for(runtime).submit("kinderflow.remind_deadlines").result(timeout=30) == 0


def test_hosts_are_reminded_of_missing_materials(client, world, login, runtime, semester):
    h = login("lead-a")
    a = create_activity(client, login, runtime, world)
    fire(client, h, fire(client, h, a, "announce").json(), "hold")
    due = date.fromisoformat(client.get(f"/api/activities/{a['id']}/completeness", headers=h).json()["due_on"])
    with runtime.db.session() as s:
        # The host (pillar-a) and the lead; and, past the middle of the semester, both leads are behind.
        assert send_reminders(session=s, today=due - timedelta(days=3)) == 4
    with runtime.db.session() as s:
        body = s.scalars(select(Notification.body).where(Notification.kind == "deadline.reminder")).first()
    assert a["number"] in body and "签到表" in body
