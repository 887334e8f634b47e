"""资源库 pages: search with highlighted hits and filters, promotion, retagging, recommendation for
publication with its letter; who may do what, and bad input answered next to its field."""

from __future__ import annotations

import re

import pytest

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


def version_of(html: str) -> str:
    return re.search(r'name="version" value="(\d+)"', html).group(1)


def promote(b, runtime, material_id, **tags):
    r = b.post("/library/promote", {"material_id": str(material_id), **tags})
    drain(runtime)  # the text is read by a task
    return r


def test_promote_search_highlight_and_filters(browser, runtime, world, archived):
    lead = browser("lead-a")
    page = lead.get("/library/promote").text
    assert "磁铁课例.docx" in page and "教学反思.docx" in page
    assert "签到表.docx" not in page and "照片.png" not in page  # not research products
    r = promote(lead, runtime, archived.materials["磁铁课例.docx"], age_group="大班", keywords="磁铁、科学区")
    assert r.status_code == 303, r.text
    item_url = r.headers["location"]
    assert "已收入资源库" in lead.follow(r).text
    assert "磁铁课例.docx" not in lead.get("/library/promote").text  # taken

    reader = browser("kg-b1")  # another alliance's member kindergarten reads too
    found = reader.get("/library", params={"q": "科学探究"}).text
    assert "共找到 1 份资源" in found
    assert "<mark>科学</mark>" in found or "<mark>科学探究</mark>" in found
    assert "幼儿" in found and item_url in found
    assert "收入资源" not in found  # a member does not curate
    assert "共找到 0 份资源" in reader.get("/library", params={"q": "科学探究", "domain": "艺术"}).text
    assert (
        "共找到 1 份资源"
        in reader.get("/library", params={"q": "磁铁", "category": "lesson_case", "year": "2026"}).text
    )
    alliance_b = str(world.alliances["B"].id)
    assert "共找到 0 份资源" in reader.get("/library", params={"q": "磁铁", "alliance": alliance_b}).text
    detail = reader.get(item_url).text
    assert "磁铁课例" in detail and "修改标签" not in detail and "推荐发表</button>" not in detail
    content = reader.get(item_url + "/content")
    assert content.status_code == 200 and content.headers["content-type"].startswith("application/vnd.openxml")


def test_bad_search_input_is_answered_next_to_the_field(browser, runtime, archived):
    b = browser("kg-a1")
    r = b.get("/library", params={"q": "科学探究", "year": "二〇二六", "domain": "体育"})
    assert r.status_code == 200
    assert 'id="err-year" role="alert">年份应为四位数字' in r.text
    assert 'id="err-domain" role="alert">请选择领域' in r.text
    assert 'value="科学探究"' in r.text and 'value="二〇二六"' in r.text  # nothing typed is lost


def test_outsiders_and_members_are_refused(browser, runtime, archived):
    outsider = browser("kg-out")
    assert outsider.get("/library").status_code == 404
    assert "资源库" not in outsider.get("/").text.split("<main")[0]
    member = browser("kg-a1")
    assert "资源库" in member.get("/").text.split("<main")[0]
    r = member.post("/library/promote", {"material_id": str(archived.materials["磁铁课例.docx"])})
    assert r.status_code == 303  # refused: back with the message
    assert "只有龙头园、成幼科和教研室" in member.follow(r).text
    lead = browser("lead-a")
    r = promote(lead, runtime, archived.materials["签到表.docx"], title="签到")
    assert r.status_code == 200 and "只有课例、反思、教案、活动报道可以收入资源库" in r.text
    r = promote(lead, runtime, archived.materials["教学反思.docx"], title="x" * 201, keywords="观察")
    assert r.status_code == 200 and "内容过长" in r.text and 'value="观察"' in r.text


def test_retag_remove_and_stale_version(browser, runtime, archived):
    lead = browser("lead-a")
    item_url = promote(lead, runtime, archived.materials["教学反思.docx"]).headers["location"]
    page = lead.get(item_url).text
    version = version_of(page)
    r = lead.post(
        item_url + "/tags", {"version": version, "title": "反思", "keywords": "户外游戏", "age_group": "托班"}
    )
    assert r.status_code == 200 and "不是允许的选项" in r.text and 'value="户外游戏"' in r.text
    r = lead.post(item_url + "/tags", {"version": version, "title": "探究材料的反思", "keywords": "户外游戏"})
    assert r.status_code == 303
    assert "户外游戏" in browser("kg-b1").get("/library", params={"q": "户外游戏"}).text
    r = lead.post(item_url + "/tags", {"version": version, "title": "again"})
    assert r.status_code == 303 and "记录已被他人修改" in lead.follow(r).text
    assert browser("kg-a1").post(item_url + "/remove", {"version": version}).status_code == 303
    r = lead.post(item_url + "/remove", {"version": version_of(lead.get(item_url).text)})
    assert r.headers["location"] == "/library"
    assert lead.get(item_url).status_code == 404


def test_recommendation_to_letter(browser, runtime, archived):
    lead = browser("lead-a")
    item_url = promote(lead, runtime, archived.materials["磁铁课例.docx"]).headers["location"]
    r = lead.post(item_url + "/recommend", {"journal": "", "reason": ""})
    assert r.status_code == 200 and 'id="err-reason" role="alert">请填写推荐理由' in r.text
    r = lead.post(item_url + "/recommend", {"journal": "", "reason": "设计巧妙，幼儿探究充分"})
    assert r.status_code == 303, r.text
    rec_url = r.headers["location"]
    page = lead.follow(r).text
    assert "《在课例研究中进步》" in page and "已推荐" in page and "入围</button>" not in page

    researcher = browser("researcher")
    assert "推荐发表待审核" in researcher.get("/").text  # 待办
    page = researcher.get(rec_url).text
    r = researcher.post(rec_url + "/events/shortlist", {"version": "99"})
    assert r.status_code == 303 and "记录已被他人修改" in researcher.follow(r).text
    r = researcher.post(rec_url + "/events/shortlist", {"version": version_of(page)})
    assert r.status_code == 303
    page = researcher.follow(r).text
    r = researcher.post(rec_url + "/events/decline", {"version": version_of(page), "comment": ""})
    assert r.status_code == 200 and "ev-decline-comment-err" in r.text
    r = researcher.post(rec_url + "/events/submit", {"version": version_of(page)})
    assert r.status_code == 303
    page = researcher.follow(r).text
    assert "推荐函已生成" in page and "已报送" in page
    letter = re.search(r'href="(/documents/[^"]+/download)">推荐发表函', page).group(1)
    for who in (researcher, lead, browser("kg-a1")):
        got = who.get(letter)
        assert got.status_code == 200 and got.content[:2] == b"PK"
    assert browser("kg-b1").get(rec_url).status_code == 404  # another alliance's recommendation
    assert "推荐发表已报送" in lead.get("/notifications").text
