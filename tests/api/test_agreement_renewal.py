"""Renewal before expiry (the next term is a new agreement linked to the old, which stays as it was),
the edits the officer makes before sending (term, special clauses, route: 422s naming the field), and
what signing asks of the signer before the PIN is tried (the read confirmation, the party's seal)."""

from __future__ import annotations

import io
import uuid
from datetime import date, timedelta

import pytest
from docx import Document as WordDocument
from sqlalchemy import func, select

from tests.fixtures.agreements import PIN, SIGNERS, fire, upload_seal
from workflows import audit, clock
from workflows.agreements.events import expire_due
from workflows.agreements.models import Agreement, Signature
from workflows.agreements.renewal import due_for_renewal
from workflows.registry.models import Membership

pytestmark = pytest.mark.usefixtures("without_libreoffice")


def sign_all(client, login, agreement, order=("member", "lead", "pillar", "bureau")):
    for party in order:
        r = fire(client, login(SIGNERS[party]), agreement, "sign", pin=PIN)
        assert r.status_code == 200, (party, r.text)
        agreement = r.json()
    return agreement


@pytest.fixture
def effective(client, login, draft_agreement):
    return sign_all(client, login, fire(client, login("officer"), draft_agreement, "send").json())


def renew(client, headers, agreement):
    return client.post(
        f"/api/agreements/{agreement['id']}/renew", headers=headers, json={"version": agreement["version"]}
    )


def draft_text(client, headers, agreement) -> str:
    docs = client.get(f"/api/agreements/{agreement['id']}/documents", headers=headers).json()
    latest = next(d for d in docs if d["kind"] == "agreement_draft")
    content = client.get(f"/api/documents/{latest['id']}/content", headers=headers).content

    return "\n".join(p.text for p in WordDocument(io.BytesIO(content)).paragraphs)


def test_renewal_opens_the_next_term_and_leaves_the_old_one_as_it_was(client, login, runtime, effective):
    officer, old = login("officer"), effective
    old_docs = client.get(f"/api/agreements/{old['id']}/documents", headers=officer).json()

    assert renew(client, login("lead-a"), old).status_code == 409  # a party, not the officer
    assert renew(client, login("lead-b"), old).status_code == 404  # not even visible
    assert renew(client, officer, {**old, "version": old["version"] - 1}).status_code == 409  # stale
    r = renew(client, officer, old)
    assert r.status_code == 201, r.text
    new = r.json()
    assert (new["state"], new["term_no"], new["renewal_of_id"]) == ("draft", 2, old["id"])
    assert new["number"] != old["number"] and new["subject"] == old["subject"]
    start = date.fromisoformat(old["term_end"]) + timedelta(days=1)
    assert new["term_start"] == start.isoformat()
    assert new["term_end"] == (start.replace(year=start.year + 3) - timedelta(days=1)).isoformat()
    assert f"本协议为编号 {old['number']} 协议" in draft_text(client, officer, new)

    again = renew(client, officer, client.get(f"/api/agreements/{old['id']}", headers=officer).json())
    assert again.status_code == 409 and again.json()["code"] == "renewal_exists"
    assert renew(client, officer, new).status_code == 409  # a draft cannot be renewed

    # The old one is untouched: still in force, same files, same certificate; both list the line.
    kept = client.get(f"/api/agreements/{old['id']}", headers=login("kg-a1")).json()
    assert (kept["state"], kept["certificate_id"], kept["signed_pdf_id"]) == (
        "effective", old["certificate_id"], old["signed_pdf_id"]
    )  # fmt: skip
    assert client.get(f"/api/agreements/{old['id']}/documents", headers=officer).json() == old_docs
    for a in (old, new):
        line = client.get(f"/api/agreements/{a['id']}/terms", headers=login("kg-a1")).json()
        assert [(t["id"], t["term_no"]) for t in line] == [(old["id"], 1), (new["id"], 2)]
    assert client.get(f"/api/agreements/{old['id']}/terms", headers=login("kg-a2")).status_code == 404

    # The next term is signed; the first expires at the end of its own term, archived and readable.
    new = sign_all(client, login, fire(client, officer, new, "send").json())
    assert new["state"] == "effective"
    with runtime.db.session() as s:
        [expired] = expire_due(session=s, today=start)
        assert expired.id == uuid.UUID(old["id"])
        archive_key = expired.archive_key
    assert client.get(f"/api/agreements/{new['id']}", headers=officer).json()["state"] == "effective"
    with runtime.objects.open(archive_key) as manifest:
        assert old["number"] in manifest.read().decode()
    certificate = client.get(f"/api/documents/{old['certificate_id']}/content", headers=login("kg-a1"))
    assert certificate.status_code == 200 and certificate.content[:2] == b"PK"
    with runtime.db.session() as s:
        events = [e.event for e in audit.history(s, entity_type="agreement", entity_id=old["id"])]
        assert "renew" in events and events[-1] == "expire"


def test_a_member_that_left_is_not_renewed(client, login, runtime, effective):
    officer = login("officer")

    with runtime.db.session() as s:
        member = uuid.UUID(effective["parties"][2]["kindergarten_id"])
        s.scalar(select(Membership).where(Membership.kindergarten_id == member)).ended_on = clock.today()
    r = renew(client, officer, effective)
    assert r.status_code == 409 and r.json()["code"] == "not_a_member"


def test_term_and_route_are_checked_field_by_field(client, login, draft_agreement):
    officer, a = login("officer"), draft_agreement
    path = f"/api/agreements/{a['id']}"

    def put(**body):
        return client.put(path, headers=officer, json={"version": a["version"], **body})

    cases = {
        "term_end": ({"term_start": "2026-09-01", "term_end": "2026-09-01"}, "须晚于起始日期"),
        "term_end ": ({"term_start": "2026-09-01", "term_end": "2031-09-01"}, "不能超过 5 年"),
        "term_start": ({"term_start": "2026-13-01"}, "日期"),
        "special_clauses": ({"special_clauses": "约" * 4001}, "内容过长"),
        "route": ({"route": []}, "请设置签署顺序"),
        "route ": ({"route": [["member", "lead"], ["pillar"], ["bureau"], []]}, "空的步骤"),
        "route  ": ({"route": [["member"], ["lead"], ["boss"], ["bureau"]]}, "没有的当事方"),
        "route   ": ({"route": [["member", "member"], ["lead"], ["pillar"], ["bureau"]]}, "各一次"),
    }
    for field, (body, words) in cases.items():
        r = put(**body)
        assert r.status_code == 422, (field, r.text)
        error = r.json()["errors"][0]
        assert error["field"] == field.strip() and words in error["message"], (field, error)
    # The longest term allowed, and 会签 of all four in one step.
    ok = put(term_start="2026-09-01", term_end="2031-08-31", route=[["member", "lead", "pillar", "bureau"]])
    assert ok.status_code == 200, ok.text
    assert ok.json()["route"][0]["parties"] == ["member", "lead", "pillar", "bureau"]
    # Once sent, the draft can no longer be edited.
    sent = fire(client, officer, ok.json(), "send").json()
    r = client.put(path, headers=officer, json={"version": sent["version"], "special_clauses": "x"})
    assert r.status_code == 409


def count(runtime, model, **where) -> int:
    with runtime.db.session() as s:
        stmt = select(func.count()).select_from(model)
        for name, value in where.items():
            stmt = stmt.where(getattr(model, name) == value)
        return s.scalar(stmt) or 0


def test_signing_without_the_read_confirmation_or_a_seal_costs_no_pin_attempt(client, login, runtime, draft_agreement):
    a = fire(client, login("officer"), draft_agreement, "send").json()
    member = login("kg-a1")
    r = fire(client, member, a, "sign", pin=PIN, read_confirmed=False)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["read_confirmed"]
    assert "我已阅读协议全文" in r.json()["errors"][0]["message"]
    r = fire(client, member, a, "sign", read_confirmed=False)
    assert [e["field"] for e in r.json()["errors"]] == ["read_confirmed", "pin"]

    # The member's seal is gone (a scan withdrawn): a clear message, not a specimen seal, not a 500.
    with runtime.db.session() as s:
        s.get(Agreement, uuid.UUID(a["id"])).member.seal_key = None
    r = fire(client, member, a, "sign", pin=PIN)
    assert r.status_code == 422, r.text
    [error] = r.json()["errors"]
    assert (
        error["field"] == "seals.member" and "尚未上传印章图片" in error["message"] and "我的账号" in error["message"]
    )
    assert count(runtime, audit.AuditEntry, event="pin_refused") == 0
    assert count(runtime, Signature) == 0
    # The other parties' turn has not come; the member's seal is uploaded again and it signs.

    upload_seal(client, login("officer"), a["parties"][2]["kindergarten_id"])
    r = fire(client, member, a, "sign", pin=PIN)
    assert r.status_code == 200, r.text
    with runtime.db.session() as s:
        entry = audit.history(s, entity_type="agreement", entity_id=a["id"])[-1]
        assert entry.event == "sign" and entry.data["read_confirmed"] is True


def test_the_officer_is_reminded_to_renew_in_the_last_three_months(client, login, runtime, effective):
    end = date.fromisoformat(effective["term_end"])

    def due(today: date) -> list[str]:
        with runtime.db.session() as s:
            return [a.number for a in due_for_renewal(session=s, today=today)]

    assert due(end - timedelta(days=91)) == []
    assert due(end - timedelta(days=90)) == [effective["number"]]
    assert renew(client, login("officer"), effective).status_code == 201
    assert due(end - timedelta(days=30)) == []
