"""Agreement rules through the API: editing drafts, routes with 会签, decline and re-send, termination,
expiry, PIN throttling, signing keys, bulk sending and the verification rate limit.

These run without LibreOffice on the PATH (a supported install: .docx and CMS signatures only), so
they stay fast; ``test_agreement_signing`` covers the PDF path with the real converter.
"""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.fixtures.agreements import PIN, SIGNERS, approved_application, create_key, drain, fire, upload_seal
from tests.fixtures.app import PASSWORD
from workflows import audit, clock
from workflows.agreements import keys
from workflows.agreements.events import expire_due
from workflows.agreements.models import Agreement, SigningKey
from workflows.registry.models import Membership

pytestmark = pytest.mark.usefixtures("without_libreoffice")


def sign_all(client, login, agreement, order=("member", "lead", "pillar", "bureau")):
    for party in order:
        r = fire(client, login(SIGNERS[party]), agreement, "sign", pin=PIN)
        assert r.status_code == 200, (party, r.text)
        agreement = r.json()
    return agreement


def test_the_officer_edits_a_draft_and_nobody_else(client, login, draft_agreement):
    a = draft_agreement
    path = f"/api/agreements/{a['id']}"
    body = {"version": a["version"], "special_clauses": "双方另行约定"}
    assert client.put(path, headers=login("lead-a"), json=body).status_code == 409
    assert client.put(path, headers=login("lead-b"), json=body).status_code == 404
    bad = client.put(path, headers=login("officer"), json={**body, "term_end": "2020-01-01"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "term_end"
    bad = client.put(path, headers=login("officer"), json={**body, "route": [["member"], ["lead"]]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "route"
    edited = client.put(path, headers=login("officer"), json=body)
    assert edited.status_code == 200 and edited.json()["special_clauses"] == "双方另行约定"
    docs = client.get(f"{path}/documents", headers=login("kg-a1")).json()
    assert [d["version_no"] for d in docs if d["kind"] == "agreement_draft"] == [2, 1]
    assert client.post(f"{path}/events/expire", headers=login("officer"), json={"version": 9}).status_code == 409


def test_sending_needs_every_seal(client, login, runtime, draft_agreement):
    with runtime.db.session() as s:
        agreement = s.get(Agreement, uuid.UUID(draft_agreement["id"]))
        agreement.lead.seal_key = None
    r = fire(client, login("officer"), draft_agreement, "send")
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["seals.lead"]


def test_a_step_with_two_parties_needs_both(client, login, draft_agreement):
    officer = login("officer")
    route = [["member", "lead"], ["pillar", "bureau"]]
    a = client.put(f"/api/agreements/{draft_agreement['id']}", headers=officer,
                   json={"version": draft_agreement["version"], "route": route}).json()  # fmt: skip
    a = fire(client, officer, a, "send").json()
    assert a["awaiting"] == ["member", "lead"] and a["frozen_pdf_id"] is None  # no LibreOffice here
    assert fire(client, login("pillar-a"), a, "sign", pin=PIN).json()["code"] == "out_of_turn"
    a = fire(client, login("lead-a"), a, "sign", pin=PIN).json()
    assert a["awaiting"] == ["member"] and a["current_step"] == 0
    a = sign_all(client, login, a, order=("member", "bureau", "pillar"))
    assert a["state"] == "effective"
    assert [s["step"] for s in a["signatures"]] == [0, 0, 1, 1]


def test_decline_returns_it_and_a_revised_resend_voids_every_signature(client, login, draft_agreement):
    officer = login("officer")
    a = fire(client, officer, draft_agreement, "send").json()
    a = fire(client, login("kg-a1"), a, "sign", pin=PIN).json()
    no_reason = fire(client, login("lead-a"), a, "decline")
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "comment"
    assert fire(client, login("kg-a1"), a, "decline", reason="不同意").json()["code"] == "already_signed"
    a = fire(client, login("lead-a"), a, "decline", reason="第五条请补充联络人职责").json()
    assert a["state"] == "returned" and a["last_comment"] == "第五条请补充联络人职责"
    assert all(s["void"] for s in a["signatures"])
    notes = client.get("/api/notifications", headers=officer).json()
    assert any(n["kind"] == "agreement.returned" for n in notes)
    # The officer revises (the returned agreement goes back to draft) and sends a second round.
    a = client.put(f"/api/agreements/{a['id']}", headers=officer,
                   json={"version": a["version"], "special_clauses": "丙方联络人每月报送一次"}).json()  # fmt: skip
    assert a["state"] == "draft"
    a = fire(client, officer, a, "send").json()
    assert a["round"] == 2 and a["awaiting"] == ["member"] and a["signatures"][0]["void"]
    a = sign_all(client, login, a)
    assert a["state"] == "effective"
    current = [s for s in a["signatures"] if not s["void"]]
    assert [s["round"] for s in current] == [2, 2, 2, 2]
    # The first round's frozen file is archived, but verifies as void.
    docs = client.get(f"/api/agreements/{a['id']}/documents", headers=officer).json()
    first = next(d for d in docs if d["kind"] == "agreement_final" and d["version_no"] == 1)
    content = client.get(f"/api/documents/{first['id']}/content", headers=officer).content
    result = client.post("/api/verify", files={"file": ("a.docx", content, "application/octet-stream")}).json()
    assert result["original"] and not result["ok"] and "round" in result["failed"]


def test_terminate_needs_a_reason_and_ends_the_membership(client, login, runtime, draft_agreement):
    officer = login("officer")
    a = sign_all(client, login, fire(client, officer, draft_agreement, "send").json())
    assert a["state"] == "effective" and a["certificate_id"]
    assert fire(client, officer, a, "terminate").status_code == 422
    assert fire(client, login("lead-a"), a, "terminate", reason="x").status_code == 403
    a = fire(client, officer, a, "terminate", reason="连续两年年度考核不合格").json()
    assert a["state"] == "terminated" and a["ended_at"]
    with runtime.db.session() as s:
        member = uuid.UUID(a["parties"][2]["kindergarten_id"])
        membership = s.scalar(select(Membership).where(Membership.kindergarten_id == member))
        assert membership.ended_on == clock.today()
    assert fire(client, officer, a, "void", reason="x").status_code == 409


def test_expiry_at_the_end_of_the_term(client, login, runtime, draft_agreement):
    a = sign_all(client, login, fire(client, login("officer"), draft_agreement, "send").json())
    with runtime.db.session() as s:
        assert expire_due(session=s, today=date.fromisoformat(a["term_end"])) == []
        [expired] = expire_due(session=s, today=date.fromisoformat(a["term_end"]).replace(year=2100))
        assert expired.state == "expired"
        entry = audit.history(s, entity_type="agreement", entity_id=expired.id)[-1]
        assert (entry.event, entry.actor_name) == ("expire", "系统")


def test_wrong_pins_are_refused_then_throttled(client, login, runtime, draft_agreement):
    a = fire(client, login("officer"), draft_agreement, "send").json()
    member = login("kg-a1")
    for _ in range(5):
        r = fire(client, member, a, "sign", pin="999999")
        assert r.status_code == 403 and r.json()["code"] == "wrong_pin"
    r = fire(client, member, a, "sign", pin=PIN)
    assert r.status_code == 429  # even the right PIN, for a while
    assert fire(client, login("lead-a"), a, "sign", pin=PIN).json()["code"] == "out_of_turn"  # per account
    with runtime.db.session() as s:
        refused = s.scalar(select(func.count()).where(audit.AuditEntry.event == "pin_refused"))
        assert refused == 5
    assert client.get(f"/api/agreements/{a['id']}", headers=member).json()["signatures"] == []


def test_the_private_key_is_in_the_token_and_released_only_by_the_pin(client, login, runtime, world):
    h = login("kg-b1")
    weak = client.post("/api/me/signing-key", headers=h, json={"pin": "123456", "password": PASSWORD})
    assert weak.status_code == 422 and weak.json()["errors"][0]["field"] == "pin"
    created = create_key(client, h, pin="583920")
    assert created["subject"].startswith("UID=kg-b1") or "CN=kg-b1" in created["subject"]
    again = {"pin": "583920", "password": PASSWORD}
    assert client.post("/api/me/signing-key", headers=h, json=again).status_code == 409
    assert client.get("/api/me/signing-key", headers=h).json()["sha256"] == created["sha256"]
    assert client.post("/api/me/signing-key", headers=login("researcher"), json=again).status_code == 403
    other = create_key(client, login("kg-a1"), pin="246813")
    assert other["sha256"] != created["sha256"]
    with runtime.db.session() as s:
        record = s.scalar(select(SigningKey).where(SigningKey.user_id == world.users["kg-b1"].id))
        assert record.pin_hash.startswith("$argon2id$") and "583920" not in record.pin_hash
        with pytest.raises(keys.WrongPin):
            keys.unlock(session=s, settings=runtime.settings, user_id=record.user_id, pin="583921")
        # The PIN is bound to its account: another account's PIN does not release this key.
        with pytest.raises(keys.WrongPin):
            keys.unlock(session=s, settings=runtime.settings, user_id=record.user_id, pin="246813")
        unlocked = keys.unlock(session=s, settings=runtime.settings, user_id=record.user_id, pin="583920")
        assert unlocked.certificate.public_key().public_numbers() == unlocked.key.public_key().public_numbers()
    # Replacing the key needs the current PIN.
    change = {"pin": "902468", "password": PASSWORD}
    assert client.post("/api/me/signing-key", headers=h, json=change | {"current_pin": "111111"}).status_code == 403
    replaced = client.post("/api/me/signing-key", headers=h, json=change | {"current_pin": "583920"})
    assert replaced.status_code == 201 and replaced.json()["sha256"] != created["sha256"]


def test_bulk_send_reports_progress_and_an_error_per_item(client, login, runtime, signing_world):
    officer = login("officer")
    first = approved_application(runtime, signing_world, "A-M1")
    approved_application(runtime, signing_world, "A-M2")  # A-M2 has no seal: its item fails
    r = client.post(f"/api/alliances/{signing_world.alliances['A'].id}/agreements/bulk-send", headers=officer)
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["total"] == 2 and job["state"] in ("queued", "running", "done")
    drain(runtime)
    job = client.get(f"/api/jobs/{job['id']}", headers=officer).json()
    assert (job["state"], job["done"], job["total"]) == ("done", 2, 2)
    [error] = job["errors"]
    assert "A-M2" in error["label"] and error["code"] == "validation_failed" and "印章" in error["message"]
    sent = client.get(f"/api/agreements?application_id={first}", headers=officer).json()
    assert sent[0]["state"] == "signing"
    assert client.get(f"/api/jobs/{job['id']}", headers=login("kg-a1")).status_code == 404
    assert client.post(f"/api/alliances/{signing_world.alliances['A'].id}/agreements/bulk-send",
                       headers=login("lead-a")).status_code == 404  # fmt: skip
    # Upload the missing seal and run again: only the draft left over is sent.
    upload_seal(client, officer, signing_world.kid("A-M2"))
    again = client.post(
        f"/api/alliances/{signing_world.alliances['A'].id}/agreements/bulk-send", headers=officer
    ).json()
    drain(runtime)
    again = client.get(f"/api/jobs/{again['id']}", headers=officer).json()
    assert (again["total"], again["done"], again["errors"]) == (1, 1, [])


def test_verification_is_public_but_rate_limited(client):
    answers = [client.get("/api/verify/ZZZZ-ZZZZ-ZZZZ").status_code for _ in range(31)]
    assert answers[:30] == [200] * 30 and answers[30] == 429
