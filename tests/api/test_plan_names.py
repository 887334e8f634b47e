"""One name for the bureau in everything the service produces, and the agreement's citations.

The plan's bureau is 青山湖区教育科技体育局 (区教科体局 for short): 「区教科体局为幼教联盟的行政主管单位，
成幼科为行政主管部门」. Every kind of document is rendered here the way the service renders it (through
its API, or its area's own context where nothing but the officer's signature would make it), its text
extracted, and searched for any other name; the agreement must cite the plan by its title and the notice
it rests on: 「根据《南昌市教育局关于深入开展省市示范幼儿园结对帮扶活动的通知》……特制定青山湖区1+1+N幼教联盟方案」.
"""

from __future__ import annotations

import io
import re
import subprocess
import uuid
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from lxml import etree
from openpyxl import load_workbook
from sqlalchemy import select

from templates.build_files import TEMPLATES
from templates.docx import render_docx
from tests.api.test_applications import event
from tests.api.test_evaluation_documents import published  # noqa: F401 - a fixture used below
from tests.api.test_library import archived, promote  # noqa: F401 - a fixture used below
from tests.api.test_mentors import NOMINATION, mentor, nomination, teacher_id  # noqa: F401 - fixtures used below
from tests.api.test_news import activity as news_activity  # noqa: F401 - a fixture used below
from tests.api.test_news import consent
from tests.api.test_news import fire as fire_report
from tests.api.test_plan_decisions import _submit
from tests.fixtures.activities import PLAN_FORM, held_with_materials, today
from tests.fixtures.activities import fire as fire_activity
from tests.fixtures.agreements import drain
from tests.fixtures.evaluation_year import YEAR
from workflows.agreements import completion
from workflows.agreements.models import Agreement

BUREAU = "青山湖区教育科技体育局"
# The names a text may use: the bureau in full or short, and the municipal bureau that issued the notice.
ALLOWED = (BUREAU, "区教科体局", "南昌市教育局")
# Anything else that names an education bureau is wrong: 教育科学体育局, 教体局, 教育局 alone, ...
OTHER_NAMES = re.compile(r"教育局|教科体局|教体局|教育科学体育局|教育科技体育局|教育体育局|体育局|科体局|教科局")
PLAN = "《青山湖区1+1+N幼教联盟方案》"
POLICY = "南昌市教育局《关于深入开展省市示范幼儿园结对帮扶活动的通知》"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def docx_text(content: bytes) -> str:
    """Every paragraph of the body, tables, headers, footers and text boxes, one per line."""
    lines = []
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in sorted(archive.namelist()):
            if re.fullmatch(r"word/(document|header\d*|footer\d*)\.xml", name):
                root = etree.fromstring(archive.read(name))
                lines += ["".join(t.text or "" for t in p.iter(f"{W}t")) for p in root.iter(f"{W}p")]
    return "\n".join(lines)


def pdf_text(content: bytes, folder: Path) -> str:
    path = folder / f"{uuid.uuid4().hex}.pdf"
    path.write_bytes(content)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def xlsx_text(content: bytes) -> str:
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    return "\n".join(str(v) for sheet in workbook for row in sheet.iter_rows(values_only=True) for v in row if v)


def wrong_names(text: str) -> list[str]:
    """The bureau names in ``text`` other than the allowed ones, with a little context each."""
    cleaned = text
    for name in ALLOWED:
        cleaned = cleaned.replace(name, "〇" * len(name))
    return [cleaned[max(0, m.start() - 12) : m.end() + 4] for m in OTHER_NAMES.finditer(cleaned)]


def check(texts: dict[str, str]) -> None:
    """Every text names the bureau rightly; the dict says which documents were read."""
    problems = {label: found for label, text in texts.items() if (found := wrong_names(text))}
    assert not problems, problems
    assert all(text.strip() for text in texts.values()), [k for k, v in texts.items() if not v.strip()]


def _document(client, headers, document_id) -> bytes:
    r = client.get(f"/api/documents/{document_id}/content", headers=headers)
    assert r.status_code == 200, r.text
    return r.content


def _latest(documents: list[dict], kind: str) -> dict:
    return max((d for d in documents if d["kind"] == kind), key=lambda d: d["version_no"])


def test_the_helper_finds_other_names_and_passes_the_right_ones() -> None:
    assert wrong_names(f"{BUREAU}、区教科体局、青山湖区教科体局、{POLICY}成幼科") == []
    for wrong in ("青山湖区教育科学体育局", "报教育局备案", "区教体局", "青山湖区教育体育局", "区教育局成幼科"):
        assert wrong_names(wrong), wrong


def test_every_template_is_rendered_by_one_of_the_tests_below() -> None:
    covered = set().union(*COVERED.values())
    assert covered == set(TEMPLATES), {"not rendered": set(TEMPLATES) - covered, "unknown": covered - set(TEMPLATES)}


COVERED = {
    "applications": {
        "application_form.docx", "decision_letter.docx", "agreement.docx", "agreement_lead_pillar.docx",
        "completion_certificate.docx",
    },
    "activities": {"sign_in_sheet.docx", "activity_cover.docx", "archive_check_report.docx", "semester_work.docx"},
    "evaluations": {"evaluation_form.docx", "certificate.docx"},
    "mentors": {"mentor_nomination.docx", "mentor_appointment.docx", "publication_recommendation.docx"},
}  # fmt: skip


def test_区教科体局_applications_批复_agreements_and_completion_certificates(client, login, world, runtime, tmp_path):
    officer = login("officer")
    reviewing = _submit(client, login, world)
    approved = event(client, officer, reviewing, "approve", alliance_id=str(world.alliances["A"].id)).json()
    drain(runtime)  # the agreement is drafted, the 批复 and 申请表 rendered, in the background
    app_docs = client.get(f"/api/applications/{approved['id']}/documents", headers=officer).json()
    decision = client.get(f"/api/applications/{approved['id']}", headers=officer).json()["decision"]
    texts = {
        "application_form.docx": docx_text(_document(client, officer, _latest(app_docs, "application_form")["id"])),
        "decision_letter.docx": docx_text(_document(client, officer, decision["docx_document_id"])),
        "批复 PDF": pdf_text(_document(client, officer, decision["pdf_document_id"]), tmp_path),
    }
    with runtime.db.session() as s:
        agreement = s.scalars(select(Agreement).where(Agreement.application_id == uuid.UUID(approved["id"]))).one()
        agreement_id = agreement.id
        # The certificate of completion is made when the last party signs; its template and context are
        # the ones the service uses, rendered here for the draft agreement.
        context = completion.certificate_context(s, runtime.settings, agreement)
        texts["completion_certificate.docx"] = docx_text(render_docx(completion.TEMPLATE, context))
    member_docs = client.get(f"/api/agreements/{agreement_id}/documents", headers=officer).json()
    texts["agreement.docx"] = docx_text(_document(client, officer, _latest(member_docs, "agreement_draft")["id"]))
    lead_pillar = client.post(f"/api/alliances/{world.alliances['B'].id}/agreements/lead-pillar", headers=officer)
    assert lead_pillar.status_code in (200, 201), lead_pillar.text
    pillar_docs = client.get(f"/api/agreements/{lead_pillar.json()['id']}/documents", headers=officer).json()
    texts["agreement_lead_pillar.docx"] = docx_text(
        _document(client, officer, _latest(pillar_docs, "agreement_draft")["id"])
    )
    assert COVERED["applications"] <= set(texts)
    check(texts)
    assert BUREAU in texts["decision_letter.docx"] and BUREAU in texts["批复 PDF"].replace(" ", "")
    for kind in ("agreement.docx", "agreement_lead_pillar.docx"):
        agreement_text = texts[kind]
        assert f"根据{POLICY}和{PLAN}，" in agreement_text, kind
        assert "实施方案" not in agreement_text, kind
        assert f"{BUREAU}（成幼科）" in agreement_text, kind  # the supervising party
    assert BUREAU in texts["completion_certificate.docx"]  # the installation CA's organisation


def test_区教科体局_sign_in_sheets_archives_and_semester_plans(client, login, world, runtime, semester):
    lead = login("lead-a")
    activity = held_with_materials(client, login, runtime, world)
    sheet = client.get(f"/api/activities/{activity['id']}/sign-in-sheet", headers=lead)
    assert sheet.status_code == 200
    texts = {"sign_in_sheet.docx": docx_text(sheet.content)}
    assert fire_activity(client, lead, activity, "archive").status_code == 200
    drain(runtime)
    bundle = client.get(f"/api/activities/{activity['id']}/bundle", headers=lead)
    assert bundle.status_code == 200, bundle.text
    with zipfile.ZipFile(io.BytesIO(bundle.content)) as archive:
        for name in archive.namelist():
            if name.endswith("封面.docx") or name.endswith("四性检测报告.docx"):
                label = "activity_cover.docx" if name.endswith("封面.docx") else "archive_check_report.docx"
                texts[label] = docx_text(archive.read(name))
            elif name.endswith(".xlsx") and "00_" in name:
                texts[f"档案目录 {name.rsplit('/', 1)[-1]}"] = xlsx_text(archive.read(name))
    alliance = world.alliances["A"].id
    saved = client.put(f"/api/semesters/{semester}/alliances/{alliance}/plan", headers=lead, json={"form": PLAN_FORM})
    assert saved.status_code == 200, saved.text
    plan = client.get(f"/api/semesters/{semester}/alliances/{alliance}/plan/content", headers=lead)
    texts["semester_work.docx"] = docx_text(plan.content)
    ledger = client.get("/api/ledger", headers=login("officer"), params={"year": (today() - timedelta(days=2)).year})
    assert ledger.status_code == 200, ledger.text
    texts["继续教育台账"] = xlsx_text(ledger.content)
    assert COVERED["activities"] <= set(texts), set(texts)
    check(texts)


def test_区教科体局_evaluation_forms_summaries_and_certificates(client, login, world, runtime, published):  # noqa: F811
    officer = login("officer")
    evaluation = published["TA"]
    docs = client.get(f"/api/evaluations/{evaluation['id']}/documents", headers=officer).json()
    texts = {"evaluation_form.docx": docx_text(_document(client, officer, docs[0]["id"]))}
    summary = client.get("/api/evaluations/summary.xlsx", headers=officer, params={"year": YEAR})
    assert summary.status_code == 200, summary.text
    texts["年度考核汇总表"] = xlsx_text(summary.content)
    for lead in ("lead-a", "lead-b"):
        batch = client.post("/api/certificates/batch", headers=login(lead), json={"year": YEAR})
        assert batch.status_code == 201, batch.text
    job = client.post("/api/certificates/countersign", headers=officer, json={"pdf": False})
    assert job.status_code == 202, job.text
    drain(runtime)
    listed = client.get("/api/certificates", params={"year": YEAR}, headers=officer).json()
    for certificate in listed:
        texts[f"certificate.docx {certificate['number']}"] = docx_text(
            _document(client, officer, certificate["docx_document_id"])
        )
    texts["certificate.docx"] = texts[f"certificate.docx {listed[0]['number']}"]
    assert COVERED["evaluations"] <= set(texts)
    check(texts)
    assert f"{BUREAU}成幼科" in texts["certificate.docx"]  # the issuer
    assert "区教科体局成幼科（盖章）" in texts["evaluation_form.docx"]


def test_区教科体局_mentor_letters_and_recommendations(client, login, world, nomination, mentor, archived, promote):  # noqa: F811
    officer, lead, researcher = login("officer"), login("lead-a"), login("researcher")
    texts = {}
    nominated = client.get(f"/api/mentors/nominations/{nomination['id']}/documents", headers=officer).json()
    texts["mentor_nomination.docx"] = docx_text(_document(client, officer, nominated[0]["id"]))
    appointed = client.get(f"/api/mentors/{mentor['id']}/documents", headers=officer).json()
    texts["mentor_appointment.docx"] = docx_text(_document(client, officer, appointed[0]["id"]))
    case = promote(lead, archived.materials["磁铁课例.docx"], age_group="大班").json()
    rec = client.post(f"/api/library/{case['id']}/recommendations", headers=lead, json={"reason": "问题真实"}).json()
    path = f"/api/library/recommendations/{rec['id']}"
    rec = client.post(f"{path}/events/shortlist", headers=researcher, json={"version": rec["version"]}).json()
    rec = client.post(f"{path}/events/submit", headers=researcher, json={"version": rec["version"]}).json()
    letters = client.get(f"{path}/documents", headers=lead).json()
    texts["publication_recommendation.docx"] = docx_text(_document(client, lead, letters[0]["id"]))
    assert COVERED["mentors"] <= set(texts)
    check(texts)
    assert f"{BUREAU}" in texts["mentor_appointment.docx"]  # the 聘书 is issued by the bureau
    assert f"{BUREAU}教研室" in texts["publication_recommendation.docx"]


def test_区教科体局_the_news_feed_and_its_pages(client, login, world, news_activity):  # noqa: F811
    lead = login("lead-a")
    assert consent(client, lead, news_activity, "同意.jpg", True).status_code == 200
    body = {
        "activity_id": str(news_activity.activity_id),
        "material_id": str(news_activity.materials["活动报道.docx"]),
        "title": "科学探究公开课报道",
        "summary": "龙头园承办",
    }
    report = client.post("/api/news/reports", headers=lead, json=body).json()
    report = fire_report(client, lead, report, "approve").json()
    assert fire_report(client, lead, report, "publish").status_code == 200
    feed = client.get("/news/feed.atom")
    assert feed.status_code == 200
    root = etree.fromstring(feed.content)
    texts = {
        "Atom feed": "\n".join(t for t in root.itertext()),
        "news page": client.get("/news").text,
        "news entry": client.get(f"/news/{report['id']}").text,
    }
    check(texts)
    author = root.find("{http://www.w3.org/2005/Atom}author/{http://www.w3.org/2005/Atom}name")
    assert author is not None and author.text == BUREAU


@pytest.mark.parametrize("path", ["/login", "/verify", "/news"])
def test_区教科体局_public_pages(client, path):
    page = client.get(path)
    assert page.status_code == 200
    check({path: page.text})
