"""The alliance's teaching-research group (教研组): seats, the named 组长, who may fix it."""

from __future__ import annotations

from sqlalchemy import select

from workflows.audit import AuditEntry


def group_path(world, alliance: str = "A") -> str:
    return f"/api/alliances/{world.alliances[alliance].id}/research-group"


def teacher(client, login, username: str, **body) -> dict:
    r = client.post("/api/teachers", headers=login(username), json={"name": "新教师", "level": "backbone", **body})
    assert r.status_code == 201, r.text
    return r.json()


def test_the_group_has_a_seat_per_kindergarten_led_by_the_leads_head(client, world, login):
    r = client.get(group_path(world), headers=login("kg-a1"))
    assert r.status_code == 200
    group = r.json()
    assert [(s["kindergarten"]["code"], s["role_label"], s["teacher"]["code"], s["named"]) for s in group["seats"]] == [
        ("A-LEAD", "组长（龙头园）", "A-LEAD-T1", False),
        ("A-PIL", "支柱园", "A-PIL-T1", False),
        ("A-M1", "成员园", "A-M1-T1", False),
        ("A-M2", "成员园", "A-M2-T1", False),
    ]
    assert group["leader"]["name"] == "A-LEAD业务"
    assert "phone" not in group["leader"]
    # Outside the alliance and the bureau, the group is not there.
    assert client.get(group_path(world), headers=login("kg-b1")).status_code == 404
    assert client.get(group_path(world), headers=login("kg-out")).status_code == 404
    assert client.get(group_path(world), headers=login("researcher")).status_code == 200
    missing = "/api/alliances/00000000-0000-0000-0000-000000000000/research-group"
    assert client.get(missing, headers=login("officer")).status_code == 404


def test_the_leader_must_be_an_active_teacher_of_the_lead(client, world, login):
    lead = login("lead-a")
    outsider = teacher(client, login, "kg-a1", name="成员园老师")
    r = client.put(f"{group_path(world)}/leader", headers=lead, json={"teacher_id": outsider["id"]})
    assert r.status_code == 422
    error = r.json()["errors"][0]
    assert error["field"] == "teacher_id"
    assert error["message"] == "教研组组长须为龙头园（A-LEAD A&B<幼儿园>）的在职教师"
    unknown = client.put(
        f"{group_path(world)}/leader", headers=lead, json={"teacher_id": "00000000-0000-0000-0000-000000000000"}
    )
    assert unknown.status_code == 422

    chosen = teacher(client, login, "lead-a", name="龙头骨干")
    r = client.put(f"{group_path(world)}/leader", headers=lead, json={"teacher_id": chosen["id"]})
    assert r.status_code == 200, r.text
    assert r.json()["leader"]["name"] == "龙头骨干"
    assert r.json()["seats"][0]["named"] is True
    # The group as the alliance and activities see it now has the named leader.
    seen = client.get(f"/api/alliances/{world.alliances['A'].id}", headers=login("kg-a2")).json()
    assert seen["research_group"]["leader"]["name"] == "龙头骨干"

    # When the leader leaves, the seat falls back to the lead's 业务园长; a left teacher can't be named.
    client.patch(f"/api/teachers/{chosen['id']}", headers=lead, json={"version": 1, "active": False})
    after = client.get(group_path(world), headers=lead).json()
    assert (after["leader"]["code"], after["seats"][0]["named"]) == ("A-LEAD-T1", False)
    again = client.put(f"{group_path(world)}/leader", headers=lead, json={"teacher_id": chosen["id"]})
    assert again.status_code == 422


def test_who_may_fix_which_seat(client, world, login):
    a_lead = teacher(client, login, "lead-a", name="龙头新人")
    a_m1 = teacher(client, login, "kg-a1", name="成员代表")
    a_m2 = teacher(client, login, "kg-a2", name="另一成员")
    seats = f"{group_path(world)}/seats"

    # A member names its own representative, not another's, and not the leader.
    own = client.put(f"{seats}/{world.kid('A-M1')}", headers=login("kg-a1"), json={"teacher_id": a_m1["id"]})
    assert own.status_code == 200
    assert [t["name"] for t in own.json()["members"]] == ["A-PIL业务", "成员代表", "A-M2业务"]
    other = client.put(f"{seats}/{world.kid('A-M2')}", headers=login("kg-a1"), json={"teacher_id": a_m2["id"]})
    assert other.status_code == 403 and "成员园可指定本园的成员" in other.json()["message"]
    leader = client.put(f"{group_path(world)}/leader", headers=login("kg-a1"), json={"teacher_id": a_lead["id"]})
    assert leader.status_code == 403
    assert (
        client.put(
            f"{group_path(world)}/leader", headers=login("pillar-a"), json={"teacher_id": a_lead["id"]}
        ).status_code
        == 403
    )
    # Another alliance's lead does not see this group at all.
    assert (
        client.put(
            f"{group_path(world)}/leader", headers=login("lead-b"), json={"teacher_id": a_lead["id"]}
        ).status_code
        == 404
    )

    # The lead fixes any seat of its alliance; a teacher of another kindergarten is refused for a seat.
    wrong = client.put(f"{seats}/{world.kid('A-M2')}", headers=login("lead-a"), json={"teacher_id": a_m1["id"]})
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["message"] == "须为A-M2 A&B<幼儿园>的在职教师"
    assert (
        client.put(f"{seats}/{world.kid('A-M2')}", headers=login("lead-a"), json={"teacher_id": a_m2["id"]}).status_code
        == 200
    )
    not_member = client.put(f"{seats}/{world.kid('B-M1')}", headers=login("officer"), json={"teacher_id": None})
    assert not_member.status_code == 422 and not_member.json()["errors"][0]["field"] == "kindergarten_id"

    # The officer returns a seat to its default; researchers read but do not fix.
    cleared = client.put(f"{seats}/{world.kid('A-M1')}", headers=login("officer"), json={"teacher_id": None})
    assert cleared.status_code == 200
    seat = next(s for s in cleared.json()["seats"] if s["kindergarten"]["code"] == "A-M1")
    assert (seat["teacher"]["code"], seat["named"]) == ("A-M1-T1", False)
    assert (
        client.put(f"{seats}/{world.kid('A-M1')}", headers=login("researcher"), json={"teacher_id": None}).status_code
        == 403
    )
    assert (
        client.put(f"{group_path(world)}/leader", headers=login("admin"), json={"teacher_id": a_lead["id"]}).status_code
        == 200
    )


def test_a_seat_without_a_head_is_vacant_and_a_new_head_fills_it(client, world, login):
    # A-M1's 业务园长 leaves: its seat is vacant until someone is named or a new head is added.
    h = login("kg-a1")
    head = next(t for t in client.get("/api/teachers", headers=h).json() if t["post"] == "业务园长")
    client.patch(f"/api/teachers/{head['id']}", headers=h, json={"version": head["version"], "active": False})
    seat = next(
        s for s in client.get(group_path(world), headers=h).json()["seats"] if s["kindergarten"]["code"] == "A-M1"
    )
    assert seat["teacher"] is None
    teacher(client, login, "kg-a1", name="新业务园长", post="业务园长")
    seat = next(
        s for s in client.get(group_path(world), headers=h).json()["seats"] if s["kindergarten"]["code"] == "A-M1"
    )
    assert seat["teacher"]["name"] == "新业务园长"


def test_changes_to_the_group_are_audited(client, world, login, runtime):
    chosen = teacher(client, login, "lead-a", name="龙头骨干")
    client.put(f"{group_path(world)}/leader", headers=login("lead-a"), json={"teacher_id": chosen["id"]})
    with runtime.db.session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.event == "research_group_leader")).one()
        assert entry.entity_id == str(world.alliances["A"].id)
        assert entry.data == {"kindergarten": "A-LEAD", "teacher": chosen["code"]}
