"""Mentor teams through the HTTP API: nomination → appointment → yearly review, guidance, workload."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime

import pytest
from docx import Document as WordDocument
from openpyxl import load_workbook

from tests.fixtures.activity_records import FileSpec, add_plan, add_teacher, docx_bytes, make_activity
from workflows.audit import verify_chain
from workflows.registry.models import Teacher, TeacherLevel

NOMINATION = {
    "team": "科学",
    "qualifications": ["backbone", "research_member"],
    "professional_title": "一级教师",
    "teaching_years": 12,
    "phone": "13900001111",
    "research_topics": "区级课题《幼儿科学探究活动的支持策略》",
    "achievements": "执教市级公开课《有趣的磁铁》；A&B<获奖>",
    "reasons": "长期带领本园科学领域教研 {{ 7*7 }}",
}


def event(client, headers, path, record, name, **body):
    return client.post(f"{path}/events/{name}", headers=headers, json={"version": record["version"], **body})


def docx_text(client, headers, document_id):
    r = client.get(f"/api/documents/{document_id}/content", headers=headers)
    assert r.status_code == 200, r.text
    document = WordDocument(io.BytesIO(r.content))
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


@pytest.fixture
def teacher_id(runtime, world):
    return add_teacher(runtime, world, "A-M1", name="王敏", level=TeacherLevel.BACKBONE)


def open_round(client, login, deadline="2099-12-31"):
    r = client.post(
        "/api/mentors/rounds", headers=login("officer"), json={"deadline": deadline, "note": "2026年度推荐"}
    )
    assert r.status_code == 201, r.text
    return r.json()


def review(client, login, nomination):
    path = f"/api/mentors/nominations/{nomination['id']}"
    r = event(client, login("researcher"), path, nomination, "review", comment="材料齐全，同意推荐")
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
def nomination(client, login, teacher_id):
    open_round(client, login)
    r = client.post(
        "/api/mentors/nominations", headers=login("kg-a1"), json={**NOMINATION, "teacher_id": str(teacher_id)}
    )
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def mentor(client, login, world, nomination):
    nomination = review(client, login, nomination)
    path = f"/api/mentors/nominations/{nomination['id']}"
    body = {"term_start": "2026-09-01", "term_end": "2029-08-31", "alliance_ids": [str(world.alliances["A"].id)]}
    r = event(client, login("officer"), path, nomination, "appoint", **body)
    assert r.status_code == 200, r.text
    r = client.get(f"/api/mentors/{r.json()['mentor_id']}", headers=login("officer"))
    return r.json()


def test_nomination_renders_the_form_and_is_checked(client, login, runtime, world, nomination, teacher_id):
    h = login("kg-a1")
    assert nomination["state"] == "nominated"
    assert nomination["number"].startswith("DS") and nomination["qualification_labels"] == ["骨干教师", "课题组成员"]
    docs = client.get(f"/api/mentors/nominations/{nomination['id']}/documents", headers=h).json()
    assert [d["kind"] for d in docs] == ["nomination_form"]
    text = docx_text(client, h, docs[0]["id"])
    assert "王敏" in text and "科学导师团" in text and "A&B<获奖>" in text and "{{ 7*7 }}" in text

    # The same teacher twice, another kindergarten's teacher, a level the registry does not show.
    r = client.post("/api/mentors/nominations", headers=h, json={**NOMINATION, "teacher_id": str(teacher_id)})
    assert r.status_code == 409 and r.json()["code"] == "open_nomination_exists"
    other = add_teacher(runtime, world, "A-M2", name="李静")
    r = client.post("/api/mentors/nominations", headers=h, json={**NOMINATION, "teacher_id": str(other)})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "teacher_id"
    young = add_teacher(runtime, world, "A-M1", name="赵青", level=TeacherLevel.YOUNG)
    r = client.post(
        "/api/mentors/nominations",
        headers=h,
        json={**NOMINATION, "teacher_id": str(young), "qualifications": ["leader"], "research_topics": ""},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "qualifications"
    r = client.post(
        "/api/mentors/nominations", headers=h, json={**NOMINATION, "teacher_id": str(young), "team": "数学"}
    )
    assert r.status_code == 422

    # Only the nominating kindergarten and the bureau see the nomination.
    assert client.get(f"/api/mentors/nominations/{nomination['id']}", headers=login("kg-a2")).status_code == 404
    assert client.get("/api/mentors/nominations", headers=login("kg-a2")).json() == []
    assert [n["id"] for n in client.get("/api/mentors/nominations", headers=login("officer")).json()] == [
        nomination["id"]
    ]


def test_appointment_then_yearly_reviews(client, login, runtime, world, nomination, teacher_id):
    officer = login("officer")
    path = f"/api/mentors/nominations/{nomination['id']}"
    # The researcher reviews first; the section cannot appoint before, nor review itself.
    terms = {"term_start": "2026-09-01", "term_end": "2029-08-31"}
    assert event(client, officer, path, nomination, "appoint", **terms).status_code == 409
    assert event(client, officer, path, nomination, "review", comment="同意").status_code == 403
    r = event(client, login("researcher"), path, nomination, "review")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "comment"
    nomination = review(client, login, nomination)
    assert nomination["state"] == "reviewed" and nomination["decided_at"] is None
    assert event(client, login("kg-a1"), path, nomination, "appoint").status_code == 403
    r = event(client, officer, path, nomination, "appoint", term_start="2026-09-01")
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["term_end"]
    r = event(client, officer, path, nomination, "appoint", term_start="2026-09-01", term_end="2026-08-01")
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "before_start"
    body = {"term_start": "2026-09-01", "term_end": "2029-08-31", "alliance_ids": [str(world.alliances["A"].id)]}
    r = event(client, officer, path, nomination, "appoint", **body)
    assert r.status_code == 200, r.text
    appointed = r.json()
    assert appointed["state"] == "appointed" and appointed["mentor_id"]
    assert event(client, officer, path, nomination, "decline", comment="x").status_code == 409  # stale version
    assert event(client, officer, path, appointed, "decline", comment="x").status_code == 409  # final state

    mentor_path = f"/api/mentors/{appointed['mentor_id']}"
    mentor = client.get(mentor_path, headers=login("kg-b1")).json()  # the roster is open to all
    assert mentor["team_label"] == "科学导师团" and mentor["state"] == "active"
    assert [a["alliance_name"] for a in mentor["assignments"]] == ["测试联盟A"]
    with runtime.db.session() as s:
        assert s.get(Teacher, teacher_id).mentor_team == "科学"
    docs = client.get(f"{mentor_path}/documents", headers=officer).json()
    assert [d["kind"] for d in docs] == ["appointment_letter"]
    letter = docx_text(client, officer, docs[0]["id"])
    assert "聘　书" in letter and "王敏" in letter and "2026年9月1日至2029年8月31日" in letter and "测试联盟A" in letter
    assert client.get(f"/api/documents/{docs[0]['id']}", headers=login("kg-b1")).status_code == 404

    # Yearly review: keep (2026), rotate to alliance B (2027), retire (2028).
    assert event(client, login("lead-a"), mentor_path, mentor, "keep", year=2026).status_code == 403
    r = event(client, officer, mentor_path, mentor, "keep", year=2026, comment="考核优秀")
    assert r.status_code == 200, r.text
    mentor = r.json()
    assert mentor["version"] == 2 and [x["decision_label"] for x in mentor["reviews"]] == ["留任"]
    r = event(client, officer, mentor_path, mentor, "rotate", year=2026, comment="again", alliance_ids=[])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "year"
    r = event(client, officer, mentor_path, mentor, "rotate", year=2027)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "comment"
    b_id = str(world.alliances["B"].id)
    r = event(
        client,
        officer,
        mentor_path,
        mentor,
        "rotate",
        year=2027,
        comment="轮换至B联盟",
        alliance_ids=[b_id],
        team="游戏",
    )
    assert r.status_code == 200, r.text
    mentor = r.json()
    assert mentor["team_label"] == "游戏导师团" and mentor["reviews"][-1]["team_before"] == "科学"
    with runtime.db.session() as s:
        assert s.get(Teacher, teacher_id).mentor_team == "游戏"
    current = [a["alliance_name"] for a in mentor["assignments"] if a["ended_on"] is None]
    assert current == ["测试联盟B"] and len(mentor["assignments"]) == 2
    assert mentor["reviews"][-1]["alliances_after"] == [b_id]
    r = event(client, officer, mentor_path, mentor, "retire", year=2028, comment="调离本区")
    assert r.status_code == 200, r.text
    mentor = r.json()
    assert mentor["state"] == "retired" and mentor["retired_at"]
    assert all(a["ended_on"] for a in mentor["assignments"])
    assert [x["decision"] for x in mentor["reviews"]] == ["keep", "rotate", "retire"]
    assert event(client, officer, mentor_path, mentor, "keep", year=2029).status_code == 409
    with runtime.db.session() as s:
        assert s.get(Teacher, teacher_id).mentor_team is None
        assert verify_chain(s).ok
    history = client.get(f"{mentor_path}/history", headers=officer).json()
    assert [h["event"] for h in history] == ["keep", "rotate", "retire"]
    assert history[1]["comment"] == "轮换至B联盟"
    assert client.get("/api/mentors", headers=officer).json() == []
    assert len(client.get("/api/mentors?state=", headers=officer).json()) == 1

    # A retired mentor may be nominated again.
    r = client.post(
        "/api/mentors/nominations", headers=login("kg-a1"), json={**NOMINATION, "teacher_id": str(teacher_id)}
    )
    assert r.status_code == 201


def test_assignments_by_the_section(client, login, world, mentor):
    path = f"/api/mentors/{mentor['id']}/assignments"
    b_id = str(world.alliances["B"].id)
    assert client.post(path, headers=login("lead-a"), json={"alliance_id": b_id}).status_code == 404
    r = client.post(path, headers=login("officer"), json={"alliance_id": b_id})
    assert r.status_code == 201, r.text
    assert client.post(path, headers=login("officer"), json={"alliance_id": b_id}).status_code == 409
    listed = client.get(f"/api/mentors?alliance_id={b_id}", headers=login("kg-b1")).json()
    assert [m["id"] for m in listed] == [mentor["id"]]
    r = client.delete(f"{path}/{b_id}", headers=login("officer"))
    assert r.status_code == 200
    assert client.get(f"/api/mentors?alliance_id={b_id}", headers=login("kg-b1")).json() == []


def test_guidance_and_yearly_workload(client, login, runtime, world, mentor):
    make_activity(
        runtime,
        world,
        topic="科学公开课《沉与浮》",
        presenters=[uuid.UUID(mentor["teacher_id"])],
        starts_at=datetime(2026, 11, 3, 1, 0, tzinfo=UTC),
        files=[FileSpec("sign_in", "签到表.docx", docx_bytes("签到"))],
    )
    guided = make_activity(runtime, world, topic="科学领域集中研讨", state="held", format="集中研讨")
    planned = make_activity(runtime, world, topic="下学期讲座", state="planned", format="讲座")
    last_year = make_activity(runtime, world, topic="去年的讲座", starts_at=datetime(2025, 5, 1, 1, tzinfo=UTC))
    lead = login("lead-a")
    for activity, kind in (
        (guided, "research_guidance"),
        (guided, "lecture"),
        (planned, "lecture"),
        (last_year, "outreach"),
    ):
        body = {"activity_id": str(activity.activity_id), "mentor_id": mentor["id"], "kind": kind, "note": "指导研讨"}
        r = client.post("/api/mentors/guidance", headers=lead, json=body)
        assert r.status_code == 201, r.text
    body = {"activity_id": str(guided.activity_id), "mentor_id": mentor["id"], "kind": "lecture"}
    assert client.post("/api/mentors/guidance", headers=lead, json=body).status_code == 409
    assert client.post("/api/mentors/guidance", headers=login("lead-b"), json=body).status_code == 404
    assert client.post("/api/mentors/guidance", headers=login("kg-a1"), json=body).status_code == 403
    listed = client.get(f"/api/mentors/guidance?activity_id={guided.activity_id}", headers=login("kg-a2")).json()
    assert sorted(g["kind_label"] for g in listed) == ["指导研讨", "讲座"]

    r = client.get(f"/api/mentors/{mentor['id']}/workload?year=2026", headers=lead)
    assert r.status_code == 200, r.text
    report = r.json()
    # The planned activity has not taken place; last year's is another year.
    assert report["activities"] == 2 and report["presented"] == 1
    assert report["guided"] == {"lecture": 1, "outreach": 0, "plan_review": 0, "research_guidance": 1}
    assert [row["role_label"] for row in report["rows"]] == ["讲座", "指导研讨", "主讲/执教"]
    assert client.get(f"/api/mentors/{mentor['id']}/workload?year=2025", headers=lead).json()["guided"]["outreach"] == 1
    assert client.get(f"/api/mentors/{mentor['id']}/workload", headers=login("kg-b1")).status_code == 404

    r = client.get(f"/api/mentors/{mentor['id']}/workload.xlsx?year=2026", headers=login("kg-a1"))
    assert r.status_code == 200
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(r.content)).active
    values = [[c for c in row if c is not None] for row in sheet.iter_rows(values_only=True)]
    assert values[0] == ["青山湖区幼教导师团 导师年度工作量统计表（2026年度）"]
    assert ["导师", "王敏", "所在园", "A-M1 A&B<幼儿园>", "导师团", "科学导师团"] in values
    assert any("科学公开课《沉与浮》" in row for row in values)
    assert ["参与活动数", 2] in values and ["主讲/执教", 1] in values and ["合计学时", 6] in values
    again = client.get(f"/api/mentors/{mentor['id']}/workload.xlsx?year=2026", headers=login("kg-a1"))
    assert again.content == r.content  # deterministic bytes


def test_plan_work_attaches_to_the_semester_plan(client, login, runtime, world, mentor):
    plan_id = add_plan(runtime, world, "A")
    lead = login("lead-a")
    body = {"mentor_id": mentor["id"], "kind": "plan_review", "note": "参与制定秋季互动计划"}
    r = client.post("/api/mentors/guidance", headers=lead, json=body)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "plan_id"
    assert (
        client.post(
            "/api/mentors/guidance", headers=login("lead-b"), json={**body, "plan_id": str(plan_id)}
        ).status_code
        == 422
    )
    r = client.post("/api/mentors/guidance", headers=lead, json={**body, "plan_id": str(plan_id)})
    assert r.status_code == 201, r.text
    assert (r.json()["plan_id"], r.json()["activity_id"]) == (str(plan_id), None)
    r = client.post("/api/mentors/guidance", headers=lead, json={"mentor_id": mentor["id"], "kind": "lecture"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "activity_id"
    listed = client.get(f"/api/mentors/{mentor['id']}/guidance", headers=login("kg-b1")).json()
    assert [g["kind_label"] for g in listed] == ["参与制定计划"]
    report = client.get(f"/api/mentors/{mentor['id']}/workload?year=2026", headers=lead).json()
    assert report["guided"]["plan_review"] == 1
    assert [(row["topic"], row["role_label"]) for row in report["rows"]] == [
        ("2026年秋季学期联盟互动计划", "参与制定计划")
    ]


def test_rounds_open_and_close_and_nominations_need_one(client, login, runtime, world):
    teacher = add_teacher(runtime, world, "A-M1", name="周琳", level=TeacherLevel.BACKBONE)
    body = {**NOMINATION, "teacher_id": str(teacher)}
    r = client.post("/api/mentors/nominations", headers=login("kg-a1"), json=body)
    assert r.status_code == 409 and "没有正在进行的导师推荐" in r.json()["message"]
    officer = login("officer")
    assert (
        client.post("/api/mentors/rounds", headers=login("researcher"), json={"deadline": "2099-01-01"}).status_code
        == 404
    )
    r = client.post("/api/mentors/rounds", headers=officer, json={"deadline": "2000-01-01"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "deadline"
    opened = open_round(client, login)
    assert client.post("/api/mentors/rounds", headers=officer, json={"deadline": "2099-01-01"}).status_code == 409
    assert client.post("/api/mentors/nominations", headers=login("kg-a1"), json=body).status_code == 201
    r = client.post(f"/api/mentors/rounds/{opened['id']}/close", headers=officer)
    assert r.status_code == 200 and r.json()["closed_at"]
    assert client.post(f"/api/mentors/rounds/{opened['id']}/close", headers=officer).status_code == 409
    other = add_teacher(runtime, world, "A-M1", name="钱芳", level=TeacherLevel.BACKBONE)
    r = client.post("/api/mentors/nominations", headers=login("kg-a1"), json={**NOMINATION, "teacher_id": str(other)})
    assert r.status_code == 409


def test_team_leader_and_overview(client, login, runtime, world, mentor):
    with runtime.db.session() as s:
        s.get(Teacher, uuid.UUID(mentor["teacher_id"])).birth_year = 1990
    teams = client.get("/api/mentors/teams", headers=login("kg-b1")).json()
    assert [t["label"] for t in teams] == [
        "健康导师团",
        "语言导师团",
        "社会导师团",
        "科学导师团",
        "艺术导师团",
        "游戏导师团",
    ]
    science = teams[3]
    assert science["members"] == 1 and science["leader_id"] is None
    assert science["by_level"] == {"骨干教师": 1} and list(science["by_age"]) == ["30–39岁"]
    path = "/api/mentors/teams/科学/leader"
    assert client.put(path, headers=login("lead-a"), json={"leader_id": mentor["id"]}).status_code == 404
    r = client.put("/api/mentors/teams/健康/leader", headers=login("officer"), json={"leader_id": mentor["id"]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "leader_id"
    r = client.put(path, headers=login("officer"), json={"leader_id": mentor["id"], "version": 0})
    assert r.status_code == 200, r.text
    assert r.json()["leader_name"] == "王敏" and r.json()["version"] > 0
    assert client.put(path, headers=login("officer"), json={"leader_id": None, "version": 0}).status_code == 409
