"""The application workflow through the HTTP API: form, attachments, review, documents."""

from __future__ import annotations

import io

import pytest
from docx import Document as WordDocument
from sqlalchemy import select

from tests.fixtures.agreements import drain
from tests.fixtures.files import exe_bytes, jpeg_bytes, pdf_bytes, png_bytes
from workflows.audit import AuditEntry
from workflows.outbox import OutboxMessage
from workflows.registry.credit_code import make_credit_code
from workflows.registry.models import Membership

FORM = {
    "name": "C-OUT 园外幼儿园 A&B<幼儿园>\"'",
    "credit_code": make_credit_code("52360111M00000099"),
    "licence_no": "教民360111000099",
    "licence_issued_on": "2019-03-01",
    "sponsor": "南昌市某教育咨询有限公司",
    "legal_representative": "张三",
    "head_name": "李园长",
    "head_phone": "13800009999",
    "contact_name": "王老师",
    "contact_phone": "0791-88886666",
    "address": "南昌市青山湖区罗家镇民强路 8 号",
    "town": "罗家镇",
    "ownership": "nonprofit",
    "inclusive": True,
    "classes": 6,
    "children": 180,
    "staff": 30,
    "teachers": 14,
    "certified_teachers": 12,
    "site_area_m2": 2400.5,
    "building_area_m2": 1800,
    "last_inspection_year": 2025,
    "last_inspection_result": "passed",
    "penalties_last_3_years": 0,
    "safety_incidents_last_3_years": 0,
    "reasons": "希望加入联盟。\n第二行：提升保教质量 {{ 7*7 }}",
    "needs": ["课程", "游戏"],
    "commitments_accepted": True,
}


def upload(client, headers, app_id, kind, content, filename):
    return client.post(
        f"/api/applications/{app_id}/attachments",
        headers=headers,
        data={"kind": kind},
        files={"file": (filename, content, "application/octet-stream")},
    )


def event(client, headers, app, name, **body):
    return client.post(
        f"/api/applications/{app['id']}/events/{name}", headers=headers, json={"version": app["version"], **body}
    )


@pytest.fixture
def draft(client, world, login):
    h = login("kg-out")
    r = client.post(
        "/api/applications", headers=h, json={**FORM, "preferred_alliance_id": str(world.alliances["A"].id)}
    )
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def submitted(client, world, login, draft):
    h = login("kg-out")
    for kind, content, name in [
        ("licence", pdf_bytes(), "许可证.pdf"),
        ("inspection", png_bytes(), "年检.png"),
        ("safety_pledge", jpeg_bytes(), "承诺书.jpg"),
    ]:
        assert upload(client, h, draft["id"], kind, content, name).status_code == 201
    current = client.get(f"/api/applications/{draft['id']}", headers=h).json()
    r = event(client, h, current, "submit")
    assert r.status_code == 200, r.text
    return r.json()


def test_draft_may_be_incomplete_but_not_wrong(client, world, login):
    h = login("kg-out")
    r = client.post("/api/applications", headers=h, json={"name": "只填了名字"})
    assert r.status_code == 201
    assert r.json()["state"] == "draft"
    assert r.json()["number"].startswith("SQ")


def _wrong_check_digit() -> str:
    good = make_credit_code("52360111M00000098")
    return good[:-1] + ("0" if good[-1] != "0" else "1")


def test_invalid_fields_get_422_naming_each_field(client, world, login):
    h = login("kg-out")
    r = client.post(
        "/api/applications",
        headers=h,
        json={
            "credit_code": _wrong_check_digit(),
            "head_phone": "12345",
            "classes": -1,
            "ownership": "charity",
            "needs": ["炒股"],
            "bogus": 1,
        },
    )
    assert r.status_code == 422
    fields = {e["field"]: e for e in r.json()["errors"]}
    assert set(fields) == {"credit_code", "head_phone", "classes", "ownership", "needs", "bogus"}
    assert "校验位" in fields["credit_code"]["message"]
    assert fields["classes"]["code"] == "greater_than_equal"
    assert all(e["message"] for e in r.json()["errors"])


def test_only_private_kindergartens_apply_and_one_open_application_at_a_time(client, world, login, draft):
    assert client.post("/api/applications", headers=login("officer"), json={}).status_code == 404
    again = client.post("/api/applications", headers=login("kg-out"), json={})
    assert again.status_code == 409
    assert again.json()["code"] == "open_application_exists"


def test_submit_lists_everything_missing(client, world, login):
    h = login("kg-out")
    app = client.post("/api/applications", headers=h, json={"name": "半成品幼儿园"}).json()
    r = event(client, h, app, "submit")
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert {
        "form.credit_code",
        "form.classes",
        "attachments.licence",
        "attachments.inspection",
        "attachments.safety_pledge",
    } <= fields
    assert "form.name" not in fields
    # Nothing moved.
    assert client.get(f"/api/applications/{app['id']}", headers=h).json()["state"] == "draft"


def test_attachment_types_are_judged_by_content(client, world, login, draft):
    h = login("kg-out")
    renamed_exe = upload(client, h, draft["id"], "licence", exe_bytes(), "许可证.pdf")
    assert renamed_exe.status_code == 422
    assert renamed_exe.json()["errors"][0]["field"] == "file"
    assert renamed_exe.json()["errors"][0]["code"] == "unsupported_type"
    empty = upload(client, h, draft["id"], "licence", b"", "empty.pdf")
    assert empty.status_code == 422
    png_named_pdf = upload(client, h, draft["id"], "licence", png_bytes(), "scan.pdf")
    assert png_named_pdf.status_code == 201
    assert png_named_pdf.json()["content_type"] == "image/png"
    assert png_named_pdf.json()["filename"] == "scan.png"
    bad_kind = upload(client, h, draft["id"], "passport", pdf_bytes(), "x.pdf")
    assert bad_kind.status_code == 422
    assert bad_kind.json()["errors"][0]["field"] == "kind"


def test_replacing_an_attachment_keeps_the_old_one(client, world, login, draft):
    h = login("kg-out")
    first = upload(client, h, draft["id"], "licence", pdf_bytes("one"), "a.pdf").json()
    second = upload(client, h, draft["id"], "licence", pdf_bytes("two"), "b.pdf").json()
    app = client.get(f"/api/applications/{draft['id']}", headers=h).json()
    by_id = {a["id"]: a for a in app["attachments"]}
    assert by_id[first["id"]]["current"] is False
    assert by_id[second["id"]]["current"] is True
    body = client.get(f"/api/applications/{draft['id']}/attachments/{first['id']}/content", headers=h)
    assert body.content == pdf_bytes("one")


def test_full_review_cycle(client, world, login, submitted, runtime):
    officer, applicant = login("officer"), login("kg-out")
    assert submitted["state"] == "submitted"
    checks = {c["key"]: c["result"] for c in submitted["eligibility"]}
    assert checks == {"licence_age": "ok", "inspection": "ok", "classes": "ok", "penalties": "ok", "safety": "ok"}
    # Officers are told.
    notes = client.get("/api/notifications", headers=officer).json()
    assert any(n["kind"] == "application.submitted" for n in notes)

    # The applicant cannot decide; the officer cannot skip review.
    assert event(client, applicant, submitted, "approve", alliance_id=str(world.alliances["A"].id)).status_code == 403
    assert event(client, officer, submitted, "approve", alliance_id=str(world.alliances["A"].id)).status_code == 409
    reviewing = event(client, officer, submitted, "start_review").json()
    assert reviewing["state"] == "under_review"
    # Officers see the alliance suggested by town (罗家镇 has no lead/pillar in this world).
    assert reviewing["suggested_alliance"] is None

    no_comment = event(client, officer, reviewing, "return")
    assert no_comment.status_code == 422
    assert no_comment.json()["errors"][0]["field"] == "comment"
    returned = event(client, officer, reviewing, "return", comment="请补充消防证明").json()
    assert returned["state"] == "returned"
    assert returned["last_comment"] == "请补充消防证明"
    assert any(n["kind"] == "application.returned" for n in client.get("/api/notifications", headers=applicant).json())

    # The applicant fixes the form and resubmits: a second form version, the first still readable.
    fixed = client.put(
        f"/api/applications/{returned['id']}",
        headers=applicant,
        json={"version": returned["version"], "form": {**returned["form"], "classes": 7}},
    )
    assert fixed.status_code == 200, fixed.text
    assert upload(client, applicant, returned["id"], "fire_safety", pdf_bytes("fire"), "消防.pdf").status_code == 201
    fixed = client.get(f"/api/applications/{returned['id']}", headers=applicant).json()
    resubmitted = event(client, applicant, fixed, "submit").json()
    assert resubmitted["state"] == "submitted"
    # The 申请表 renders after the commit (an outbox task): 「生成中」 until it is stored.
    assert resubmitted["form_status"] in ("generating", "ready")
    drain(runtime)
    ready = client.get(f"/api/applications/{returned['id']}", headers=applicant).json()
    assert (ready["form_status"], ready["form_status_label"]) == ("ready", "已生成")
    docs = client.get(f"/api/applications/{returned['id']}/documents", headers=applicant).json()
    assert [d["version_no"] for d in docs] == [2, 1]
    first = client.get(f"/api/documents/{docs[1]['id']}/content", headers=applicant)
    assert first.status_code == 200
    assert "filename*=UTF-8''" in first.headers["content-disposition"]
    text = "\n".join(p.text for p in WordDocument(io.BytesIO(first.content)).paragraphs)
    tables = " ".join(c.text for t in WordDocument(io.BytesIO(first.content)).tables for r in t.rows for c in r.cells)
    assert FORM["name"] in text + tables
    assert "{{ 7*7 }}" in text + tables

    reviewing = event(client, officer, resubmitted, "start_review").json()
    no_alliance = event(client, officer, reviewing, "approve")
    assert no_alliance.status_code == 422
    assert no_alliance.json()["errors"][0]["field"] == "alliance_id"
    approved = event(client, officer, reviewing, "approve", alliance_id=str(world.alliances["B"].id))
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "approved"
    assert approved.json()["allowed_events"] == []

    with runtime.db.session() as s:
        membership = s.scalar(select(Membership).where(Membership.kindergarten_id == world.kindergartens["C-OUT"].id))
        assert membership.alliance_id == world.alliances["B"].id and membership.ended_on is None
        topics = [m.topic for m in s.scalars(select(OutboxMessage))]
        assert topics.count("application.approved") == 1

    drain(runtime)  # the 批复 is rendered after the commit; its audit entry comes with its file
    history = client.get(f"/api/applications/{returned['id']}/history", headers=applicant).json()
    moves = [(h["event"], h["from_state"], h["to_state"]) for h in history if h["event"] not in ("attach", "edit")]
    assert moves == [
        ("create", None, "draft"),
        ("submit", "draft", "submitted"),
        ("start_review", "submitted", "under_review"),
        ("return", "under_review", "returned"),
        ("submit", "returned", "submitted"),
        ("start_review", "submitted", "under_review"),
        ("approve", "under_review", "approved"),
        ("decision_issued", "approved", "approved"),  # 经批复即可加入: the 批复 is issued with the decision
    ]
    assert client.get("/api/audit/verify", headers=officer).json()["ok"] is True


def test_stale_version_is_409_and_changes_nothing(client, world, login, submitted):
    officer = login("officer")
    stale = {**submitted, "version": submitted["version"] - 1}
    r = event(client, officer, stale, "start_review")
    assert r.status_code == 409
    assert r.json()["code"] == "stale_version"
    assert client.get(f"/api/applications/{submitted['id']}", headers=officer).json()["state"] == "submitted"


def test_unknown_event_is_409(client, world, login, submitted):
    r = event(client, login("officer"), submitted, "teleport")
    assert r.status_code == 409


def test_withdraw_before_review(client, world, login, submitted):
    r = event(client, login("kg-out"), submitted, "withdraw")
    assert r.json()["state"] == "withdrawn"
    # Once withdrawn, a new application may be started.
    assert client.post("/api/applications", headers=login("kg-out"), json={}).status_code == 201


def test_reject_needs_a_reason(client, world, login, submitted):
    officer = login("officer")
    reviewing = event(client, officer, submitted, "start_review").json()
    assert event(client, officer, reviewing, "reject").status_code == 422
    rejected = event(client, officer, reviewing, "reject", comment="不符合申请细则").json()
    assert rejected["state"] == "rejected"
    notes = client.get("/api/notifications", headers=login("kg-out")).json()
    assert notes[0]["kind"] == "application.rejected"


def test_others_cannot_see_or_touch_an_application(client, world, login, submitted):
    for who in ("kg-a1", "kg-b1", "lead-b"):
        h = login(who)
        assert client.get(f"/api/applications/{submitted['id']}", headers=h).status_code == 404, who
        assert event(client, h, submitted, "withdraw").status_code == 404, who
        assert upload(client, h, submitted["id"], "licence", pdf_bytes(), "x.pdf").status_code == 404, who
        assert all(a["id"] != submitted["id"] for a in client.get("/api/applications", headers=h).json())
    docs = client.get(f"/api/applications/{submitted['id']}/documents", headers=login("kg-out")).json()
    assert client.get(f"/api/documents/{docs[0]['id']}", headers=login("kg-a1")).status_code == 404
    # The lead of the alliance applied to may read it (to give its opinion).
    assert client.get(f"/api/applications/{submitted['id']}", headers=login("lead-a")).status_code == 200


def test_attachments_cannot_change_after_submission(client, world, login, submitted):
    r = upload(client, login("kg-out"), submitted["id"], "licence", pdf_bytes(), "x.pdf")
    assert r.status_code == 409


def test_officer_queue_filters(client, world, login, submitted):
    officer = login("officer")
    assert [a["id"] for a in client.get("/api/applications?state=submitted", headers=officer).json()] == [
        submitted["id"]
    ]
    assert client.get("/api/applications?state=approved", headers=officer).json() == []
    assert len(client.get("/api/applications?town=罗家镇", headers=officer).json()) == 1


def test_audit_verify_names_a_tampered_row(client, world, login, submitted, runtime):
    with runtime.db.session() as s:
        row = s.scalar(select(AuditEntry).where(AuditEntry.event == "submit"))
        row.comment = "悄悄改过"
        seq = row.seq
    report = client.get("/api/audit/verify", headers=login("officer")).json()
    assert report["ok"] is False
    assert report["first_broken_seq"] == seq
    assert client.get("/api/audit/verify", headers=login("kg-out")).status_code == 404
