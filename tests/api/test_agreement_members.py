"""Agreements for every member, through the API: founding members' agreements generated as a job
(one per member without one, never two), the lead–pillar agreement, who may see and do what.

Without LibreOffice on the PATH (a supported install): drafts are .docx only, which keeps these fast;
``test_lead_pillar_agreement`` renders the lead–pillar agreement to PDF and signs it.
"""

from __future__ import annotations

import uuid
from collections import Counter

import pytest
from sqlalchemy import select

from tests.fixtures.agreements import PIN, approved_application, drain, fire
from workflows import audit
from workflows.access import viewer_for
from workflows.accounts.models import User
from workflows.agreements import generation, service
from workflows.agreements.models import Agreement

pytestmark = pytest.mark.usefixtures("without_libreoffice")


def agreements_in_db(runtime) -> list[tuple[str, str, uuid.UUID | None, str]]:
    with runtime.db.session() as s:
        rows = s.scalars(select(Agreement).order_by(Agreement.number))
        return [(a.alliance.code, a.kind, a.member_kindergarten_id, a.state) for a in rows]


def finished(client, headers, job) -> dict:
    r = client.get(f"/api/jobs/{job['id']}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_founding_members_get_exactly_one_agreement_each(client, login, runtime, world):
    officer = login("officer")
    alliance = world.alliances["A"].id
    overview = client.get(f"/api/alliances/{alliance}/agreements", headers=officer).json()
    assert [m["kindergarten_name"] for m in overview["members"]] == ["A-M1 A&B<幼儿园>", "A-M2 A&B<幼儿园>"]
    assert overview["missing"] == 2 and overview["lead_pillar_missing"] is True
    assert all(m["agreement"] is None and m["role_label"] == "成员园" for m in overview["members"])

    r = client.post(f"/api/alliances/{alliance}/agreements/generate", headers=officer)
    assert r.status_code == 202, r.text
    assert r.json()["total"] == 2
    drain(runtime)
    job = finished(client, officer, r.json())
    assert (job["state"], job["done"], job["errors"]) == ("done", 2, [])

    rows = agreements_in_db(runtime)
    members = {world.kindergartens["A-M1"].id, world.kindergartens["A-M2"].id}
    assert sorted((code, kind, state) for code, kind, _, state in rows) == [("TA", "member", "draft")] * 2
    assert {member for _, _, member, _ in rows} == members
    overview = client.get(f"/api/alliances/{alliance}/agreements", headers=officer).json()
    assert overview["missing"] == 0
    first = overview["members"][0]["agreement"]
    assert (first["state_label"], first["term_no"]) == ("草稿", 1)

    # Founding members have no application: the agreement says how they came in, and has a first draft.
    a = client.get(f"/api/agreements/{first['id']}", headers=login("kg-a1")).json()
    assert a["application_id"] is None and a["kind"] == "member" and a["subject"] == "A-M1 A&B<幼儿园>"
    docs = client.get(f"/api/agreements/{first['id']}/documents", headers=officer).json()
    assert [d["kind"] for d in docs] == ["agreement_draft"]
    with runtime.db.session() as s:
        [entry] = audit.history(s, entity_type="agreement", entity_id=first["id"])
        assert (entry.event, entry.actor_name, entry.data["kind"]) == ("create", "officer", "member")

    # Nothing left to generate: refused, and nothing is made twice.
    again = client.post(f"/api/alliances/{alliance}/agreements/generate", headers=officer)
    assert again.status_code == 409 and again.json()["code"] == "nothing_to_generate"
    assert len(agreements_in_db(runtime)) == 2


def test_two_jobs_started_together_make_no_second_agreement(client, login, runtime, world):
    officer = login("officer")
    # Both jobs are queued before either runs (two officers at once): each lists both members.
    with runtime.db.session() as s:
        viewer = viewer_for(s, s.get(User, world.users["officer"].id))
        started = [generation.start_generation(session=s, viewer=viewer, alliance_id=world.alliances["A"].id)
                   for _ in range(2)]  # fmt: skip
        jobs = [{"id": str(j.id), "total": j.total} for j in started]
    assert [j["total"] for j in jobs] == [2, 2]
    drain(runtime)
    results = [finished(client, officer, j) for j in jobs]
    assert all(r["state"] == "done" and r["done"] == 2 for r in results)
    errors = [e for r in results for e in r["errors"]]
    assert len(errors) == 2 and {e["code"] for e in errors} == {"agreement_exists"}
    assert all("未重复生成" in e["message"] for e in errors)
    per_member = Counter(member for _, _, member, _ in agreements_in_db(runtime))
    assert sorted(per_member.values()) == [1, 1]


def test_every_alliance_at_once_with_lead_pillar_agreements(client, login, runtime, world, draft_agreement):
    """A member already drafted from its application is left alone; the rest, in both alliances, get one."""
    officer = login("officer")
    overview = client.get("/api/agreements/overview", headers=officer).json()
    assert [(o["alliance_code"], o["missing"], o["lead_pillar_missing"]) for o in overview] == [
        ("TA", 1, True),
        ("TB", 2, True),
    ]
    r = client.post("/api/agreements/generate", headers=officer, json={"lead_pillar": True})
    assert r.status_code == 202 and r.json()["total"] == 5, r.text
    drain(runtime)
    assert finished(client, officer, r.json())["errors"] == []
    rows = agreements_in_db(runtime)
    assert Counter((code, kind) for code, kind, _, _ in rows) == {
        ("TA", "member"): 2,
        ("TB", "member"): 2,
        ("TA", "lead_pillar"): 1,
        ("TB", "lead_pillar"): 1,
    }
    assert all(member is None for _, kind, member, _ in rows if kind == "lead_pillar")
    overview = client.get("/api/agreements/overview", headers=officer).json()
    assert all(o["missing"] == 0 and not o["lead_pillar_missing"] for o in overview)


def test_an_applicants_missing_agreement_is_generated_from_its_application(client, login, runtime, world):
    application_id = approved_application(runtime, world, "A-M1")  # approved; its task has not run
    officer = login("officer")
    r = client.post(f"/api/alliances/{world.alliances['A'].id}/agreements/generate", headers=officer)
    drain(runtime)
    assert finished(client, officer, r.json())["errors"] == []
    found = client.get(f"/api/agreements?application_id={application_id}", headers=officer).json()
    assert len(found) == 1
    # The approval's task, arriving late, finds that agreement and makes no other.
    with runtime.db.session() as s:
        late = service.create_from_application(
            session=s, settings=runtime.settings, objects=runtime.objects, application_id=uuid.UUID(application_id)
        )
        assert str(late.id) == found[0]["id"]
    assert len(agreements_in_db(runtime)) == 2


def test_an_approval_after_a_founding_draft_keeps_that_draft(client, login, runtime, world):
    officer = login("officer")
    client.post(f"/api/alliances/{world.alliances['A'].id}/agreements/generate", headers=officer)
    drain(runtime)
    application_id = approved_application(runtime, world, "A-M1")
    with runtime.db.session() as s:
        agreement = service.create_from_application(
            session=s, settings=runtime.settings, objects=runtime.objects, application_id=uuid.UUID(application_id)
        )
        assert str(agreement.application_id) == application_id and agreement.state == "draft"
    assert len(agreements_in_db(runtime)) == 2


@pytest.mark.parametrize("username", ["lead-a", "pillar-a", "kg-a1", "researcher"])
def test_only_the_officer_generates(client, login, world, username):
    alliance = world.alliances["A"].id
    headers = login(username)
    assert client.post(f"/api/alliances/{alliance}/agreements/generate", headers=headers).status_code == 404
    assert client.post(f"/api/alliances/{alliance}/agreements/lead-pillar", headers=headers).status_code == 404
    assert client.post("/api/agreements/generate", headers=headers, json={}).status_code == 404
    seen = client.get(f"/api/alliances/{alliance}/agreements", headers=headers)
    assert seen.status_code == (200 if username == "researcher" else 404)


def test_unknown_alliance_is_404(client, login, world):
    officer = login("officer")
    missing = uuid.uuid4()
    assert client.post(f"/api/alliances/{missing}/agreements/generate", headers=officer).status_code == 404
    assert client.post(f"/api/alliances/{missing}/agreements/lead-pillar", headers=officer).status_code == 404
    assert client.get(f"/api/alliances/{missing}/agreements", headers=officer).status_code == 404


def test_the_lead_pillar_agreement_has_no_member_and_signs_in_three(client, login, runtime, signing_world):
    world, officer = signing_world, login("officer")
    alliance = world.alliances["A"].id
    r = client.post(f"/api/alliances/{alliance}/agreements/lead-pillar", headers=officer)
    assert r.status_code == 201, r.text
    a = r.json()
    assert (a["kind"], a["subject"]) == ("lead_pillar", "龙头园与支柱园")
    assert [p["key"] for p in a["parties"]] == ["lead", "pillar", "bureau"]
    assert [s["parties"] for s in a["route"]] == [["lead"], ["pillar"], ["bureau"]]
    again = client.post(f"/api/alliances/{alliance}/agreements/lead-pillar", headers=officer)
    assert again.status_code == 409 and again.json()["code"] == "agreement_exists"

    # Its parties see it; a member of the same alliance and the other alliance do not.
    for username, status in (("lead-a", 200), ("pillar-a", 200), ("kg-a1", 404), ("lead-b", 404)):
        assert client.get(f"/api/agreements/{a['id']}", headers=login(username)).status_code == status, username
    assert a["id"] not in [x["id"] for x in client.get("/api/agreements", headers=login("kg-a1")).json()]

    # A route naming 丙方 is refused; 会签 of lead and pillar is fine.
    path = f"/api/agreements/{a['id']}"
    bad = client.put(path, headers=officer, json={"version": a["version"], "route": [["member"], ["lead", "pillar"]]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "route"
    assert "丙方" in bad.json()["errors"][0]["message"]
    a = client.put(path, headers=officer, json={"version": a["version"], "route": [["pillar", "lead"], ["bureau"]]})
    assert a.status_code == 200, a.text
    a = fire(client, officer, a.json(), "send").json()
    assert a["state"] == "signing" and a["awaiting"] == ["pillar", "lead"]
    for username in ("lead-a", "pillar-a", "officer"):
        r = fire(client, login(username), a, "sign", pin=PIN)
        assert r.status_code == 200, (username, r.text)
        a = r.json()
    assert a["state"] == "effective" and a["certificate_id"]
    assert sorted(s["party"] for s in a["signatures"]) == ["bureau", "lead", "pillar"]
    # The lead's alliance has it now; generating it again is refused.
    overview = client.get(f"/api/alliances/{alliance}/agreements", headers=officer).json()
    assert overview["lead_pillar"]["agreement"]["state"] == "effective"


def test_bulk_send_sends_the_founding_drafts_too(client, login, runtime, signing_world):
    officer, alliance = login("officer"), signing_world.alliances["A"].id
    client.post(f"/api/alliances/{alliance}/agreements/generate", headers=officer)
    drain(runtime)
    assert client.post(f"/api/alliances/{alliance}/agreements/lead-pillar", headers=officer).status_code == 201
    r = client.post(f"/api/alliances/{alliance}/agreements/bulk-send", headers=officer)
    assert r.status_code == 202 and r.json()["total"] == 3, r.text
    drain(runtime)
    job = finished(client, officer, r.json())
    # A-M2 has no seal yet: its draft waits, with the reason; the other two are out for signing.
    assert [(e["code"], "A-M2" in e["label"], "尚未上传印章图片" in e["message"]) for e in job["errors"]] == [
        ("validation_failed", True, True)
    ]
    states = Counter((kind, state) for _, kind, _, state in agreements_in_db(runtime))
    assert states == {("member", "signing"): 1, ("member", "draft"): 1, ("lead_pillar", "signing"): 1}
