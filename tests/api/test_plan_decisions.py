"""「经批复即可加入」and the other parts of the plan the application review answers to.

方案: 「各民办园结合乡镇、街道区域划分，根据园本发展需求和自愿的原则，书面打报告至区教科体局申请，经批复
即可加入1+1+N幼教联盟」; 「各联盟应根据该联盟教师的实际需要……每学期初，制定联盟互动计划」.
"""

from __future__ import annotations

import io
import uuid
from datetime import datetime

import pytest
from docx import Document as WordDocument
from sqlalchemy import select

from templates.docx_text import read_blocks
from tests.api.test_applications import FORM, event, upload
from tests.fixtures.agreements import drain
from tests.fixtures.files import jpeg_bytes, pdf_bytes, png_bytes
from workers.wiring import runner_for
from workflows.agreements.models import Agreement
from workflows.applications import decisions
from workflows.clock import BEIJING
from workflows.registry.models import Category, Kindergarten

YEAR = datetime.now(BEIJING).year


def _submit(client, login, world, *, user: str = "kg-out", **form) -> dict:
    h = login(user)
    body = {**FORM, "preferred_alliance_id": str(world.alliances["A"].id), **form}
    draft = client.post("/api/applications", headers=h, json=body)
    assert draft.status_code == 201, draft.text
    app = draft.json()
    for kind, content, name in [
        ("licence", pdf_bytes(), "许可证.pdf"),
        ("inspection", png_bytes(), "年检.png"),
        ("safety_pledge", jpeg_bytes(), "承诺书.jpg"),
    ]:
        assert upload(client, h, app["id"], kind, content, name).status_code == 201
    app = client.get(f"/api/applications/{app['id']}", headers=h).json()
    submitted = event(client, h, app, "submit")
    assert submitted.status_code == 200, submitted.text
    reviewing = event(client, login("officer"), submitted.json(), "start_review")
    assert reviewing.status_code == 200, reviewing.text
    return reviewing.json()


def _content(client, headers, document_id) -> bytes:
    r = client.get(f"/api/documents/{document_id}/content", headers=headers)
    assert r.status_code == 200, r.text
    return r.content


def _text(docx: bytes) -> str:
    lines = []
    for block in read_blocks(docx):
        lines.append(block.text)
        lines.extend("｜".join(row) for row in block.rows)
    footer = WordDocument(io.BytesIO(docx)).sections[0].footer
    return "\n".join([*lines, *(p.text for p in footer.paragraphs)])


def _decided(client, runtime, headers, application):
    """The decision once its letter (rendered after the commit) is stored."""
    drain(runtime)
    return client.get(f"/api/applications/{application['id']}", headers=headers).json()["decision"]


def test_经批复即可加入_approval_issues_a_numbered_批复_to_the_applicant(client, login, world, runtime):
    officer, applicant = login("officer"), login("kg-out")
    reviewing = _submit(client, login, world)
    approved = event(
        client, officer, reviewing, "approve", alliance_id=str(world.alliances["B"].id), comment="材料齐全"
    )
    assert approved.status_code == 200, approved.text
    decision = approved.json()["decision"]
    # The letter renders after the commit: 「生成中」 in the answer (unless the runner was quicker).
    assert decision["letter_generating"] is (decision["docx_document_id"] is None)
    decision = _decided(client, runtime, officer, reviewing)
    assert decision["letter_generating"] is False
    assert decision["number"] == f"青教科体成幼批〔{YEAR}〕1号"
    assert (decision["outcome"], decision["outcome_label"], decision["alliance_name"]) == (
        "approved",
        "同意加入",
        "测试联盟B",
    )

    # The applicant sees the 批复 on its application and is told of it.
    mine = client.get(f"/api/applications/{reviewing['id']}", headers=applicant).json()
    assert mine["decision"]["number"] == decision["number"]
    note = next(
        n for n in client.get("/api/notifications", headers=applicant).json() if n["kind"] == "application.approved"
    )
    assert decision["number"] in note["title"] and "批复" in note["body"]

    letter = _text(_content(client, applicant, decision["docx_document_id"]))
    name = FORM["name"]
    for expected in (
        "青山湖区教育科技体育局",
        decision["number"],
        f"关于同意{name}加入青山湖区1+1+N幼教联盟的批复",
        f"{name}：",
        f"（申请编号 {reviewing['number']}）",
        "根据《青山湖区1+1+N幼教联盟方案》，经审核，同意你园加入测试联盟B，作为联盟成员园。",
        "审核意见：材料齐全",
        "此复。",
        f"核验码：{decision['verification_code']}",
    ):
        assert expected in letter, expected
    pdf = _content(client, applicant, decision["pdf_document_id"])
    assert pdf.startswith(b"%PDF")

    # The 申请表 is rendered again (after the commit) with the decision in its 审核意见 block.
    drain(runtime)
    documents = client.get(f"/api/applications/{reviewing['id']}/documents", headers=officer).json()
    forms = sorted((d for d in documents if d["kind"] == "application_form"), key=lambda d: d["version_no"])
    assert len(forms) == 2
    form = _text(_content(client, officer, forms[-1]["id"]))
    assert "区教科体局成幼科审核意见｜同意加入测试联盟B，作为联盟成员园。审核意见：材料齐全" in form.replace("\n", "")
    assert f"批复文号：{decision['number']}" in form
    assert "审核部门：区教科体局成幼科（盖章）" in form
    day = datetime.now(BEIJING).date()
    assert f"日期：{day.year}年{day.month}月{day.day}日" in form
    assert "龙头园意见" not in form
    first = _text(_content(client, officer, forms[0]["id"]))
    assert "日期：________年____月____日" in first and "批复文号" not in first


def test_经批复即可加入_rejection_issues_a_批复_too_and_the_numbers_run_without_gaps(client, login, world, runtime):
    officer, applicant = login("officer"), login("kg-out")
    reviewing = _submit(client, login, world)
    no_reason = event(client, officer, reviewing, "reject")
    assert no_reason.status_code == 422  # refused before anything is numbered
    rejected = event(client, officer, reviewing, "reject", comment="近三年有行政处罚<记录>")
    assert rejected.status_code == 200, rejected.text
    decision = _decided(client, runtime, officer, reviewing)
    assert decision["number"] == f"青教科体成幼批〔{YEAR}〕1号"
    assert (decision["outcome"], decision["outcome_label"]) == ("rejected", "不予批准")
    letter = _text(_content(client, applicant, decision["docx_document_id"]))
    assert f"关于{FORM['name']}申请加入青山湖区1+1+N幼教联盟的批复" in letter
    assert "你园此次申请不予批准。" in letter and "理由：近三年有行政处罚<记录>" in letter
    note = next(
        n for n in client.get("/api/notifications", headers=applicant).json() if n["kind"] == "application.rejected"
    )
    assert decision["number"] in note["title"]

    # The applicant puts things right and applies again: the next 批复 takes the next number.
    again = _submit(client, login, world)
    approved = event(client, officer, again, "approve", alliance_id=str(world.alliances["A"].id)).json()
    assert approved["decision"]["number"] == f"青教科体成幼批〔{YEAR}〕2号"
    assert approved["decision"]["opinion"] == ""


def _flip(content: bytes) -> bytes:
    at = len(content) // 2
    return content[:at] + bytes([content[at] ^ 0x01]) + content[at + 1 :]


def test_经批复即可加入_the_批复_verifies_by_its_code_and_its_file_and_a_changed_byte_does_not(
    client, login, world, runtime
):
    reviewing = _submit(client, login, world)
    assert event(client, login("officer"), reviewing, "reject", comment="班级数不足").status_code == 200
    decided = _decided(client, runtime, login("officer"), reviewing)
    by_code = client.get(f"/api/verify/{decided['verification_code'].lower()}")
    assert by_code.status_code == 200, by_code.text
    found = by_code.json()
    assert (found["ok"], found["kind"], found["kind_label"], found["reference"]) == (
        True,
        "decision",
        "批复",
        decided["number"],
    )
    assert {"label": "决定", "value": "不予批准"} in found["details"]
    assert "青山湖区教育科技体育局" in found["summary"]

    for document_id in (decided["docx_document_id"], decided["pdf_document_id"]):
        content = _content(client, login("kg-out"), document_id)
        original = client.post("/api/verify", files={"file": ("批复", content)}).json()
        assert (original["ok"], original["original"], original["reference"]) == (True, True, decided["number"])
        changed = client.post("/api/verify", files={"file": ("批复", _flip(content))}).json()
        assert not changed.get("ok") and changed.get("reference") != decided["number"]

    # The page says the same to anyone, signed in or not.
    page = client.get(f"/verify?code={decided['verification_code']}")
    assert page.status_code == 200 and decided["number"] in page.text and "批复" in page.text


def test_N所民办园为主体_only_a_private_kindergarten_is_approved_as_a_member(client, login, world, runtime):
    reviewing = _submit(client, login, world)
    with runtime.db.session() as s:
        s.get(Kindergarten, world.kindergartens["C-OUT"].id).category = Category.DISTRICT_DIRECT
    r = event(client, login("officer"), reviewing, "approve", alliance_id=str(world.alliances["A"].id))
    assert r.status_code == 422
    (error,) = r.json()["errors"]
    assert (error["field"], error["code"]) == ("kindergarten_id", "composition")
    assert "成员园须为民办园" in error["message"] and "该园为区直属" in error["message"]
    still = client.get(f"/api/applications/{reviewing['id']}", headers=login("officer")).json()
    assert (still["state"], still["decision"]) == ("under_review", None)


def test_结合乡镇_街道区域划分_the_review_suggests_the_alliance_that_serves_the_applicants_town(client, login, world):
    officer = login("officer")
    alliances = world.alliances
    # 罗家镇 has no lead or pillar: nothing to suggest until an alliance serves it.
    reviewing = _submit(client, login, world, town="罗家镇")
    assert reviewing["suggested_alliance"] is None

    put = client.put(f"/api/alliances/{alliances['B'].id}/service-area", headers=officer,
                     json={"service_area": ["塘山镇", "罗家镇"]})  # fmt: skip
    assert put.status_code == 200, put.text
    assert put.json()["service_area"] == ["塘山镇", "罗家镇"]
    seen = client.get(f"/api/applications/{reviewing['id']}", headers=officer).json()
    assert seen["suggested_alliance"]["id"] == str(alliances["B"].id)
    assert seen["suggested_alliance"]["reason"] == "「罗家镇」在该联盟的服务区域内"
    # Kindergartens never see the suggestion; only the bureau edits areas, one alliance per town.
    assert (
        client.get(f"/api/applications/{reviewing['id']}", headers=login("kg-out")).json()["suggested_alliance"] is None
    )
    taken = client.put(f"/api/alliances/{alliances['A'].id}/service-area", headers=officer,
                       json={"service_area": ["湖坊镇", "罗家镇"]})  # fmt: skip
    assert taken.status_code == 422
    assert taken.json()["errors"] == [
        {"field": "service_area", "code": "taken", "message": "「罗家镇」已是测试联盟B（TB）的服务区域"}
    ]
    assert client.put(f"/api/alliances/{alliances['A'].id}/service-area", headers=login("lead-a"),
                      json={"service_area": ["湖坊镇"]}).status_code == 404  # fmt: skip
    listed = {a["code"]: a["service_area"] for a in client.get("/api/alliances", headers=officer).json()}
    assert listed == {"TA": [], "TB": ["塘山镇", "罗家镇"]}


def test_an_alliance_whose_pillar_sits_in_the_town_is_suggested_while_no_alliance_serves_it(client, login, world):
    reviewing = _submit(client, login, world, town="湖坊镇")
    suggestion = reviewing["suggested_alliance"]
    assert suggestion["id"] == str(world.alliances["A"].id)
    assert suggestion["reason"] == "尚无联盟以「湖坊镇」为服务区域，该联盟的支柱园同在此地"


@pytest.fixture
def joined(client, login, world) -> dict:
    """C-OUT applied with its needs and was approved into alliance A."""
    reviewing = _submit(client, login, world, needs=["游戏", "课程"])
    return event(client, login("officer"), reviewing, "approve", alliance_id=str(world.alliances["A"].id)).json()


def test_根据该联盟教师的实际需要_the_lead_reads_each_members_stated_needs(client, login, world, joined):
    url = f"/api/alliances/{world.alliances['A'].id}/member-needs"
    rows = client.get(url, headers=login("lead-a")).json()
    by_code = {r["kindergarten_name"].split()[0]: r for r in rows}
    assert set(by_code) == {"A-M1", "A-M2", "C-OUT"}
    joined_row = by_code["C-OUT"]
    assert (joined_row["needs"], joined_row["application_number"]) == (["课程", "游戏"], joined["number"])
    assert joined_row["reasons"] == FORM["reasons"]
    # Founding members joined through the arrangement table: no application, no stated needs.
    assert (by_code["A-M1"]["application_id"], by_code["A-M1"]["needs"]) == (None, [])
    assert client.get(url, headers=login("pillar-a")).status_code == 200
    assert client.get(url, headers=login("officer")).status_code == 200
    for outsider in ("lead-b", "kg-a1"):
        assert client.get(url, headers=login(outsider)).status_code == 404, outsider


def test_the_agreement_drafted_on_approval_names_the_批复_it_follows(client, login, world, runtime, joined):
    drain(runtime)
    with runtime.db.session() as s:
        agreement = s.scalars(select(Agreement).where(Agreement.application_id == uuid.UUID(joined["id"]))).one()
        agreement_id = agreement.id
    docs = client.get(f"/api/agreements/{agreement_id}/documents", headers=login("officer"))
    assert docs.status_code == 200, docs.text
    draft = next(d for d in docs.json() if d["kind"] == "agreement_draft")
    text = _text(_content(client, login("officer"), draft["id"]))
    assert f"经丙方申请、区教科体局批复同意（{joined['decision']['number']}，申请编号 {joined['number']}）" in text
    assert "根据南昌市教育局《关于深入开展省市示范幼儿园结对帮扶活动的通知》和《青山湖区1+1+N幼教联盟方案》" in text


def test_the_批复_renders_after_the_decision_commits_and_a_failed_render_is_redone_once(
    client, login, world, runtime, monkeypatch
):

    officer = login("officer")
    reviewing = _submit(client, login, world)
    render = decisions.render_docx

    def broken(template: str, context: dict) -> bytes:
        raise RuntimeError("renderer down")

    monkeypatch.setattr(decisions, "render_docx", broken)
    rejected = event(client, officer, reviewing, "reject", comment="班级数不足")
    assert rejected.status_code == 200, rejected.text  # the decision stands without its files
    drain(runtime)
    decision = client.get(f"/api/applications/{reviewing['id']}", headers=officer).json()["decision"]
    assert decision["number"] == f"青教科体成幼批〔{YEAR}〕1号"
    assert (decision["letter_generating"], decision["docx_document_id"]) == (True, None)
    runner = runner_for(runtime)
    assert runner is not None
    [failure] = [f for f in runner.failures if f.name == decisions.LETTER_TOPIC]
    runner.failures.clear()

    monkeypatch.setattr(decisions, "render_docx", render)
    for _ in range(2):  # the resend, then a duplicate delivery: one letter, one audit entry
        runner.submit(decisions.LETTER_TOPIC, **failure.kwargs)
        drain(runtime)
    assert runner.failures == []
    decision = client.get(f"/api/applications/{reviewing['id']}", headers=officer).json()["decision"]
    assert decision["letter_generating"] is False and decision["docx_document_id"] is not None
    history = client.get(f"/api/applications/{reviewing['id']}/history", headers=officer).json()
    assert [h["event"] for h in history].count("decision_issued") == 1
    assert client.get("/api/audit/verify", headers=officer).json()["ok"] is True
