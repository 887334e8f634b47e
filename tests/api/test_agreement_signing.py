"""The agreement from approval to effective, through the API alone, with real LibreOffice, real openssl
and pyHanko's validator; then verification of the originals and of copies with one byte changed.

One fully signed agreement per backend (module scope) serves every test here: converting to PDF
takes seconds, and each check reads the same archive. Verifying it and its altered copies:
``test_agreement_verification.py``.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from docx import Document as WordDocument
from fastapi.testclient import TestClient
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import func, select

from api.main import create_app
from storage import migrate
from storage.objects import ObjectConflict
from storage.runtime import Runtime, build_runtime
from templates.build_agreement import signature_box
from tests.api.test_applications import FORM, upload
from tests.fixtures.agreements import PIN, create_key, drain, fire, upload_seal
from tests.fixtures.app import PASSWORD, World, build_world, make_settings
from tests.fixtures.database import BACKENDS, discard_database_url, fresh_database_url
from tests.fixtures.files import jpeg_bytes, pdf_bytes, png_bytes
from workflows.agreements.models import Agreement, Signature
from workflows.audit import AuditEntry
from workflows.documents.models import Document

PUBLIC_URL = "https://kinderflow.example.cn"
SIGNERS = {"member": "kg-out", "lead": "lead-a", "pillar": "pillar-a", "bureau": "officer"}
ROUTE = ["member", "lead", "pillar", "bureau"]


@dataclass
class Signed:
    """What the module's one run produced and observed."""

    client: TestClient
    runtime: Runtime
    world: World
    headers: dict[str, dict[str, str]]
    agreement: dict[str, Any]
    folder: Path
    refusals: dict[str, Any] = field(default_factory=dict)
    seen: dict[str, Any] = field(default_factory=dict)

    def download(self, document_id: str, who: str = "officer") -> bytes:
        r = self.client.get(f"/api/documents/{document_id}/content", headers=self.headers[who])
        assert r.status_code == 200, r.text
        return r.content

    def documents(self, kind: str) -> list[dict[str, Any]]:
        r = self.client.get(f"/api/agreements/{self.agreement['id']}/documents", headers=self.headers["officer"])
        return [d for d in r.json() if d["kind"] == kind]


def _login(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/api/auth/token", data={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _application_event(client: TestClient, headers: dict[str, str], app: dict[str, Any], name: str, **body: Any) -> Any:
    r = client.post(
        f"/api/applications/{app['id']}/events/{name}", headers=headers, json={"version": app["version"], **body}
    )
    assert r.status_code == 200, r.text
    return r.json()


def _trail(runtime: Runtime) -> tuple[int, int, int]:
    """Audit rows, documents and signatures: a refusal may add one audit row and nothing else."""
    with runtime.db.session() as s:
        return (
            s.scalar(select(func.count()).select_from(AuditEntry)) or 0,
            s.scalar(select(func.count()).select_from(Document)) or 0,
            s.scalar(select(func.count()).select_from(Signature)) or 0,
        )


def _refuse(ctx: Signed, name: str, who: str, **body: Any) -> None:
    before = _trail(ctx.runtime)
    r = fire(ctx.client, ctx.headers[who], ctx.agreement, "sign", **body)
    after = _trail(ctx.runtime)
    with ctx.runtime.db.session() as s:
        last = s.scalar(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1))
        entry = (last.event, last.data.get("reason"), last.actor_name)
    ctx.refusals[name] = {"status": r.status_code, "body": r.json(), "before": before, "after": after, "entry": entry}


def _run(client: TestClient, runtime: Runtime, world: World, folder: Path) -> Signed:
    headers = {u: _login(client, u) for u in (*SIGNERS.values(), "kg-a1", "lead-b", "researcher")}
    officer, applicant = headers["officer"], headers["kg-out"]
    for code in ("A-LEAD", "A-PIL", "C-OUT"):
        upload_seal(client, officer, world.kid(code))
    upload_seal(client, officer, None)
    for username in SIGNERS.values():
        create_key(client, headers[username])

    # The application, approved into alliance A: the approval's task drafts the agreement.
    app = client.post(
        "/api/applications", headers=applicant, json={**FORM, "preferred_alliance_id": str(world.alliances["A"].id)}
    ).json()
    for kind, content, name in (("licence", pdf_bytes(), "许可证.pdf"), ("inspection", png_bytes(), "年检.png"),
                                ("safety_pledge", jpeg_bytes(), "承诺书.jpg")):  # fmt: skip
        assert upload(client, applicant, app["id"], kind, content, name).status_code == 201
    app = client.get(f"/api/applications/{app['id']}", headers=applicant).json()
    app = _application_event(client, applicant, app, "submit")
    app = _application_event(client, officer, app, "start_review")
    _application_event(client, officer, app, "approve", alliance_id=str(world.alliances["A"].id))
    drain(runtime)
    found = client.get(f"/api/agreements?application_id={app['id']}", headers=officer).json()
    assert len(found) == 1
    agreement = found[0]
    ctx = Signed(client, runtime, world, headers, agreement, folder)
    ctx.seen["drafted"] = agreement

    # The officer edits the variable parts: a second draft version.
    r = client.put(
        f"/api/agreements/{agreement['id']}",
        headers=officer,
        json={
            "version": agreement["version"],
            "special_clauses": "丙方每学期开放半日活动一次。<script>&",
            "term_end": "2029-08-31",
        },
    )
    assert r.status_code == 200, r.text
    ctx.agreement = r.json()
    ctx.seen["drafts"] = [d["version_no"] for d in ctx.documents("agreement_draft")]

    r = fire(client, officer, ctx.agreement, "send")
    assert r.status_code == 200, r.text
    ctx.agreement = ctx.seen["sent"] = r.json()

    # Refusals while 丙方 is due: 甲方 out of turn, 乙方 for another party, 丙方 with a wrong PIN.
    _refuse(ctx, "out_of_turn", "lead-a", pin=PIN)
    _refuse(ctx, "other_party", "pillar-a", pin=PIN, party="member")
    _refuse(ctx, "wrong_pin", "kg-out", pin="246801")
    for party in ROUTE:
        if party == ROUTE[-1]:  # the last signature answers before its certificate of completion is made
            r = client.post(
                f"/api/agreements/{ctx.agreement['id']}/events/sign", headers=headers[SIGNERS[party]],
                json={"version": ctx.agreement["version"], "pin": PIN, "read_confirmed": True},
            )  # fmt: skip
            assert r.status_code == 200, r.text
            ctx.seen["last_signature"] = r.json()
            ctx.seen["certificates_before"] = ctx.documents("completion_certificate")
            drain(runtime)
            r = client.get(f"/api/agreements/{ctx.agreement['id']}", headers=headers[SIGNERS[party]])
        else:
            r = fire(client, headers[SIGNERS[party]], ctx.agreement, "sign", pin=PIN)
        assert r.status_code == 200, (party, r.text)
        ctx.agreement = r.json()
        ctx.seen[f"after_{party}"] = ctx.agreement
        if party == "member":
            _refuse(ctx, "twice", "kg-out", pin=PIN)
    return ctx


@pytest.fixture(scope="module", params=BACKENDS)
def signed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Signed]:
    folder = tmp_path_factory.mktemp(f"agreement-{request.param}")
    url = fresh_database_url(request.param, folder)
    migrate.upgrade(url)
    runtime = build_runtime(make_settings(url, folder, public_url=PUBLIC_URL))
    try:
        world = build_world(runtime)
        with TestClient(create_app(runtime=runtime)) as client:
            yield _run(client, runtime, world, folder)
    finally:
        runtime.close()
        discard_database_url(url)


def test_approval_drafts_sending_freezes_and_all_four_sign_in_order(signed: Signed) -> None:
    a = signed.agreement
    assert signed.seen["drafted"]["state"] == "draft" and signed.seen["drafts"] == [2, 1]
    assert [p["label"] for p in a["parties"]] == [
        "甲方（龙头园）",
        "乙方（支柱园）",
        "丙方（成员园）",
        "监督方（区教科体局）",
    ]
    sent = signed.seen["sent"]
    assert sent["state"] == "signing" and sent["round"] == 1 and sent["awaiting"] == ["member"]
    assert sent["frozen_docx_id"] and sent["frozen_pdf_id"] and sent["verification_code"]
    assert [signed.seen[f"after_{p}"]["state"] for p in ROUTE] == ["signing", "signing", "signing", "effective"]
    assert [signed.seen[f"after_{p}"]["awaiting"] for p in ROUTE[:3]] == [["lead"], ["pillar"], ["bureau"]]
    assert a["state"] == "effective" and a["effective_at"] and a["certificate_id"]
    assert [(s["party"], s["step"]) for s in a["signatures"]] == [(p, n) for n, p in enumerate(ROUTE)]
    assert all(s["content_sha256"] == signed.documents("agreement_final")[0]["sha256"] for s in a["signatures"])
    history = signed.client.get(f"/api/agreements/{a['id']}/history", headers=signed.headers["kg-out"]).json()
    moves = [(h["event"], h["from_state"], h["to_state"]) for h in history if h["event"] in ("create", "send", "sign")]
    assert moves == [("create", None, "draft"), ("send", "draft", "signing")] + [("sign", "signing", "signing")] * 3 + [
        ("sign", "signing", "effective")
    ]
    assert signed.client.get("/api/audit/verify", headers=signed.headers["officer"]).json()["ok"] is True


def test_the_last_signature_answers_at_once_and_the_certificate_follows_the_commit(signed: Signed) -> None:
    """The certificate of completion (LibreOffice, the installation's signature, the archive) is made
    after the last signature commits, not in its transaction: 「生成中」 until then."""
    last = signed.seen["last_signature"]
    assert (last["state"], last["certificate_generating"], last["certificate_id"]) == ("effective", True, None)
    assert last["effective_at"] and signed.seen["certificates_before"] == []
    done = signed.seen["after_bureau"]
    assert done["certificate_generating"] is False and done["certificate_id"]
    assert done["version"] == last["version"]  # no one changed it: a page seen before is still current
    [certificate] = signed.documents("completion_certificate")
    assert certificate["id"] == done["certificate_id"]
    notes = signed.client.get("/api/notifications", headers=signed.headers["kg-out"]).json()
    assert [n["kind"] for n in notes].count("agreement.effective") == 1


def test_the_frozen_docx_prints_parties_seals_code_and_escaped_clauses(signed: Signed) -> None:
    [final] = signed.documents("agreement_final")
    content = signed.download(final["id"])
    word = WordDocument(io.BytesIO(content))
    text = "\n".join(p.text for p in word.paragraphs) + " ".join(
        c.text for t in word.tables for r in t.rows for c in r.cells
    )
    assert "丙方每学期开放半日活动一次。<script>&" in text
    assert signed.agreement["verification_code"] in text and "2029年8月31日" in text
    assert "C-OUT 园外幼儿园" in text and "青山湖区教育科技体育局（成幼科）" in text
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        media = [n for n in z.namelist() if n.startswith("word/media/")]
        sizes = sorted(len(z.read(n)) for n in media)
    assert len(media) == 5 and sizes[0] > 200  # four seals and the QR code replaced the 1×1 placeholders


def test_every_cms_signature_verifies_with_openssl(signed: Signed) -> None:
    ca_pem = signed.client.get("/api/ca.pem")  # public
    assert ca_pem.status_code == 200 and b"BEGIN CERTIFICATE" in ca_pem.content
    folder = signed.folder / "openssl"
    folder.mkdir(exist_ok=True)
    (folder / "ca.pem").write_bytes(ca_pem.content)
    [final] = signed.documents("agreement_final")
    (folder / "agreement.docx").write_bytes(signed.download(final["id"], who="kg-out"))
    for s in signed.agreement["signatures"]:
        (folder / f"{s['party']}.p7s").write_bytes(signed.download(s["cms_document_id"], who="lead-a"))
        result = subprocess.run(
            ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(folder / f"{s['party']}.p7s"),
             "-content", str(folder / "agreement.docx"), "-CAfile", str(folder / "ca.pem"), "-purpose", "any",
             "-out", "/dev/null"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert result.returncode == 0, (s["party"], result.stderr)
        assert "Verification successful" in result.stderr


def _validation_context(signed: Signed) -> ValidationContext:
    pem = signed.client.get("/api/ca.pem").content

    der = x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
    return ValidationContext(trust_roots=[asn1_x509.Certificate.load(der)], allow_fetching=False)


def test_pyhanko_reports_every_pdf_signature_intact_and_valid(signed: Signed) -> None:
    pdf = signed.download(signed.agreement["signed_pdf_id"])
    reader = PdfFileReader(io.BytesIO(pdf))
    embedded = reader.embedded_signatures
    assert [e.field_name for e in embedded] == [f"{p}-round1" for p in ROUTE]
    for sig in embedded:
        status = validate_pdf_signature(sig, _validation_context(signed))
        assert status.intact and status.valid and status.trusted, (sig.field_name, status.pretty_print_details())
        assert status.bottom_line
    # Each revision is stored; the frozen PDF is the first, untouched.
    revisions = signed.documents("agreement_signed_pdf")
    assert len(revisions) == 4
    frozen = signed.download(signed.agreement["frozen_pdf_id"])
    assert pdf.startswith(frozen)  # incremental: every later revision only appends


def test_visible_signatures_sit_in_their_rows_of_the_signature_page(signed: Signed) -> None:
    pdf_path = signed.folder / "signed.pdf"
    pdf_path.write_bytes(signed.download(signed.agreement["signed_pdf_id"]))
    pages = int(next(line.split()[-1] for line in subprocess.run(
        ["pdfinfo", str(pdf_path)], capture_output=True, text=True, check=True).stdout.splitlines()
        if line.startswith("Pages:")))  # fmt: skip
    bbox = subprocess.run(
        ["pdftotext", "-f", str(pages), "-l", str(pages), "-bbox", str(pdf_path), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    page_height = 841.89

    words = [
        (float(m.group(2)), float(m.group(4)), m.group(5))
        for m in re.finditer(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]+)<', bbox)
    ]
    placeholders = [(top, bottom) for top, bottom, word in words if word == "（电子签名）"]
    assert len(placeholders) == 4
    for party, (top, bottom) in zip(["lead", "pillar", "member", "bureau"], placeholders, strict=True):
        x0, y0, x1, y1 = signature_box(party)
        assert y0 < page_height - bottom and page_height - top < y1, party


def test_a_certificate_of_completion_lists_signers_hashes_and_timeline(signed: Signed) -> None:
    content = signed.download(signed.agreement["certificate_id"], who="pillar-a")
    word = WordDocument(io.BytesIO(content))
    text = " ".join(c.text for t in word.tables for r in t.rows for c in r.cells)
    for username in SIGNERS.values():
        assert username in text  # the signers' display names are their usernames in this world
    for s in signed.agreement["signatures"]:
        assert s["certificate_sha256"] in text and s["certificate_serial"] in text
    assert signed.documents("agreement_final")[0]["sha256"] in text
    assert signed.documents("agreement_pdf")[0]["sha256"] in text
    assert "发出签署" in text and "签署" in text and "testclient" in text  # the signers' addresses
    assert signed.documents("completion_certificate_pdf") and signed.documents("completion_certificate_signature")
    # Archived write-once: the manifest names every file with its hash, and the store refuses a different body.

    with signed.runtime.db.session() as s:
        key = s.scalar(select(Agreement.archive_key))
    assert key and key.startswith("archive/agreements/")

    with signed.runtime.objects.open(key) as f:
        manifest = json.load(f)
    assert len(manifest["files"]) == 2 + 4 * 2 + 3
    with pytest.raises(ObjectConflict):
        signed.runtime.objects.put_at(key, io.BytesIO(b"{}"), filename="manifest.json", content_type="application/json")


def test_refused_signing_leaves_only_the_audit_entry_of_the_refusal(signed: Signed) -> None:
    expected = {
        "out_of_turn": (409, "out_of_turn", "sign_refused"),
        "other_party": (409, "not_your_party", "sign_refused"),
        "twice": (409, "already_signed", "sign_refused"),
        "wrong_pin": (403, "wrong_pin", "pin_refused"),
    }
    for name, (status, code, event) in expected.items():
        seen = signed.refusals[name]
        assert seen["status"] == status and seen["body"]["code"] == code, name
        audit_before, documents_before, signatures_before = seen["before"]
        assert seen["after"] == (audit_before + 1, documents_before, signatures_before), name
        assert seen["entry"][0] == event and seen["entry"][1] == code, name


def test_others_do_not_see_the_agreement(signed: Signed) -> None:
    path = f"/api/agreements/{signed.agreement['id']}"
    for who in ("kg-a1", "lead-b"):
        assert signed.client.get(path, headers=signed.headers[who]).status_code == 404, who
        assert (
            signed.client.get(
                f"/api/documents/{signed.agreement['certificate_id']}", headers=signed.headers[who]
            ).status_code
            == 404
        )
    for who in ("researcher", "lead-a", "pillar-a", "kg-out"):
        assert signed.client.get(path, headers=signed.headers[who]).status_code == 200, who
