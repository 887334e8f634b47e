"""In a real browser: agreements for every member, signing as a person expects, renewal, withdrawal.

The officer generates the founding members' agreements of an alliance and its lead–pillar agreement,
edits one member's term, special clauses and route (bad input first), and sends it; each party opens
the signing page, reads the text, is refused without ticking 「我已阅读协议全文」 and signs with the
PIN; the completed agreement offers the final signed version and the certificate, the technical files
folded. The officer renews it; then the member applies to withdraw and the officer approves.

Seals and signing keys are set up through the API (the account pages are another area's); everything
after that happens in the pages.
"""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer, Person
from tests.fixtures.agreements import PIN
from tests.fixtures.app import PASSWORD
from tests.fixtures.files import png_bytes

pytestmark = pytest.mark.slow

SLOW = 90_000  # sending converts to PDF with LibreOffice; the last signature builds the certificate
CLAUSES = "丙方每学期开放半日活动一次，A&B<幼儿园> 照此执行。"


def prepare(live_server: LiveServer) -> None:
    """Seals for alliance A and the bureau, signing keys for its signers (PIN 135790)."""
    world = live_server.world
    with httpx.Client(base_url=live_server.url, timeout=60) as api:

        def token(username: str) -> dict[str, str]:
            r = api.post("/api/auth/token", data={"username": username, "password": PASSWORD})
            assert r.status_code == 200, r.text
            return {"Authorization": f"Bearer {r.json()['access_token']}"}

        officer = token("officer")
        for path in [f"/api/kindergartens/{world.kid(c)}/seal" for c in ("A-LEAD", "A-PIL", "A-M1", "A-M2")] + [
            "/api/bureau/seal"
        ]:
            r = api.put(path, headers=officer, files={"file": ("seal.png", png_bytes((120, 120)), "image/png")})
            assert r.status_code == 200, r.text
        for username in ("officer", "lead-a", "pillar-a", "kg-a1"):
            r = api.post("/api/me/signing-key", headers=token(username), json={"pin": PIN, "password": PASSWORD})
            assert r.status_code == 201, r.text


def sign(who: Person, agreement_url: str, shot: str | None = None, *, clauses: str | None = CLAUSES) -> Page:
    """Open the agreement, read its text (with ``clauses`` as its 特别约定), tick the box and sign."""
    page = who.open(agreement_url)
    page.get_by_role("link", name="阅读并签署").first.click()
    expect(page.locator("#agreement-text")).to_contain_text("联盟")
    if clauses:
        expect(page.locator("#agreement-text")).to_contain_text("特别约定")
        expect(page.locator("#agreement-text")).to_contain_text(clauses)
    original = who.context.request.get(
        who.base_url + page.get_by_role("link", name="打开 PDF 原件").get_attribute("href")
    )
    assert original.ok and original.headers["content-type"] == "application/pdf"
    assert original.headers["content-disposition"].startswith("inline;")  # opens in the browser's viewer
    if shot:
        who.screenshot(shot)
    # The PIN alone is not enough: the box must be ticked (the server refuses, nothing is tried).
    page.fill("#ev-sign-pin", PIN)
    page.locator("form.event-sign button").click()
    expect(page.locator("#err-read_confirmed")).to_contain_text("请先阅读协议全文")
    if shot:
        who.screenshot(f"{shot}-unread")
    page.get_by_label("我已阅读协议全文").check()
    page.fill("#ev-sign-pin", PIN)
    page.locator("form.event-sign button").click()
    expect(page.locator(".flash")).to_contain_text("已签署", timeout=SLOW)
    return page


def test_member_agreements_signing_renewal_and_withdrawal(person, live_server: LiveServer) -> None:
    prepare(live_server)

    # --- the officer generates the founding members' agreements -------------------------------
    officer = person()
    officer.login("officer")
    page = officer.open("/agreements/alliances")
    expect(page.locator("table.list")).to_contain_text("测试联盟A")
    officer.screenshot("60-member-agreements")
    page.get_by_role("link", name="测试联盟A").click()
    expect(page.locator(".members-table .tag-missing")).to_have_count(2)
    officer.screenshot("61-alliance-agreements")
    page.get_by_role("button", name=re.compile("为未签协议的成员生成协议")).click()
    expect(page.locator(".job-result")).to_contain_text("2/2", timeout=SLOW)
    expect(page.locator(".job-result")).to_contain_text("2 份已生成协议草稿")
    officer.screenshot("62-generation-job")

    officer.open("/agreements/bulk")
    officer.screenshot("62-bulk-send")
    page = officer.open(f"/agreements/alliances/{live_server.world.alliances['A'].id}")
    expect(page.locator(".members-table .tag-missing")).to_have_count(0)
    page.get_by_role("button", name="生成龙头园与支柱园协议").click()
    expect(page.locator(".flash")).to_contain_text("已生成龙头园与支柱园协议")
    expect(page.locator("#in-route_member")).to_have_count(0)  # no 丙方 to place in its route
    officer.screenshot("63-lead-pillar-terms")

    # --- the officer edits one member's term, clauses and route, then sends -------------------
    page = officer.open(f"/agreements/alliances/{live_server.world.alliances['A'].id}")
    page.locator(".members-table tbody tr").first.get_by_role("link").first.click()
    expect(page.locator(".page-head .state")).to_have_text("草稿")
    page.get_by_role("link", name="修改期限、特别约定和签署顺序").click()
    start = page.input_value("#in-term_start")
    page.fill("#in-term_end", start)  # ends the day it starts
    page.fill("#in-special_clauses", CLAUSES)
    page.select_option("#in-route_lead", "2")
    page.select_option("#in-route_pillar", "2")  # 会签 with the lead
    page.select_option("#in-route_bureau", "4")  # gaps close up: the bureau signs third
    page.get_by_role("button", name="保存并生成新草稿").click()
    expect(page.locator("#err-term_end")).to_contain_text("须晚于起始日期")
    expect(page.locator("#in-special_clauses")).to_have_value(CLAUSES)  # nothing typed is lost
    expect(page.locator("#in-route_bureau")).to_have_value("4")
    officer.screenshot("64-terms-error")
    year, rest = start.split("-", 1)
    page.fill("#in-term_end", f"{int(year) + 2}-{rest}")
    page.get_by_role("button", name="保存并生成新草稿").click()
    expect(page.locator(".flash")).to_contain_text("已保存协议期限")
    expect(page.locator(".route .route-step")).to_have_count(3)
    agreement_url = page.url.removeprefix(live_server.url)
    officer.screenshot("65-agreement-draft")
    page.locator("form.event-send button").click()
    expect(page.locator(".page-head .state")).to_have_text("签署中", timeout=SLOW)
    # The final .docx and PDF are made after the send (「生成中」); the page shows them once stored.
    expect(page.locator("[data-files-status=generating]")).to_have_count(0, timeout=SLOW)

    # --- the parties read and sign, in the route's order ----------------------------------------
    member = person()
    member.login("kg-a1")
    expect(member.page.locator(".todo")).to_contain_text("签署联盟协议书")
    page = member.open("/agreements")
    expect(page.get_by_role("link", name="待我签署")).to_be_visible()
    member.screenshot("66-member-agreements")
    leaders = {username: person() for username in ("lead-a", "pillar-a")}
    for username, p in leaders.items():
        p.login(username)
    early = leaders["lead-a"].open(f"{agreement_url}/sign")
    expect(early.locator(".notice")).to_contain_text("尚未轮到本方签署")
    expect(early.locator("#ev-sign-pin")).to_have_count(0)
    leaders["lead-a"].screenshot("66-sign-not-yet")
    sign(member, agreement_url, shot="66-sign-page")
    for p in leaders.values():
        sign(p, agreement_url)
    page = sign(officer, agreement_url)
    expect(page.locator(".page-head .state")).to_have_text("已生效")

    # --- completed: the final version and the certificate up front, the rest folded -------------
    expect(page.locator(".final-download")).to_have_text("最终签署版")
    expect(page.locator(".certificate-download")).to_have_text("签署完成证明")
    technical = page.locator("details.technical")
    expect(technical).not_to_have_attribute("open", "")
    expect(technical.locator("a[href$='/download']").first).to_be_hidden()
    officer.screenshot("67-agreement-completed")
    with page.expect_download() as final:
        page.locator(".final-download").click()
    assert final.value.suggested_filename.endswith(".pdf")
    technical.locator("summary").click()
    expect(technical).to_contain_text(".p7s")

    # --- renewal: the next term, the first one kept ------------------------------------------------
    page.locator("form.event-renew button").click()
    expect(page.locator(".flash")).to_contain_text("第 2 期")
    officer.screenshot("68-renewal-terms")
    page.get_by_role("link", name="返回协议详情").click()
    expect(page.locator(".terms li")).to_have_count(2)
    officer.screenshot("69-renewal-history")
    page.locator(".terms li").first.get_by_role("link").click()
    expect(page.locator(".page-head .state")).to_have_text("已生效")

    # --- the member applies to withdraw; the officer approves ------------------------------------
    page = member.open(agreement_url)
    page.get_by_role("link", name="申请退出联盟").click()
    page.get_by_role("button", name="提交退出申请").click()
    expect(page.locator("#err-reason")).to_contain_text("请填写退出理由")
    member.screenshot("70-withdrawal-form-error")
    page.fill("#in-reason", "本园明年起转为托育机构，无法继续参加联盟活动。")
    page.get_by_role("button", name="提交退出申请").click()
    expect(page.locator(".flash")).to_contain_text("已提交退出申请")
    expect(page.locator(".page-head .state")).to_have_text("待审核")
    member.screenshot("71-withdrawal-requested")

    page = officer.open("/")
    page.locator(".todo").get_by_role("link", name=re.compile("审核退出申请")).click()
    page.fill("#ev-approve-comment", "同意退出，请于月底前移交联盟资料。")
    page.locator("form.event-approve button").click()
    expect(page.locator(".page-head .state")).to_have_text("已同意退出")
    expect(page.locator("main")).to_contain_text("已终止")
    expect(page.locator("main")).to_contain_text("已作废")  # the renewal's draft
    officer.screenshot("72-withdrawal-approved")
    officer.open("/withdrawals")
    officer.screenshot("73-withdrawals")

    page = member.open("/notifications")
    page.get_by_role("link", name=re.compile("申请已同意")).first.click()
    expect(page.locator(".notice")).to_contain_text("联盟成员资格于")
    page = member.open(agreement_url)
    expect(page.locator(".page-head .state")).to_have_text("已终止")
    member.screenshot("74-member-agreement-terminated")
