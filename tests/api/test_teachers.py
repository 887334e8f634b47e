"""The teacher roster (教师名册) through the API: keeping it, who may see what, phones, deleting."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from workflows.audit import AuditEntry
from workflows.registry import teachers
from workflows.registry.models import Teacher


def add(client, headers, **body):
    return client.post("/api/teachers", headers=headers, json={"name": "周晓梅", "level": "young", **body})


def test_a_principal_keeps_its_own_roster(client, world, login):
    h = login("kg-a1")
    r = add(client, h, name=" 周  晓梅 ", post="教师", level="骨干教师", birth_year=1991, phone="138 0013 8000")
    assert r.status_code == 201, r.text
    t = r.json()
    assert t["kindergarten_id"] == world.kid("A-M1")
    assert t["kindergarten_name"] == "A-M1 A&B<幼儿园>"
    # The world's teacher is A-M1-T1, so the next number is T02.
    assert (t["code"], t["name"], t["level"], t["level_label"]) == ("A-M1-T02", "周 晓梅", "backbone", "骨干教师")
    assert (t["phone"], t["birth_year"], t["active"], t["status_label"], t["version"]) == (
        "13800138000",
        1991,
        True,
        "在职",
        1,
    )
    assert [row["code"] for row in client.get("/api/teachers", headers=h).json()] == ["A-M1-T02", "A-M1-T1"]

    changed = client.patch(
        f"/api/teachers/{t['id']}", headers=h, json={"version": 1, "post": "业务园长", "phone": None}
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["post"], changed.json()["phone"], changed.json()["version"]) == ("业务园长", None, 2)
    stale = client.patch(f"/api/teachers/{t['id']}", headers=h, json={"version": 1, "name": "别人"})
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"

    left = client.patch(f"/api/teachers/{t['id']}", headers=h, json={"version": 2, "active": False})
    assert left.status_code == 200
    assert (left.json()["active"], left.json()["status_label"]) == (False, "离职")
    assert left.json()["left_on"] is not None
    back = client.patch(f"/api/teachers/{t['id']}", headers=h, json={"version": 3, "active": True})
    assert back.json()["active"] is True and back.json()["left_on"] is None
    assert client.get(f"/api/teachers/{t['id']}", headers=h).json()["version"] == 4

    a_new = add(client, h, name="新来的")
    assert a_new.json()["code"] == "A-M1-T03" and a_new.json()["post"] == "教师"


def test_every_change_is_in_the_audit_history_without_personal_data(client, world, login, runtime):
    h = login("kg-a1")
    t = add(client, h, phone="13800138001").json()
    client.patch(f"/api/teachers/{t['id']}", headers=h, json={"version": 1, "active": False})
    with runtime.db.session() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.entity_id == t["id"]).order_by(AuditEntry.seq)).all()
        assert [(e.event, e.actor_role) for e in rows] == [("create", "applicant"), ("leave", "applicant")]
        assert rows[1].data == {"kindergarten": "A-M1", "code": "A-M1-T02", "fields": ["active"]}
        assert "13800138001" not in str([e.data for e in rows])


def test_another_kindergartens_teachers_are_not_found(client, world, login):
    own = add(client, login("kg-a1"), phone="13800138002").json()
    path = f"/api/teachers/{own['id']}"
    # The same alliance's member, its lead and another alliance's kindergarten: 404 on every route.
    for username in ("kg-a2", "lead-a", "pillar-a", "kg-b1", "kg-out"):
        h = login(username)
        assert client.get(path, headers=h).status_code == 404, username
        assert client.patch(path, headers=h, json={"version": 1, "name": "改名"}).status_code == 404, username
        assert client.delete(f"{path}?version=1", headers=h).status_code == 404, username
        codes = [row["code"] for row in client.get("/api/teachers", headers=h).json()]
        assert "A-M1-T02" not in codes, username
        asked = client.get(f"/api/teachers?kindergarten_id={world.kid('A-M1')}", headers=h).json()
        assert asked == [], username
    into_other = add(client, login("kg-a1"), kindergarten_id=world.kid("A-M2"))
    assert into_other.status_code == 404
    assert client.get("/api/teachers/00000000-0000-0000-0000-000000000000", headers=login("officer")).status_code == 404
    with_name = client.get(path, headers=login("kg-a1")).json()
    assert with_name["name"] == "周晓梅"


def test_the_bureau_reads_every_roster_and_only_officer_and_admin_keep_them(client, world, login):
    t = add(client, login("kg-b1"), phone="13800138003").json()
    researcher = login("researcher")
    assert client.get(f"/api/teachers/{t['id']}", headers=researcher).status_code == 200
    assert len(client.get("/api/teachers", headers=researcher).json()) == len(world.kindergartens) - 1 + 1
    assert client.patch(f"/api/teachers/{t['id']}", headers=researcher, json={"version": 1}).status_code == 404
    assert add(client, researcher, kindergarten_id=world.kid("B-M1")).status_code == 404

    officer = login("officer")
    assert (
        client.patch(f"/api/teachers/{t['id']}", headers=officer, json={"version": 1, "level": "leader"}).json()[
            "level_label"
        ]
        == "学科带头人"
    )
    missing = add(client, officer)
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "kindergarten_id"
    made = add(client, login("admin"), kindergarten_id=world.kid("C-OUT"), name="园外老师")
    assert made.status_code == 201 and made.json()["code"] == "C-OUT-T01"


def test_the_district_roster_filters(client, world, login):
    add(client, login("kg-a1"), name="甲骨干", level="backbone", phone="13800138004")
    add(client, login("kg-b1"), name="乙骨干", level="backbone", phone="0791-88886666")
    gone = add(client, login("kg-b1"), name="丙新人", level="new").json()
    client.patch(f"/api/teachers/{gone['id']}", headers=login("kg-b1"), json={"version": 1, "active": False})
    h = login("officer")

    def names(query: str) -> list[str]:
        r = client.get(f"/api/teachers?{query}", headers=h)
        assert r.status_code == 200, r.text
        return [t["name"] for t in r.json()]

    assert names("level=backbone") == ["甲骨干", "乙骨干"]
    assert names(f"alliance_id={world.alliances['B'].id}&active=false") == ["丙新人"]
    assert names(f"kindergarten_id={world.kid('B-M1')}&active=true") == ["乙骨干", "B-M1业务"]
    assert names("q=88886666") == ["乙骨干"]
    assert names("q=甲") == ["甲骨干"]
    assert len(names("active=true")) == len(world.kindergartens) - 1 + 2
    assert client.get("/api/teachers?level=expert", headers=h).status_code == 422


def test_bad_entries_are_422_naming_each_field(client, world, login):
    h = login("kg-a1")
    r = add(client, h, name="  ", post="", level="expert", birth_year=1900, phone="12345")
    assert r.status_code == 422
    errors = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert errors == {
        "name": "请填写姓名",
        "post": "请填写岗位，例如 教师、业务园长",
        "level": "请选择教师层级（新教师、青年教师、骨干教师、学科带头人）",
        "birth_year": errors["birth_year"],
        "phone": "电话号码格式不正确（手机号为 1 开头的 11 位数字，座机如 0791-88886666）",
    }
    assert errors["birth_year"].startswith("出生年份须在 1940 至 ")
    assert add(client, h, birth_year="一九九〇").json()["errors"][0]["field"] == "birth_year"
    assert add(client, h, phone="2345678901").status_code == 422
    assert add(client, h, phone="10086").status_code == 422
    cleared = client.patch(f"/api/teachers/{add(client, h).json()['id']}", headers=h, json={"version": 1, "name": None})
    assert cleared.status_code == 422 and cleared.json()["errors"][0]["field"] == "name"
    assert add(client, h, colour="red").status_code == 422
    landline = add(client, h, phone="(0791)8888 6667")
    assert landline.status_code == 201 and landline.json()["phone"] == "0791-88886667"
    beijing = add(client, h, phone="010-12345678")
    assert beijing.json()["phone"] == "010-12345678"


def test_a_phone_belongs_to_one_active_teacher(client, world, login):
    first = add(client, login("kg-a1"), name="原主人", phone="13900139000").json()
    # Written differently, it is the same number; the principal is not told who holds it.
    r = add(client, login("kg-b1"), name="新老师", phone="+86 139-0013-9000")
    assert r.status_code == 422
    assert r.json()["code"] == "validation_failed"
    error = r.json()["errors"][0]
    assert (error["field"], error["code"]) == ("phone", "duplicate")
    assert error["message"] == "该电话号码已由本区另一位在职教师使用，在职教师的电话不能重复"
    assert "原主人" not in r.text and "A-M1" not in r.text
    # Within the kindergarten, and for the office, the holder is named.
    own = add(client, login("kg-a1"), name="同事", phone="13900139000")
    assert own.json()["errors"][0]["message"] == "该电话号码已由本园在职教师原主人使用，在职教师的电话不能重复"
    office = add(client, login("officer"), kindergarten_id=world.kid("B-M1"), phone="13900139000")
    assert "A-M1 A&B<幼儿园>的在职教师原主人" in office.json()["errors"][0]["message"]
    # Changing another teacher's phone to it is refused the same way.
    other = add(client, login("kg-a1"), name="另一位").json()
    taken = client.patch(
        f"/api/teachers/{other['id']}", headers=login("kg-a1"), json={"version": 1, "phone": "13900139000"}
    )
    assert taken.status_code == 422 and taken.json()["errors"][0]["field"] == "phone"

    # Once the holder has left, the number is free; coming back with it taken is refused.
    client.patch(f"/api/teachers/{first['id']}", headers=login("kg-a1"), json={"version": 1, "active": False})
    moved = add(client, login("kg-b1"), name="新老师", phone="13900139000")
    assert moved.status_code == 201
    back = client.patch(f"/api/teachers/{first['id']}", headers=login("kg-a1"), json={"version": 2, "active": True})
    assert back.status_code == 422 and back.json()["errors"][0]["field"] == "phone"
    assert client.get(f"/api/teachers/{first['id']}", headers=login("kg-a1")).json()["active"] is False


def test_the_database_holds_the_phone_rule_too(runtime, world):
    with runtime.db.session() as s:
        k = s.get(type(world.kindergartens["A-M1"]), world.kindergartens["A-M1"].id)
        s.add(Teacher(kindergarten=k, code="X1", name="甲", phone="13700137000"))
        s.add(Teacher(kindergarten=k, code="X2", name="乙", phone="13700137000", active=False))
        s.flush()
        s.add(Teacher(kindergarten=k, code="X3", name="丙", phone="13700137000"))
        with pytest.raises(IntegrityError):
            s.flush()
        s.rollback()


def test_only_unreferenced_entries_are_deleted(client, world, login):
    h = login("kg-a1")
    typo = add(client, h, name="录错了").json()
    assert client.delete(f"/api/teachers/{typo['id']}?version=2", headers=h).status_code == 409
    assert client.delete(f"/api/teachers/{typo['id']}?version=1", headers=h).status_code == 204
    assert client.get(f"/api/teachers/{typo['id']}", headers=h).status_code == 404

    named = add(client, h, name="教研组成员").json()
    seat = client.put(
        f"/api/alliances/{world.alliances['A'].id}/research-group/seats/{world.kid('A-M1')}",
        headers=h,
        json={"teacher_id": named["id"]},
    )
    assert seat.status_code == 200
    refused = client.delete(f"/api/teachers/{named['id']}?version=1", headers=h)
    assert refused.status_code == 409
    assert refused.json()["message"] == "该教师已有活动、教研组或带教等记录，不能删除；如已离开本园，请标记为离职"
    assert client.get(f"/api/teachers/{named['id']}", headers=h).status_code == 200


def test_the_kindergarten_teacher_list_now_shows_roster_fields(client, world, login):
    add(client, login("kg-a2"), phone="13800138009")
    rows = client.get(f"/api/kindergartens/{world.kid('A-M2')}/teachers", headers=login("lead-a")).json()
    assert [(t["code"], t["phone"]) for t in rows] == [("A-M2-T02", "13800138009"), ("A-M2-T1", None)]
    assert client.get(f"/api/kindergartens/{world.kid('A-M2')}/teachers", headers=login("kg-a1")).status_code == 404


def test_the_roster_is_documented(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in (
        "/api/teachers",
        "/api/teachers/{teacher_id}",
        "/api/teachers/import",
        "/api/teachers/roster.xlsx",
        "/api/teachers/template.xlsx",
        "/api/alliances/{alliance_id}/research-group",
        "/api/alliances/{alliance_id}/research-group/leader",
        "/api/alliances/{alliance_id}/research-group/seats/{kindergarten_id}",
    ):
        assert path in paths, path
    assert set(paths["/api/teachers/{teacher_id}"]) == {"get", "patch", "delete"}


def test_a_phone_taken_between_the_check_and_the_write_is_still_a_422(client, world, login, monkeypatch):
    """Two principals saving the same number at once: the unique index decides, the loser gets a 422."""

    add(client, login("kg-a1"), phone="13600136000")
    monkeypatch.setattr(teachers, "phone_holder", lambda *args, **kwargs: None)  # as if the first were not committed
    r = add(client, login("kg-b1"), phone="13600136000")
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0] == {
        "field": "phone",
        "code": "duplicate",
        "message": "该电话号码已由另一位在职教师使用，在职教师的电话不能重复",
    }
    assert [t["name"] for t in client.get("/api/teachers?q=13600136000", headers=login("officer")).json()] == ["周晓梅"]
