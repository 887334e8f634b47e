"""The pages of agreements for every member, through TestClient: who may open them (404 otherwise),
bad input answered next to its field with nothing typed lost, the read confirmation enforced by the
server, the final files up front, and withdrawal pages with working notification links."""

from __future__ import annotations

import re
import uuid

import pytest

from api.web.pages import agreements as agreement_pages
from tests.fixtures.agreements import PIN, SIGNERS
from workers.wiring import runner_for
from workflows.agreements.models import Agreement

pytestmark = pytest.mark.usefixtures("without_libreoffice")

CLAUSES = "补充：A&B<幼儿园> 每月报送一次。"


def version_of(html: str) -> str:
    return re.search(r'name="version" value="(\d+)"', html).group(1)


def drain(runtime) -> None:
    runner = runner_for(runtime)
    assert runner is not None and runner.drain(30)


def terms_form(page: str, **changes: str) -> dict[str, str]:
    values = dict(re.findall(r'name="(term_\w+)" type="date" value="([^"]*)"', page))
    steps = dict(re.findall(r'name="(route_\w+)"[^>]*>(?:(?!</select>).)*?<option value="(\d)" selected', page, re.S))
    return {"version": version_of(page), **values, "special_clauses": "", **steps, **changes}


def test_the_member_agreement_pages_are_the_bureaus(browser, world):
    alliance = world.alliances["A"].id
    officer = browser("officer")
    page = officer.get("/agreements/alliances").text
    assert "测试联盟A" in page and "测试联盟B" in page and "为所有联盟生成缺少的协议（6 份）" in page
    page = officer.get(f"/agreements/alliances/{alliance}").text
    assert "为未签协议的成员生成协议（2 份）" in page and "A-M1 A&amp;B&lt;幼儿园&gt;" in page
    researcher = browser("researcher").get(f"/agreements/alliances/{alliance}")
    assert researcher.status_code == 200 and "生成协议" not in researcher.text
    # A refusal goes back to the page it came from with its message (the address bar keeps no action URL).
    refused = browser("researcher")
    back = refused.follow(refused.post(f"/agreements/alliances/{alliance}/generate"))
    assert back.status_code == 200 and "您无权" in back.text and "已开始" not in back.text
    for username in ("lead-a", "kg-a1"):
        b = browser(username)
        assert b.get("/agreements/alliances").status_code == 404
        assert b.get(f"/agreements/alliances/{alliance}").status_code == 404
        assert b.follow(b.post(f"/agreements/alliances/{alliance}/generate")).status_code == 404
        assert 'href="/agreements/alliances"' not in b.get("/").text
    assert officer.get("/agreements/alliances/00000000-0000-0000-0000-000000000000").status_code == 404


def test_generating_follows_a_job_and_refuses_when_nothing_is_missing(browser, runtime, world, monkeypatch):
    alliance = world.alliances["A"].id
    officer = browser("officer")
    r = officer.post(f"/agreements/alliances/{alliance}/generate")
    assert r.status_code == 303 and re.fullmatch(r"/agreements/jobs/[0-9a-f-]{36}", r.headers["location"])
    job_url = r.headers["location"]
    drain(runtime)
    fragment = officer.get(f"{job_url}/progress", headers={"HX-Request": "true"}).text
    assert "已完成" in fragment and "2/2" in fragment and "2 份已生成协议草稿" in fragment
    assert browser("lead-a").get(job_url).status_code == 404
    page = officer.get(f"/agreements/alliances/{alliance}").text
    assert "未签协议 0 所" in page and page.count("草稿") >= 2
    assert "发出本联盟全部协议草稿（2 份）" in page and f'action="/agreements/bulk/{alliance}"' in page
    again = officer.follow(officer.post(f"/agreements/alliances/{alliance}/generate"))
    assert "没有需要生成的协议" in again.text
    r = officer.post(f"/agreements/alliances/{alliance}/lead-pillar")
    assert r.status_code == 303 and r.headers["location"].endswith("/terms")
    terms = officer.get(r.headers["location"]).text
    assert 'name="route_member"' not in terms and 'name="route_lead"' in terms
    again = officer.follow(officer.post(f"/agreements/alliances/{alliance}/lead-pillar"))
    assert "已有协议" in again.text and "未重复生成" in again.text
    # A few drafts are listed one by one in the 待办; many make one line leading to the alliance's page.
    home = officer.get("/").text
    assert home.count("发出签署：") == 3 and "发出签署：龙头园与支柱园" in home
    monkeypatch.setattr(agreement_pages, "DRAFTS_LISTED_ONE_BY_ONE", 2)
    home = officer.get("/").text
    assert (
        home.count("发出签署：") == 1
        and f'href="/agreements/alliances/{alliance}">发出签署：测试联盟A的 3 份协议草稿' in home
    )


def test_terms_page_answers_next_to_each_field_and_keeps_what_was_typed(browser, draft_agreement):
    a = draft_agreement["id"]
    officer = browser("officer")
    assert browser("lead-a").get(f"/agreements/{a}/terms").status_code == 404
    assert browser("kg-a1").get(f"/agreements/{a}/terms").status_code == 404
    page = officer.get(f"/agreements/{a}/terms").text
    form = terms_form(page)
    assert form["route_member"] == "1" and form["route_bureau"] == "4"

    r = officer.post(f"/agreements/{a}/terms", {**form, "term_start": "2026-02-30", "special_clauses": CLAUSES,
                                                "route_pillar": ""})  # fmt: skip
    assert r.status_code == 200
    assert re.search(r'id="err-term_start" role="alert">协议起始日期格式不正确', r.text)
    assert re.search(r'id="err-route_pillar" role="alert">请为乙方选择签署步骤', r.text)
    assert "补充：A&amp;B&lt;幼儿园&gt; 每月报送一次。</textarea>" in r.text  # kept, escaped
    r = officer.post(f"/agreements/{a}/terms", {**form, "term_end": form["term_start"]})
    assert re.search(r'id="err-term_end" role="alert">协议期满日期须晚于起始日期', r.text)
    r = officer.post(f"/agreements/{a}/terms", {**form, "special_clauses": "长" * 4001})
    assert re.search(r'id="err-special_clauses" role="alert">特别约定不能超过 4000 字', r.text)
    r = officer.post(f"/agreements/{a}/terms", {**form, "version": "0"})
    assert r.status_code == 200 and "记录已被他人修改" in r.text

    r = officer.post(f"/agreements/{a}/terms", {**form, "special_clauses": CLAUSES, "route_lead": "1",
                                                "route_pillar": "3", "route_bureau": "3"})  # fmt: skip
    assert r.status_code == 303, r.text
    page = officer.get(f"/agreements/{a}").text
    assert "已保存协议期限" in page and "补充：A&amp;B&lt;幼儿园&gt; 每月报送一次。" in page
    assert page.count('class="route-step') == 2  # 丙方+甲方, then 乙方+监督方


def sign(b, agreement_id, **data):
    page = b.get(f"/agreements/{agreement_id}/sign").text
    return b.post(f"/agreements/{agreement_id}/sign", {"version": version_of(page), **data})


def test_signing_page_shows_the_text_and_needs_the_box_ticked(browser, runtime, draft_agreement):
    a = draft_agreement["id"]
    officer = browser("officer")
    page = officer.get(f"/agreements/{a}/terms").text
    assert officer.post(f"/agreements/{a}/terms", {**terms_form(page), "special_clauses": CLAUSES}).status_code == 303
    assert "尚未发出签署" in browser("kg-a1").get(f"/agreements/{a}/sign").text
    assert (
        officer.post(
            f"/agreements/{a}/events/send", {"version": version_of(officer.get(f"/agreements/{a}").text)}
        ).status_code
        == 303
    )
    drain(runtime)  # the final files are made after the send

    member = browser("kg-a1")
    assert f'href="/agreements/{a}/sign"' in member.get("/").text  # the 待办 opens the signing page
    page = member.get(f"/agreements/{a}/sign").text
    text = page[page.index('id="agreement-text"') : page.index("</article>")]
    assert "第十三条　特别约定" in text and "补充：A&amp;B&lt;幼儿园&gt; 每月报送一次。" in text
    assert "丙方（成员园）" in text and "签　署　页" in text
    assert page.index('id="agreement-text"') < page.index('name="pin"')  # the text comes before the PIN
    original = re.search(r'href="(/documents/[0-9a-f-]{36})/download">下载 Word 原件', page).group(1)
    # A .docx here (no LibreOffice): it downloads; asked to open it in the browser, it still downloads.
    for url in (f"{original}/download", f"{original}/view"):
        opened = member.get(url)
        assert opened.status_code == 200 and opened.headers["content-disposition"].startswith("attachment;")
    assert browser("kg-b1").get(f"{original}/view").status_code == 404
    r = sign(member, a, pin=PIN)  # not ticked
    assert r.status_code == 200
    assert re.search(r'id="err-read_confirmed" role="alert">请先阅读协议全文', r.text)
    assert "已签署" not in member.get(f"/agreements/{a}").text
    r = sign(member, a, pin="000000", read_confirmed="true")  # ticked, wrong PIN: the box stays ticked
    assert r.status_code == 403 and 'value="true" checked' in r.text
    assert browser("lead-b").get(f"/agreements/{a}/sign").status_code == 404
    lead = browser("lead-a").get(f"/agreements/{a}/sign").text
    assert "尚未轮到本方签署" in lead and 'name="pin"' not in lead

    for party in ("member", "lead", "pillar", "bureau"):
        r = sign(browser(SIGNERS[party]), a, pin=PIN, read_confirmed="true")
        assert r.status_code == 303, (party, r.text)
    page = officer.get(f"/agreements/{a}").text
    # Effective at once; the certificate of completion is made after the last signature's commit.
    assert f'href="/agreements/{a}/final"' in page and ">最终签署版<" in page
    assert 'data-certificate-status="generating">签署完成证明生成中' in page and 'hx-trigger="every 2s"' in page
    drain(runtime)
    page = officer.get(f"/agreements/{a}").text
    assert ">签署完成证明<" in page and "签署完成证明生成中" not in page and 'hx-trigger="every 2s"' not in page
    assert '<details class="card technical">' in page  # folded: no "open"
    technical = page[page.index('<details class="card technical">') :]
    assert ".p7s" in technical and "草稿" in technical
    final = browser("kg-a1").get(f"/agreements/{a}/final")
    assert final.status_code == 200 and final.content[:2] == b"PK"  # no LibreOffice here: the signed .docx
    assert "%E6%9C%80%E7%BB%88%E7%AD%BE%E7%BD%B2%E7%89%88.docx" in final.headers["content-disposition"]
    assert browser("kg-a2").get(f"/agreements/{a}/final").status_code == 404


def test_a_signer_without_a_seal_is_told_where_to_upload_it(browser, runtime, draft_agreement):
    a = draft_agreement["id"]
    officer = browser("officer")
    officer.post(f"/agreements/{a}/events/send", {"version": version_of(officer.get(f"/agreements/{a}").text)})
    drain(runtime)  # the final files are made after the send
    with runtime.db.session() as s:
        s.get(Agreement, uuid.UUID(a)).member.seal_key = None
    r = sign(browser("kg-a1"), a, pin=PIN, read_confirmed="true")
    assert r.status_code == 200 and "尚未上传印章图片" in r.text and 'href="/account"' in r.text


def test_final_version_before_completion_is_404(browser, draft_agreement):
    assert browser("officer").get(f"/agreements/{draft_agreement['id']}/final").status_code == 404


def test_withdrawal_pages_from_request_to_decision(browser, draft_agreement):
    member, officer = browser("kg-a1"), browser("officer")
    assert "申请退出联盟" in member.get("/agreements").text
    assert "不是联盟成员园" in browser("lead-a").get("/withdrawals/new").text
    r = member.post("/withdrawals", {"reason": "  "})
    assert r.status_code == 200 and re.search(r'id="err-reason" role="alert">请填写退出理由', r.text)
    r = member.post("/withdrawals", {"reason": "停办 A&B<幼儿园>"})
    assert r.status_code == 303
    url = r.headers["location"]
    page = member.get(url).text
    assert "待审核" in page and "停办 A&amp;B&lt;幼儿园&gt;" in page and "/events/cancel" in page
    assert "/events/approve" not in page
    assert "已提交退出申请" in member.get("/withdrawals/new").text  # a second one is not offered
    for username in ("kg-a2", "lead-b"):
        assert browser(username).get(url).status_code == 404
    # Everyone told can open the link of their notification.
    for username in ("officer", "lead-a", "pillar-a"):
        b = browser(username)
        assert f'href="{url}"' in b.get("/notifications").text
        assert b.get(url).status_code == 200
    assert "审核退出申请" in officer.get("/").text  # 待办

    page = officer.get(url).text
    r = officer.post(f"{url}/events/refuse", {"version": version_of(page), "comment": ""})
    assert r.status_code == 200 and re.search(r'id="ev-refuse-comment-err" role="alert">[^<]+', r.text)
    r = officer.post(f"{url}/events/approve", {"version": version_of(page), "comment": "同意"})
    assert r.status_code == 303
    page = member.get(url).text
    assert "已同意退出" in page and "联盟成员资格于" in page
    assert 'href="' + url + '"' in member.get("/notifications").text
    assert "申请退出联盟" not in member.get("/agreements").text
    assert "已同意退出" in officer.get("/withdrawals?state=approved").text
    assert "没有退出申请" in officer.get("/withdrawals?state=requested").text
