"""A member's withdrawal through the API: the request with its reason, who sees it (404 for others),
the officer's decision (409 for an illegal move), and what approval ends: the membership and the
agreement (terminated when in force, voided while unsigned), with history and notifications."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from tests.fixtures.agreements import PIN, SIGNERS, fire
from workflows import audit, clock
from workflows.registry.models import Membership

pytestmark = pytest.mark.usefixtures("without_libreoffice")


def sign_all(client, login, agreement):
    for party in ("member", "lead", "pillar", "bureau"):
        agreement = fire(client, login(SIGNERS[party]), agreement, "sign", pin=PIN).json()
    return agreement


def today():
    """The district's date: a membership ends on the day in Beijing."""
    return clock.today()


def ask(client, headers, reason="本园将停办，无法继续参加联盟活动。"):
    return client.post("/api/withdrawals", headers=headers, json={"reason": reason})


def decide(client, headers, withdrawal, event, comment=""):
    return client.post(
        f"/api/withdrawals/{withdrawal['id']}/events/{event}",
        headers=headers,
        json={"version": withdrawal["version"], "comment": comment},
    )


def membership_end(runtime, world, code):
    with runtime.db.session() as s:
        rows = s.scalars(select(Membership).where(Membership.kindergarten_id == world.kindergartens[code].id))
        return [m.ended_on for m in rows]


def notes(client, headers, kind):
    return [n for n in client.get("/api/notifications", headers=headers).json() if n["kind"] == kind]


def test_approval_ends_the_membership_and_terminates_the_agreement(client, login, runtime, world, draft_agreement):
    world_a1 = login("kg-a1")
    officer = login("officer")
    agreement = sign_all(client, login, fire(client, officer, draft_agreement, "send").json())
    assert agreement["state"] == "effective"

    blank = ask(client, world_a1, "   ")
    assert blank.status_code == 422 and blank.json()["errors"][0]["field"] == "reason"
    assert ask(client, world_a1, "长" * 2001).status_code == 422
    for username in ("lead-a", "pillar-a", "officer"):  # only a member kindergarten leaves this way
        r = ask(client, login(username))
        assert r.status_code == 409 and r.json()["code"] == "not_a_member", username
    r = ask(client, world_a1)
    assert r.status_code == 201, r.text
    w = r.json()
    assert (w["state"], w["state_label"], w["kindergarten_name"]) == ("requested", "待审核", "A-M1 A&B<幼儿园>")
    assert w["allowed_events"] == ["cancel"]
    again = ask(client, world_a1)
    assert again.status_code == 409 and again.json()["code"] == "withdrawal_pending"

    # Who is told, with a link to the page; who may see it at all.
    for username in ("officer", "lead-a", "pillar-a"):
        [note] = notes(client, login(username), "withdrawal.requested")
        assert note["link"] == f"/withdrawals/{w['id']}" and "申请退出" in note["title"], username
    for username, status in (("kg-a1", 200), ("lead-a", 200), ("pillar-a", 200), ("researcher", 200),
                             ("kg-a2", 404), ("lead-b", 404), ("kg-b1", 404), ("kg-out", 404)):  # fmt: skip
        assert client.get(f"/api/withdrawals/{w['id']}", headers=login(username)).status_code == status, username
        listed = [x["id"] for x in client.get("/api/withdrawals", headers=login(username)).json()]
        assert (w["id"] in listed) == (status == 200), username
    assert client.get(f"/api/withdrawals/{w['id']}/history", headers=login("kg-a2")).status_code == 404

    # Who may decide, and what the decision needs.
    assert decide(client, world_a1, w, "approve").status_code == 403
    assert decide(client, login("lead-a"), w, "approve").status_code == 403
    assert decide(client, login("kg-a2"), w, "approve").status_code == 404
    refuse = decide(client, officer, w, "refuse")
    assert refuse.status_code == 422 and refuse.json()["errors"][0]["field"] == "comment"
    assert decide(client, officer, {**w, "version": w["version"] + 1}, "approve").status_code == 409
    assert decide(client, officer, w, "fly").status_code == 409

    r = decide(client, officer, w, "approve", "同意退出，请做好资料移交。")
    assert r.status_code == 200, r.text
    w = r.json()
    assert (w["state"], w["ended_on"], w["decision_comment"]) == (
        "approved",
        today().isoformat(),
        "同意退出，请做好资料移交。",
    )
    assert decide(client, officer, w, "refuse", "x").status_code == 409  # decided already
    assert membership_end(runtime, world, "A-M1") == [today()]
    ended = client.get(f"/api/agreements/{agreement['id']}", headers=world_a1).json()
    assert ended["state"] == "terminated" and w["number"] in ended["last_comment"]

    # History kept on both; everyone concerned told, with links to pages they can open.
    history = client.get(f"/api/withdrawals/{w['id']}/history", headers=world_a1).json()
    assert [(h["event"], h["to_state"]) for h in history] == [("create", "requested"), ("approve", "approved")]
    events = [h["event"] for h in client.get(f"/api/agreements/{agreement['id']}/history", headers=officer).json()]
    assert events[-1] == "terminate"
    for username in ("kg-a1", "lead-a", "pillar-a"):
        [note] = notes(client, login(username), "withdrawal.approved")
        assert (
            client.get(note["link"].replace("/withdrawals/", "/api/withdrawals/"), headers=login(username)).status_code
            == 200
        )
        assert notes(client, login(username), "agreement.terminated"), username
    # No longer a member: no second request; the alliance's member list has it no more.
    assert ask(client, world_a1).json()["code"] == "not_a_member"
    overview = client.get(f"/api/alliances/{agreement['alliance_id']}/agreements", headers=officer).json()
    assert "A-M1 A&B<幼儿园>" not in [m["kindergarten_name"] for m in overview["members"]]


def test_approval_voids_an_unsigned_agreement_and_a_refusal_keeps_the_member(
    client, login, runtime, world, draft_agreement
):
    officer = login("officer")
    sent = fire(client, officer, draft_agreement, "send").json()
    # A-M2 has no agreement at all; its request is refused, then it asks again and is let go.
    w2 = ask(client, login("kg-a2")).json()
    refused = decide(client, officer, w2, "refuse", "学期中途不宜退出，请于学期末再申请。").json()
    assert refused["state"] == "refused"
    assert membership_end(runtime, world, "A-M2") == [None]
    [note] = notes(client, login("kg-a2"), "withdrawal.refused")
    assert note["body"] == "学期中途不宜退出，请于学期末再申请。"
    w2 = ask(client, login("kg-a2")).json()
    assert decide(client, officer, w2, "approve").json()["state"] == "approved"
    assert membership_end(runtime, world, "A-M2") == [today()]

    # A-M1's agreement is still being signed: approval voids it.
    w1 = ask(client, login("kg-a1")).json()
    assert decide(client, officer, w1, "approve").status_code == 200
    voided = client.get(f"/api/agreements/{sent['id']}", headers=login("kg-a1")).json()
    assert voided["state"] == "voided" and voided["ended_at"]
    assert membership_end(runtime, world, "A-M1") == [today()]


def test_the_member_may_take_its_request_back(client, login, runtime, world):
    w = ask(client, login("kg-a1")).json()
    assert decide(client, login("kg-a2"), w, "cancel").status_code == 404
    assert decide(client, login("lead-a"), w, "cancel").status_code == 403
    r = decide(client, login("kg-a1"), w, "cancel")
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    assert [n["link"] for n in notes(client, login("officer"), "withdrawal.cancelled")] == [f"/withdrawals/{w['id']}"]
    assert membership_end(runtime, world, "A-M1") == [None]
    assert decide(client, login("officer"), r.json(), "approve").status_code == 409
    with runtime.db.session() as s:
        trail = audit.history(s, entity_type="withdrawal", entity_id=uuid.UUID(w["id"]))
        assert [e.event for e in trail] == ["create", "cancel"]
