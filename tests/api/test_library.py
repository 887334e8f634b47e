"""The resource library through the HTTP API: promotion, who reads it, search, recommendation for publication."""

from __future__ import annotations

import io

import pytest
from docx import Document as WordDocument

from tests.fixtures.activity_records import FileSpec, docx_bytes, make_activity
from tests.fixtures.agreements import drain
from tests.fixtures.files import png_bytes

CASE = "本课例记录了一次幼儿科学探究活动，孩子们用磁铁寻找铁制品。"


@pytest.fixture
def archived(runtime, world):
    return make_activity(
        runtime,
        world,
        files=[
            FileSpec("lesson_case", "磁铁课例.docx", docx_bytes(CASE, heading="大班科学活动《有趣的磁铁》")),
            FileSpec("reflection", "教学反思.docx", docx_bytes("反思：操作材料应当更充足，观察记录要细致。")),
            FileSpec("sign_in", "签到表.docx", docx_bytes("签到")),
            FileSpec("media", "照片.png", png_bytes(), "image/png"),
        ],
    )


@pytest.fixture
def promote(client, runtime):
    """Promote, then let the task read the text (「处理中」 until it has)."""

    def _promote(headers, material_id, **tags):
        r = client.post("/api/library", headers=headers, json={"material_id": str(material_id), **tags})
        drain(runtime)
        return r

    return _promote


def test_promotion_of_archived_materials(promote, client, login, runtime, world, archived):
    lead = login("lead-a")
    r = promote(lead, archived.materials["磁铁课例.docx"], age_group="大班", keywords=["磁铁", "科学区"])
    assert r.status_code == 201, r.text
    item = r.json()
    assert item["title"] == "磁铁课例" and item["category_label"] == "课例"
    assert (item["domain"], item["format"], item["year"], item["age_group"]) == ("科学", "公开课", 2026, "大班")
    # The text is read by a task, not in the request: 「处理中」 at first, then indexed.
    assert (item["text_state"], item["text_state_label"], item["text_indexed"]) == ("pending", "处理中", False)
    item = client.get(f"/api/library/{item['id']}", headers=lead).json()
    assert item["alliance_name"] == "测试联盟A" and item["text_indexed"] is True and item["text_state"] == "ready"
    assert "幼儿科学探究活动" in item["excerpt"]

    # Again, the wrong kind of material, a stranger's material, the wrong role, a held activity.
    assert promote(lead, archived.materials["磁铁课例.docx"]).status_code == 409
    r = promote(lead, archived.materials["签到表.docx"])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "material_id"
    assert promote(lead, archived.materials["照片.png"]).status_code == 422
    assert promote(login("lead-b"), archived.materials["教学反思.docx"]).status_code == 404
    assert promote(login("kg-a1"), archived.materials["教学反思.docx"]).status_code == 403
    held = make_activity(runtime, world, state="held", files=[FileSpec("reflection", "r.docx", docx_bytes("反思"))])
    assert promote(lead, held.materials["r.docx"]).status_code == 409
    r = promote(login("researcher"), archived.materials["教学反思.docx"], title="探究材料的反思", age_group="小班")
    assert r.status_code == 201 and r.json()["promoter_name"] == "researcher"

    # The library points at the archived object: the same bytes, not a copy.
    content = client.get(f"/api/library/{item['id']}/content", headers=login("kg-b1"))
    assert content.status_code == 200
    assert "幼儿科学探究活动" in "\n".join(p.text for p in WordDocument(io.BytesIO(content.content)).paragraphs)
    assert content.headers["content-length"] == str(item["size"])


def test_every_alliance_kindergarten_and_the_bureau_read_outsiders_do_not(promote, client, login, archived):
    r = promote(login("lead-a"), archived.materials["磁铁课例.docx"], age_group="大班")
    item_id = r.json()["id"]
    for username in ("kg-a1", "pillar-a", "lead-b", "kg-b1", "officer", "researcher", "admin"):
        found = client.get("/api/library", params={"q": "科学探究"}, headers=login(username))
        assert found.status_code == 200, username
        assert [i["id"] for i in found.json()["items"]] == [item_id], username
        assert client.get(f"/api/library/{item_id}", headers=login(username)).status_code == 200
    outsider = login("kg-out")
    assert client.get("/api/library", params={"q": "科学探究"}, headers=outsider).status_code == 404
    assert client.get(f"/api/library/{item_id}", headers=outsider).status_code == 404
    assert client.get(f"/api/library/{item_id}/content", headers=outsider).status_code == 404
    assert client.get("/api/library").status_code == 401


def test_search_filters_and_retagging(promote, client, login, world, archived):
    lead = login("lead-a")
    case = promote(lead, archived.materials["磁铁课例.docx"], age_group="大班").json()
    promote(lead, archived.materials["教学反思.docx"], age_group="中班")
    h = login("kg-b1")

    def ids(**params):
        r = client.get("/api/library", params=params, headers=h)
        assert r.status_code == 200, r.text
        return [i["title"] for i in r.json()["items"]]

    assert ids(q="科学探究") == ["磁铁课例"]
    assert sorted(ids(q="科学")) == ["教学反思", "磁铁课例"]
    assert ids(q="科学", age_group="中班") == ["教学反思"]
    assert ids(q="科学", category="lesson_case", alliance_id=str(world.alliances["A"].id), year=2026) == ["磁铁课例"]
    assert ids(q="科学", alliance_id=str(world.alliances["B"].id)) == []
    assert ids(q="探究 观察记录") == []
    assert client.get("/api/library", params={"age_group": "托班"}, headers=h).status_code == 422

    path = f"/api/library/{case['id']}"
    assert client.put(path, headers=h, json={"version": case["version"], "keywords": ["x"]}).status_code == 403
    r = client.put(path, headers=lead, json={"version": case["version"], "keywords": ["户外游戏"], "age_group": "大班"})
    assert r.status_code == 200, r.text
    assert client.put(path, headers=lead, json={"version": case["version"], "keywords": []}).status_code == 409
    assert ids(q="户外游戏") == ["磁铁课例"]
    r = client.post(f"{path}/remove", headers=lead, json={"version": r.json()["version"]})
    assert r.status_code == 200
    assert ids(q="科学探究") == []
    assert client.get(path, headers=h).status_code == 404


def test_recommendation_for_publication_with_letter(promote, client, login, archived):
    case = promote(login("lead-a"), archived.materials["磁铁课例.docx"], age_group="大班").json()
    path = f"/api/library/{case['id']}/recommendations"
    body = {"reason": "问题真实、过程完整，反思深入 A&B<优秀>"}
    assert client.post(path, headers=login("kg-a1"), json=body).status_code == 403
    assert client.post(path, headers=login("lead-b"), json=body).status_code == 403
    r = client.post(path, headers=login("lead-a"), json=body)
    assert r.status_code == 201, r.text
    rec = r.json()
    assert rec["state"] == "recommended" and rec["journal"] == "《在课例研究中进步》"
    assert client.post(path, headers=login("researcher"), json=body).status_code == 409

    rec_path = f"/api/library/recommendations/{rec['id']}"
    lead, researcher = login("lead-a"), login("researcher")
    assert (
        client.post(f"{rec_path}/events/shortlist", headers=lead, json={"version": rec["version"]}).status_code == 403
    )
    assert (
        client.post(f"{rec_path}/events/submit", headers=researcher, json={"version": rec["version"]}).status_code
        == 409
    )
    r = client.post(f"{rec_path}/events/shortlist", headers=researcher, json={"version": rec["version"]})
    assert r.status_code == 200 and r.json()["state"] == "shortlisted"
    r = client.post(f"{rec_path}/events/submit", headers=researcher, json={"version": r.json()["version"]})
    assert r.status_code == 200 and r.json()["state"] == "submitted" and r.json()["submitted_at"]

    docs = client.get(f"{rec_path}/documents", headers=lead).json()
    assert [d["kind"] for d in docs] == ["recommendation_letter"]
    content = client.get(f"/api/documents/{docs[0]['id']}/content", headers=lead).content
    word = WordDocument(io.BytesIO(content))
    text = "\n".join(
        [p.text for p in word.paragraphs] + [c.text for t in word.tables for row in t.rows for c in row.cells]
    )
    assert "推荐发表函" in text and "《在课例研究中进步》编辑部" in text and "磁铁课例" in text
    assert "A&B<优秀>" in text and case["sha256"][:16] in text
    history = client.get(f"{rec_path}/history", headers=lead).json()
    assert [h["event"] for h in history] == ["create", "shortlist", "submit"]
    assert client.get(rec_path, headers=login("kg-b1")).status_code == 404  # another alliance's
    assert client.get(f"/api/documents/{docs[0]['id']}", headers=login("kg-b1")).status_code == 404
    assert [x["id"] for x in client.get("/api/library/recommendations", headers=login("kg-a2")).json()] == [rec["id"]]

    # A reflection needs no journal named; anything else does; a declined item may be recommended again.
    reflection = promote(login("lead-a"), archived.materials["教学反思.docx"]).json()
    r = client.post(f"/api/library/{reflection['id']}/recommendations", headers=researcher, json=body)
    assert r.json()["journal"] == "《在教学反思中成长》"
    declined = client.post(
        f"/api/library/recommendations/{r.json()['id']}/events/decline", headers=researcher, json={"version": 1}
    )
    assert declined.status_code == 422
    declined = client.post(
        f"/api/library/recommendations/{r.json()['id']}/events/decline",
        headers=researcher,
        json={"version": 1, "comment": "篇幅不足"},
    )
    assert declined.json()["state"] == "declined"
    r = client.post(
        f"/api/library/{reflection['id']}/recommendations",
        headers=researcher,
        json={**body, "journal": "《学前教育研究》"},
    )
    assert r.status_code == 201 and r.json()["journal"] == "《学前教育研究》"
