"""In a real browser: certificates (公开课证书、讲座证书) from issue to /verify.

The lead issues certificates for the presenter of a held 公开课 (issuing again finds nobody new), the
officer countersigns them in a job with its progress, anyone verifies one on /verify by its code, and
the presenter's kindergarten finds it on 我的账号. A module of its own: its scripted year needs a
server whose semesters nobody else has made.

Every new page is photographed at desktop and phone width and may not scroll sideways; the Person
helper fails the test on any console error (a CSP violation is one) or uncaught exception.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import LiveServer
from tests.e2e.test_mentors_journey import no_raw_codes
from tests.fixtures.evaluation_year import build_year

pytestmark = pytest.mark.slow

SLOW = 90_000  # countersigning renders every certificate (.docx and PDF through LibreOffice)


def test_certificates_issued_countersigned_verified(person, live_server: LiveServer) -> None:
    build_year(live_server.runtime, live_server.world)

    lead = person()
    lead.login("lead-a")
    page = lead.page
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name=re.compile("证书")).click()
    expect(page.locator("h1")).to_have_text("公开课、讲座证书")
    expect(page.locator("#in-activity_id")).to_contain_text("公开课")
    lead.screenshot("certificates-01-issue")
    page.get_by_role("button", name="为主讲人颁发证书").click()
    expect(page.locator(".flash")).to_contain_text("等待成幼科会签")
    expect(page.locator("table.list tbody tr")).to_have_count(1)
    expect(page.locator("table.list")).to_contain_text("待会签")
    lead.screenshot("certificates-02-pending")
    page.get_by_role("button", name="为主讲人颁发证书").click()  # again: nobody new
    expect(page.locator(".flash")).to_contain_text("没有新的主讲人")

    officer = person()
    officer.login("officer")
    page = officer.open("/certificates")
    expect(page.locator("main")).to_contain_text("1 张证书待会签")
    officer.screenshot("certificates-03-countersign")
    page.get_by_role("button", name="会签全部待会签证书").click()
    expect(page.locator(".job-result")).to_contain_text("1/1", timeout=SLOW)
    officer.screenshot("certificates-04-job")
    page.locator(".job-result").get_by_role("link", name="查看证书").click()
    page.locator("table.list").get_by_role("link").first.click()
    expect(page.locator("h1")).to_contain_text("公开课证书")
    no_raw_codes(page.locator("main").inner_text())
    number = re.search(r"ZS\d{4}-\d{4}", page.locator("h1").inner_text()).group(0)
    pdf = page.get_by_role("link", name="下载证书（PDF）")
    expect(pdf).to_be_visible()
    officer.screenshot("certificates-05-detail")
    code_link = page.locator("a[href^='/verify?code=']")
    code = code_link.inner_text()

    # Anyone checks it on /verify, typing the code as printed on the certificate.
    visitor = person()
    page = visitor.open("/verify")
    page.fill("#verify-code", code)
    page.get_by_role("button", name="核验").first.click()
    expect(page.locator("main")).to_contain_text(number)
    visitor.screenshot("certificates-06-verified")

    # The presenter's kindergarten sees it on 我的账号.
    principal = person()
    principal.login("pillar-a")
    page = principal.open("/account")
    expect(page.locator("#certificates")).to_contain_text(number)
    principal.screenshot("certificates-07-account")
    page.locator("#certificates").get_by_role("link", name="公开课证书").click()
    expect(page.locator("h1")).to_contain_text(number)
