"""The registry through the API, and who may see what."""

from __future__ import annotations


def test_officer_sees_every_kindergarten_with_contacts(client, world, login):
    rows = client.get("/api/kindergartens", headers=login("officer")).json()
    assert len(rows) == len(world.kindergartens)
    assert all(r["contacts"] is not None for r in rows)
    by_code = {r["code"]: r for r in rows}
    assert by_code["A-M1"]["alliance_role"] == "member"
    assert by_code["A-M1"]["name"] == "A-M1 A&B<幼儿园>"
    assert by_code["C-OUT"]["alliance_id"] is None


def test_applicant_sees_public_entries_but_only_its_own_contacts(client, world, login):
    rows = {r["code"]: r for r in client.get("/api/kindergartens", headers=login("kg-a1")).json()}
    assert rows["A-M1"]["contacts"]["head_phone"]
    for code in ("A-M2", "A-LEAD", "B-M1", "C-OUT"):
        assert rows[code]["contacts"] is None, code
    detail = client.get(f"/api/kindergartens/{world.kid('B-M1')}", headers=login("kg-a1")).json()
    assert detail["contacts"] is None
    assert "13800" not in str(detail)


def test_applicant_cannot_read_another_kindergartens_users_or_teachers(client, world, login):
    h = login("kg-a1")
    for code in ("A-M2", "B-M1", "A-LEAD"):
        for sub in ("users", "teachers"):
            r = client.get(f"/api/kindergartens/{world.kid(code)}/{sub}", headers=h)
            assert r.status_code == 404, (code, sub)
    own = client.get(f"/api/kindergartens/{world.kid('A-M1')}/users", headers=h)
    assert own.status_code == 200
    assert [u["username"] for u in own.json()] == ["kg-a1"]


def test_lead_sees_its_alliance_contacts_only(client, world, login):
    h = login("lead-a")
    assert client.get(f"/api/kindergartens/{world.kid('A-M2')}/users", headers=h).status_code == 200
    assert client.get(f"/api/kindergartens/{world.kid('B-M1')}/users", headers=h).status_code == 404
    rows = {r["code"]: r for r in client.get("/api/kindergartens", headers=h).json()}
    assert rows["A-M2"]["contacts"] is not None
    assert rows["B-M1"]["contacts"] is None


def test_unknown_kindergarten_is_404_and_bad_id_is_422(client, world, login):
    h = login("officer")
    assert client.get("/api/kindergartens/00000000-0000-0000-0000-000000000000", headers=h).status_code == 404
    r = client.get("/api/kindergartens/not-a-uuid", headers=h)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "kindergarten_id"


def test_filters(client, world, login):
    h = login("officer")
    members = client.get(f"/api/kindergartens?alliance_id={world.alliances['B'].id}", headers=h).json()
    assert sorted(r["code"] for r in members) == ["B-LEAD", "B-M1", "B-M2", "B-PIL"]
    private = client.get("/api/kindergartens?category=private", headers=h).json()
    assert {r["category"] for r in private} == {"private"}
    assert client.get("/api/kindergartens?category=bogus", headers=h).status_code == 422


def test_alliances_have_lead_pillar_members_and_research_group(client, world, login):
    rows = client.get("/api/alliances", headers=login("officer")).json()
    assert [a["code"] for a in rows] == ["TA", "TB"]
    a = rows[0]
    assert a["lead"]["code"] == "A-LEAD" and a["pillar"]["code"] == "A-PIL"
    assert [m["code"] for m in a["members"]] == ["A-M1", "A-M2"]
    detail = client.get(f"/api/alliances/{a['id']}", headers=login("officer")).json()
    group = detail["research_group"]
    assert group["leader"]["code"] == "A-LEAD-T1"
    assert sorted(t["code"] for t in group["members"]) == ["A-M1-T1", "A-M2-T1", "A-PIL-T1"]


def test_research_group_names_are_private_to_the_alliance(client, world, login):
    other = client.get(f"/api/alliances/{world.alliances['B'].id}", headers=login("kg-a1")).json()
    assert other["research_group"] is None
    own = client.get(f"/api/alliances/{world.alliances['A'].id}", headers=login("kg-a1")).json()
    assert own["research_group"]["leader"]["name"] == "A-LEAD业务"


def test_arrangement_export_import_through_the_api(client, world, login):
    officer = login("officer")
    exported = client.get("/api/arrangement", headers=officer)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in exported.headers["content-disposition"]
    again = client.post(
        "/api/arrangement",
        headers=officer,
        files={"file": ("联盟安排表.xlsx", exported.content, "application/octet-stream")},
    )
    assert again.status_code == 200, again.text
    assert again.json()["memberships_started"] == 0 and again.json()["kindergartens_created"] == 0
    bad = client.post("/api/arrangement", headers=officer, files={"file": ("x.xlsx", b"not a workbook")})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "file"
    for who in ("kg-a1", "lead-a"):
        assert client.get("/api/arrangement", headers=login(who)).status_code == 404
        assert (
            client.post(
                "/api/arrangement", headers=login(who), files={"file": ("x.xlsx", exported.content)}
            ).status_code
            == 404
        )
