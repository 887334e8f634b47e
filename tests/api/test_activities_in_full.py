"""Activities in full through the API: every field round trips, presenters and participants from any
kindergarten of the alliance, walk-ins (a teacher not on the list, a guest by name and kindergarten),
「全部出席», withdrawing a material with a reason, and what member kindergartens may see and do."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.fixtures.activities import (
    NASTY,
    PLAN_FORM,
    activity_body,
    create_activity,
    fire,
    held_with_materials,
    teacher_ids,
    today,
    upload,
)
from tests.fixtures.files import pdf_bytes
from workflows.clock import BEIJING


def ok(r, status: int = 200):  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    return r.json()


def fields_of(r) -> set[str]:  # type: ignore[no-untyped-def]
    assert r.status_code == 422, r.text
    return {e["field"] for e in r.json()["errors"]}


def announced(client, login, runtime, world, **overrides):  # type: ignore[no-untyped-def]
    a = create_activity(client, login, runtime, world, **overrides)
    return ok(fire(client, login("lead-a"), a, "announce"))


def test_every_field_round_trips_and_the_end_time_can_be_cleared(client, world, login, runtime, semester):
    h = login("lead-a")
    presenters = teacher_ids(runtime, "A-PIL-T1", "A-M1-T2")  # from two kindergartens
    participants = teacher_ids(runtime, "A-LEAD-T1", "A-LEAD-T2", "A-M2-T1")
    start = datetime.combine(today() + timedelta(days=10), datetime.min.time()).replace(hour=14)
    a = create_activity(
        client, login, runtime, world, format="线上", place="", meeting_no="腾讯会议 123-456-789", chair=f"主持{NASTY}",
        goal="目标第一行\n第二行", credit_hours=2.5, starts_at=start.isoformat(),
        ends_at=(start + timedelta(hours=2)).isoformat(), host_kindergarten_id=world.kid("A-M1"),
        presenter_teacher_ids=presenters, participant_teacher_ids=participants,
    )  # fmt: skip
    got = ok(client.get(f"/api/activities/{a['id']}", headers=login("kg-a2")))
    assert (got["format"], got["place"], got["meeting_no"]) == ("线上", "", "腾讯会议 123-456-789")
    assert (got["chair"], got["goal"], got["credit_hours"]) == (f"主持{NASTY}", "目标第一行\n第二行", 2.5)
    assert datetime.fromisoformat(got["ends_at"]).astimezone(BEIJING).hour == 16
    assert got["host_kindergarten_id"] == world.kid("A-M1") and got["semester_name"] == "2026年秋季学期"
    roles = {p["teacher_id"]: p["role"] for p in got["participants"]}
    assert roles == {**dict.fromkeys(presenters, "presenter"), **dict.fromkeys(participants, "participant")}
    assert {p["kindergarten_id"] for p in got["participants"] if p["role"] == "presenter"} == {
        world.kid("A-PIL"),
        world.kid("A-M1"),
    }
    edited = ok(client.put(f"/api/activities/{a['id']}", headers=h, json={
        "version": got["version"], "topic": "改后的主题", "domain": "科学", "format": "集中研讨", "place": "A-M1 活动室",
        "meeting_no": "", "chair": "新主持", "goal": "", "credit_hours": 3, "ends_at": None,
        "presenter_teacher_ids": presenters[:1], "participant_teacher_ids": participants[1:],
    }))  # fmt: skip
    assert (edited["topic"], edited["domain"], edited["place"], edited["meeting_no"]) == (
        "改后的主题",
        "科学",
        "A-M1 活动室",
        "",
    )
    assert (edited["chair"], edited["goal"], edited["credit_hours"], edited["ends_at"]) == ("新主持", "", 3.0, None)
    assert [p["teacher_id"] for p in edited["participants"] if p["role"] == "presenter"] == presenters[:1]
    assert len(edited["participants"]) == 3


def test_presenters_and_participants_come_from_the_alliance_only(client, world, login, runtime, semester):
    outsider, elsewhere = teacher_ids(runtime, "B-M1-T1", "B-LEAD-T1")
    body = activity_body(runtime, world, presenter_teacher_ids=[outsider],
                         participant_teacher_ids=[*teacher_ids(runtime, "A-M2-T1"), elsewhere])  # fmt: skip
    assert fields_of(client.post("/api/activities", headers=login("lead-a"), json=body)) == {
        "presenter_teacher_ids.0",
        "participant_teacher_ids.1",
    }


def test_a_teacher_not_on_the_list_walks_in(client, world, login, runtime, semester):
    a = announced(client, login, runtime, world)
    url = f"/api/activities/{a['id']}/walk-ins"
    walk_in, listed, outsider = teacher_ids(runtime, "A-LEAD-T2", "A-M1-T1", "B-M1-T1")
    got = ok(client.post(url, headers=login("pillar-a"), json={"teacher_id": walk_in, "attendance": "late"}), 201)
    row = next(p for p in got["participants"] if p["teacher_id"] == walk_in)
    assert (row["walk_in"], row["guest"], row["attendance"], row["name"]) == (True, False, "late", "龙头骨干")
    assert row["signed_at"] is not None
    assert fields_of(client.post(url, headers=login("lead-a"), json={"teacher_id": listed})) == {"teacher_id"}
    assert fields_of(client.post(url, headers=login("lead-a"), json={"teacher_id": walk_in})) == {"teacher_id"}
    assert fields_of(client.post(url, headers=login("lead-a"), json={"teacher_id": outsider})) == {"teacher_id"}
    assert got["attendance"]["expected"] == 5 and got["attendance"]["late"] == 1


def test_a_guest_walks_in_by_name_and_kindergarten(client, world, login, runtime, semester):
    a = announced(client, login, runtime, world)
    url = f"/api/activities/{a['id']}/walk-ins"
    h = login("lead-a")
    empty = client.post(url, headers=h, json={})
    assert fields_of(empty) == {"guest_name", "guest_kindergarten"}
    assert {e["message"] for e in empty.json()["errors"]} == {
        "请选择本联盟教师，或填写来宾姓名",
        "请填写来宾所在幼儿园或单位",
    }
    got = ok(
        client.post(url, headers=h, json={"guest_name": f"王{NASTY}", "guest_kindergarten": "青云谱区某幼儿园"}), 201
    )
    guest = got["participants"][-1]
    assert (guest["teacher_id"], guest["guest"], guest["walk_in"]) == (None, True, True)
    assert (guest["name"], guest["kindergarten_name"], guest["attendance"]) == (
        f"王{NASTY}",
        "青云谱区某幼儿园",
        "present",
    )
    twice = client.post(url, headers=h, json={"guest_name": f"王{NASTY}", "guest_kindergarten": "青云谱区某幼儿园"})
    assert fields_of(twice) == {"guest_name"}
    # A guest keeps their place when the expected list is edited, and is recorded like anyone else.
    kept = ok(client.put(f"/api/activities/{a['id']}", headers=h, json={
        "version": got["version"], "participant_teacher_ids": teacher_ids(runtime, "A-LEAD-T1")}))  # fmt: skip
    assert [p["name"] for p in kept["participants"]][-1] == f"王{NASTY}"
    entry = {"participant_id": guest["id"], "attendance": "late"}
    after = ok(client.put(f"/api/activities/{a['id']}/attendance", headers=h, json={"entries": [entry]}))
    assert after["participants"][-1]["attendance"] == "late"
    sheet = client.get(f"/api/activities/{a['id']}/sign-in-sheet", headers=h)
    assert sheet.status_code == 200


def test_walk_ins_are_for_the_lead_and_host_of_an_announced_activity(client, world, login, runtime, semester):
    a = create_activity(client, login, runtime, world)
    url = f"/api/activities/{a['id']}/walk-ins"
    guest = {"guest_name": "来宾", "guest_kindergarten": "某园"}
    assert client.post(url, headers=login("lead-a"), json=guest).status_code == 409  # still planned
    fire(client, login("lead-a"), a, "announce")
    assert client.post(url, headers=login("kg-a1"), json=guest).status_code == 403  # a member, not the host
    for who in ("lead-b", "kg-b1", "kg-out"):
        assert client.post(url, headers=login(who), json=guest).status_code == 404


def test_everyone_not_yet_recorded_is_present_at_once(client, world, login, runtime, semester):
    a = announced(client, login, runtime, world)
    url = f"/api/activities/{a['id']}/attendance"
    h = login("lead-a")
    assert fields_of(client.put(url, headers=h, json={})) == {"entries"}
    first, second = a["participants"][0], a["participants"][1]
    both = {"participant_id": first["id"], "teacher_id": first["teacher_id"], "attendance": "leave"}
    assert fields_of(client.put(url, headers=h, json={"entries": [both]})) == {"entries.0"}
    unknown = {"participant_id": a["id"], "attendance": "leave"}
    assert fields_of(client.put(url, headers=h, json={"entries": [unknown]})) == {"entries.0.participant_id"}
    body = {"entries": [{"participant_id": first["id"], "attendance": "leave"}], "rest_present": True}
    got = ok(client.put(url, headers=h, json=body))
    assert got["attendance"] == {"expected": 4, "present": 3, "late": 0, "leave": 1, "absent": 0, "unrecorded": 0}
    # Once recorded, 全部出席 leaves a recorded leave alone.
    absent = {"entries": [{"participant_id": second["id"], "attendance": "absent"}]}
    ok(client.put(url, headers=h, json=absent))
    again = ok(client.put(url, headers=h, json={"rest_present": True}))
    statuses = {p["id"]: p["attendance"] for p in again["participants"]}
    assert (statuses[first["id"]], statuses[second["id"]]) == ("leave", "absent")


def test_a_wrong_material_is_withdrawn_with_a_reason_and_the_record_kept(client, world, login, runtime, semester):
    a = create_activity(client, login, runtime, world)
    lead = login("lead-a")
    m = ok(upload(client, login("pillar-a"), a["id"], "lesson_plan", pdf_bytes("wrong"), "教案.pdf"), 201)
    url = f"/api/activities/{a['id']}/materials/{m['id']}/withdraw"
    refused = client.post(url, headers=lead, json={"reason": "   "})
    assert fields_of(refused) == {"reason"} and refused.json()["errors"][0]["message"] == "请填写撤回原因"
    assert fields_of(client.post(url, headers=lead, json={"reason": "长" * 501})) == {"reason"}
    assert client.post(url, headers=login("kg-a1"), json={"reason": "不是我的"}).status_code == 403
    for who in ("lead-b", "kg-b1"):
        assert client.post(url, headers=login(who), json={"reason": "x"}).status_code == 404
    gone = ok(client.post(url, headers=lead, json={"reason": "传成了别的活动的教案"}))
    assert (gone["withdraw_reason"], gone["withdrawn_by"]) == ("传成了别的活动的教案", "lead-a")
    assert client.post(url, headers=lead, json={"reason": "再撤一次"}).status_code == 404
    assert ok(client.get(f"/api/activities/{a['id']}/materials", headers=lead)) == []
    withdrawn = ok(client.get(f"/api/activities/{a['id']}/materials", headers=lead, params={"withdrawn": "true"}))
    assert [(w["filename"], w["withdraw_reason"]) for w in withdrawn] == [("教案.pdf", "传成了别的活动的教案")]
    assert client.get(f"/api/activities/{a['id']}/materials/{m['id']}/content", headers=lead).status_code == 404
    history = ok(client.get(f"/api/activities/{a['id']}/history", headers=lead))
    entry = next(e for e in history if e["event"] == "material_withdrawn")
    assert entry["comment"] == "传成了别的活动的教案" and entry["actor_name"] == "lead-a"
    assert entry["data"]["filename"] == "教案.pdf"


def test_withdrawing_ends_with_the_archive(client, world, login, runtime, semester):
    a = held_with_materials(client, login, runtime, world)
    h = login("lead-a")
    m = ok(upload(client, h, a["id"], "discussion", pdf_bytes("discussion"), "研讨记录.pdf"), 201)
    a = ok(client.get(f"/api/activities/{a['id']}", headers=h))
    assert ok(fire(client, h, a, "archive"))["state"] == "archived"
    r = client.post(f"/api/activities/{a['id']}/materials/{m['id']}/withdraw", headers=h, json={"reason": "晚了"})
    assert r.status_code == 409


def test_member_kindergartens_see_host_present_and_hand_in_for_their_alliance(client, world, login, runtime, semester):
    hosted = create_activity(client, login, runtime, world, host_kindergarten_id=world.kid("A-M1"))
    presented = create_activity(client, login, runtime, world, presenter_teacher_ids=teacher_ids(runtime, "A-M2-T1"))
    member = login("kg-a1")
    assert {a["id"] for a in ok(client.get("/api/activities", headers=member))} == {hosted["id"], presented["id"]}
    assert ok(upload(client, member, hosted["id"], "report", pdf_bytes("r"), "报道.pdf"), 201)
    assert upload(client, member, presented["id"], "report", pdf_bytes("r"), "报道.pdf").status_code == 403
    assert ok(upload(client, login("kg-a2"), presented["id"], "lesson_plan", pdf_bytes("p"), "教案.pdf"), 201)
    # The host records attendance of an announced activity; plans and summaries are read, not written.
    fire(client, login("lead-a"), hosted, "announce")
    assert client.put(f"/api/activities/{hosted['id']}/attendance", headers=member,
                      json={"rest_present": True}).status_code == 200  # fmt: skip
    plan = f"/api/semesters/{semester}/alliances/{world.alliances['A'].id}/plan"
    ok(client.put(plan, headers=login("lead-a"), json={"form": PLAN_FORM}))
    assert ok(client.get(plan, headers=member))["status"] != "missing"
    assert client.put(plan, headers=member, json={"form": PLAN_FORM}).status_code == 403


@pytest.mark.parametrize("who", ["kg-b1", "kg-out", "lead-b"])
def test_another_alliances_activity_is_a_404_for_members_too(client, world, login, runtime, semester, who):
    a = create_activity(client, login, runtime, world)
    m = ok(upload(client, login("lead-a"), a["id"], "report", pdf_bytes("r"), "报道.pdf"), 201)
    h = login(who)
    for path in ("", "/materials", "/completeness", "/comments", f"/materials/{m['id']}/content", "/sign-in-sheet"):
        assert client.get(f"/api/activities/{a['id']}{path}", headers=h).status_code == 404, path
    assert upload(client, h, a["id"], "report", pdf_bytes("x"), "x.pdf").status_code == 404
    assert a["id"] not in {x["id"] for x in ok(client.get("/api/activities", headers=h))}
    other_plan = f"/api/semesters/{semester}/alliances/{world.alliances['A'].id}/plan"
    assert client.get(other_plan, headers=h).status_code == 404
