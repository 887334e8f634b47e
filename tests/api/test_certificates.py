"""Certificates for the presenters of held 公开课 and 讲座: numbered per year, verifiable by code and file."""

from __future__ import annotations

import io
import re

import pytest
from docx import Document

from tests.fixtures.agreements import drain
from tests.fixtures.evaluation_year import YEAR, build_year


@pytest.fixture
def year(runtime, world):
    return build_year(runtime, world)


def _text(content: bytes) -> str:
    return "\n".join(p.text for p in Document(io.BytesIO(content)).paragraphs)


def _issue(client, login, lead, **body):
    r = client.post("/api/certificates/batch", headers=login(lead), json={"year": YEAR, **body})
    assert r.status_code == 201, r.text
    return r.json()


def _countersign(client, login, runtime, **body):
    r = client.post("/api/certificates/countersign", headers=login("officer"), json={"pdf": False, **body})
    assert r.status_code == 202, r.text
    drain(runtime)
    return client.get(f"/api/jobs/{r.json()['id']}", headers=login("officer")).json()


def _batch(client, login, runtime):
    """Both alliances issue, the section countersigns: every certificate of the year, valid."""
    _issue(client, login, "lead-b")
    _issue(client, login, "lead-a")
    _countersign(client, login, runtime)
    return client.get("/api/certificates", params={"year": YEAR}, headers=login("officer")).json()


def test_presenters_of_held_open_classes_and_lectures_get_numbered_certificates(client, login, runtime, year, world):
    listed = _batch(client, login, runtime)
    # B: B1 公开课, B2 讲座, B4 公开课. A: S2 公开课 (held, A-PIL presents); S3 讲座 was cancelled.
    assert [(c["number"], c["activity_number"].split("-")[0], c["kind_label"], c["state_label"]) for c in listed] == [
        ("ZS2026-0001", "TB", "公开课证书", "已会签"),
        ("ZS2026-0002", "TB", "讲座证书", "已会签"),
        ("ZS2026-0003", "TB", "公开课证书", "已会签"),
        ("ZS2026-0004", "TA", "公开课证书", "已会签"),
    ]
    a = listed[3]
    assert (a["teacher_name"], a["kindergarten_name"]) == ("A-PIL业务", world.kindergartens["A-PIL"].name)
    assert re.fullmatch(r"[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}", a["verification_code"])
    assert len({c["verification_code"] for c in listed}) == 4
    assert a["issued_by"] and a["countersigned_by"] and a["countersigned_at"]
    content = client.get(f"/api/documents/{a['docx_document_id']}/content", headers=login("lead-a")).content
    text = _text(content)
    assert "公开课证书" in text and "ZS2026-0004" in text and a["verification_code"] in text
    assert "A-PIL业务 老师（A-PIL A&B<幼儿园>）" in text and "2026年5月10日" in text and "执教公开课" in text


def test_the_lead_issues_for_its_own_alliance_and_the_section_countersigns(client, login, runtime, year):
    for username in ("researcher", "officer", "kg-a1"):
        refused = client.post("/api/certificates/batch", headers=login(username), json={"year": YEAR})
        assert refused.status_code == 403, username
    first = _issue(client, login, "lead-a")
    assert [(c["alliance_name"], c["state"], c["docx_document_id"]) for c in first["issued"]] == [
        ("测试联盟A", "pending", None)
    ]
    # Not valid before the section countersigns.
    assert client.get(f"/api/verify/{first['issued'][0]['verification_code']}").json()["found"] is False
    again = _issue(client, login, "lead-a")
    assert (again["issued"], again["already_issued"]) == ([], 1)
    r = client.post("/api/certificates/countersign", headers=login("lead-a"), json={})
    assert r.status_code == 404
    job = _countersign(client, login, runtime)
    assert (job["state"], job["total"], job["done"], job["errors"]) == ("done", 1, 1, [])
    r = client.post("/api/certificates/countersign", headers=login("officer"), json={})
    assert r.status_code == 409
    assert client.get(f"/api/verify/{first['issued'][0]['verification_code']}").json()["found"] is True


def test_an_alliance_sees_its_own_certificates_only(client, login, runtime, year):
    issued = _batch(client, login, runtime)
    mine = client.get("/api/certificates", headers=login("kg-a1")).json()
    assert [c["number"] for c in mine] == ["ZS2026-0004"]
    b_one = next(c for c in issued if c["alliance_name"] == "测试联盟B")
    assert client.get(f"/api/certificates/{b_one['id']}", headers=login("lead-a")).status_code == 404
    assert client.get(f"/api/documents/{b_one['docx_document_id']}", headers=login("lead-a")).status_code == 404
    assert client.get(f"/api/certificates/{b_one['id']}", headers=login("lead-b")).status_code == 200


def test_certificates_verify_by_code_and_by_the_issued_file(client, login, runtime, year):
    certificate = _batch(client, login, runtime)[0]
    code = certificate["verification_code"]
    for typed in (code, code.lower().replace("-", ""), f" {code} "):
        r = client.get(f"/api/verify/{typed.strip()}")
        assert r.status_code == 200, r.text
        result = r.json()
        assert (result["found"], result["ok"], result["kind"], result["reference"]) == (
            True, True, "certificate", certificate["number"],
        )  # fmt: skip
        details = {d["label"]: d["value"] for d in result["details"]}
        assert details["姓名"] == certificate["teacher_name"] and details["证书编号"] == certificate["number"]
    content = client.get(f"/api/documents/{certificate['docx_document_id']}/content", headers=login("officer")).content
    r = client.post("/api/verify", files={"file": ("证书.docx", content, "application/octet-stream")})
    assert r.status_code == 200, r.text
    assert (r.json()["original"], r.json()["ok"], r.json()["reference"]) == (True, True, certificate["number"])
    tampered = content.replace(b"word/document.xml", b"word/document.xmL", 1)
    unknown = client.post("/api/verify", files={"file": ("证书.docx", tampered, "application/octet-stream")}).json()
    assert unknown["found"] is False and unknown["ok"] is False
    assert client.get("/api/verify/AAAA-BBBB-CCCC").json()["found"] is False


@pytest.mark.slow
def test_a_batch_with_pdf_stores_a_pdf_that_verifies(client, login, runtime, year):
    _issue(client, login, "lead-a", activity_id=str(year.activities["S2"]))
    job = _countersign(client, login, runtime, pdf=True)
    assert job["state"] == "done", job
    [certificate] = client.get("/api/certificates", headers=login("officer")).json()
    meta = client.get(f"/api/documents/{certificate['pdf_document_id']}", headers=login("officer")).json()
    assert meta["content_type"] == "application/pdf" and meta["filename"].endswith(".pdf")
    pdf = client.get(f"/api/documents/{certificate['pdf_document_id']}/content", headers=login("officer")).content
    assert pdf.startswith(b"%PDF")
    r = client.post("/api/verify", files={"file": ("证书.pdf", pdf, "application/pdf")}).json()
    assert (r["found"], r["original"], r["reference"]) == (True, True, certificate["number"])
