"""In a real browser, after an approval: the four parties sign the alliance agreement in order with
their PINs, a visitor verifies it by its code; then the lead plans an activity, announces and holds
it, records attendance, uploads materials and downloads the archive bundle.

The approved application, the seals and the signing keys are set up through the services and the
API (as ``tests/fixtures/agreements.py`` does); everything after that happens in the pages.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import LiveServer
from tests.fixtures.activities import SEMESTER, today
from tests.fixtures.agreements import PIN, SIGNERS, approved_application
from tests.fixtures.app import PASSWORD
from tests.fixtures.files import pdf_bytes, png_bytes
from workflows.activities.semesters import ensure_semester
from workflows.agreements import service

pytestmark = pytest.mark.slow


def prepare(live_server: LiveServer) -> str:
    """Seals, signing keys, a semester and the draft agreement of A-M1's approved application."""
    runtime, world = live_server.runtime, live_server.world
    with httpx.Client(base_url=live_server.url, timeout=60) as api:

        def token(username: str) -> dict[str, str]:
            r = api.post("/api/auth/token", data={"username": username, "password": PASSWORD})
            assert r.status_code == 200, r.text
            return {"Authorization": f"Bearer {r.json()['access_token']}"}

        officer = token("officer")
        seal = png_bytes((120, 120))
        for path in [f"/api/kindergartens/{world.kid(c)}/seal" for c in ("A-LEAD", "A-PIL", "A-M1")] + [
            "/api/bureau/seal"
        ]:
            r = api.put(path, headers=officer, files={"file": ("seal.png", seal, "image/png")})
            assert r.status_code == 200, r.text
        for username in SIGNERS.values():
            r = api.post("/api/me/signing-key", headers=token(username), json={"pin": PIN, "password": PASSWORD})
            assert r.status_code == 201, r.text
    with runtime.db.session() as s:
        ensure_semester(
            session=s, code=SEMESTER, starts_on=today() - timedelta(days=60), ends_on=today() + timedelta(days=60)
        )
    application_id = approved_application(runtime, world, "A-M1")
    with runtime.db.session() as s:
        agreement = service.create_from_application(
            session=s, settings=runtime.settings, objects=runtime.objects, application_id=uuid.UUID(application_id)
        )
        return str(agreement.id)


def test_sign_verify_then_run_an_activity(person, live_server: LiveServer, tmp_path: Path) -> None:
    agreement_id = prepare(live_server)
    url = f"/agreements/{agreement_id}"

    # --- the officer sends the agreement for signing -------------------------------------------
    officer = person()
    officer.login("officer")
    expect(officer.page.locator(".todo")).to_contain_text("发出签署")
    page = officer.open("/agreements")
    expect(page.locator("table.list tbody tr")).to_have_count(1)
    officer.screenshot("30-agreements")
    page.locator("table.list tbody a").first.click()
    page.locator("form.event-send button").click()
    expect(page.locator(".flash")).to_contain_text("已发出签署")
    expect(page.locator(".page-head .state")).to_have_text("签署中")
    # The final .docx and PDF are made after the send (「生成中」); the page shows them once stored.
    expect(page.locator("[data-files-status=generating]")).to_have_count(0, timeout=180_000)

    # --- the four parties sign in order ----------------------------------------------------------
    signers = {"officer": officer}
    for party in ("member", "lead", "pillar", "bureau"):
        username = SIGNERS[party]
        if username not in signers:
            signers[username] = person()
            signers[username].login(username)
            expect(signers[username].page.locator(".todo")).to_contain_text("签署联盟协议书")
        who = signers[username]
        p = who.open(f"{url}/sign")
        p.get_by_label("我已阅读协议全文").check()
        if party == "member":
            p.fill("#ev-sign-pin", "000000")
            p.locator("form.event-sign button").click()
            expect(p.locator("#ev-sign-pin-err")).to_contain_text("签名密码错误")
            who.problems.clear()  # the refused signature answers 403, which the browser logs
            who.screenshot("31-agreement-sign")
        p.fill("#ev-sign-pin", PIN)
        p.get_by_label("我已阅读协议全文").check()
        p.locator("form.event-sign button").click()
        expect(p.locator(".flash")).to_contain_text("已签署")
    expect(officer.page.locator(".page-head .state")).to_have_text("已生效")
    expect(officer.page.locator(".route .check-ok")).to_have_count(4)
    officer.screenshot("32-agreement-effective")
    with officer.page.expect_download() as download:
        officer.page.locator(".final-download").click()
    assert download.value.suggested_filename

    code = re.search(r"code=([A-Z0-9-]+)", officer.page.locator("a[href^='/verify?code=']").get_attribute("href"))
    visitor = person()
    v = visitor.open("/verify")
    v.fill("#verify-code", code.group(1))
    v.locator("form[action='/verify']:not([enctype]) button").click()
    expect(v.locator(".notice")).to_contain_text("核验通过")
    visitor.screenshot("33-verify-ok")

    # The certificate of completion, as the officer downloads it, verifies too, and the page says how.
    with officer.page.expect_download() as download:
        officer.page.locator(".certificate-download").click()
    certificate = tmp_path / (download.value.suggested_filename or "签署完成证明.pdf")
    download.value.save_as(certificate)
    v = visitor.open("/verify")
    v.set_input_files("#verify-file", str(certificate))
    v.locator("form[action='/verify'][enctype] button").click()
    expect(v.locator(".notice")).to_contain_text("核验通过")
    expect(v.locator(".notice")).to_contain_text("按登记的指纹核验")
    expect(v.locator(".notice")).not_to_contain_text("个签名")
    visitor.screenshot("34-verify-certificate")

    # --- the lead runs an activity ---------------------------------------------------------------
    lead = signers["lead-a"]
    page = lead.open("/activities")
    lead.screenshot("40-activities")
    page.get_by_role("link", name="新建活动").click()
    page.fill("#in-topic", "自主游戏中的观察与支持")
    page.select_option("#in-domain", "游戏")
    page.select_option("#in-format", "集中研讨")
    start = datetime.combine(today() - timedelta(days=2), datetime.min.time()).replace(hour=9)
    page.fill("#in-starts_at", start.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#in-place", "龙头园多功能厅")
    lead.screenshot("41-activity-new")
    page.get_by_role("button", name="创建活动").click()
    expect(page.locator(".flash")).to_contain_text("已创建活动")
    activity_url = page.url.removeprefix(live_server.url)
    allowing = officer.open(activity_url)  # two days ago: announced after the fact, with the section's leave
    allowing.fill("#in-reason", "事后补录")
    allowing.get_by_role("button", name="准许逾期通报").click()
    expect(allowing.locator(".flash")).to_contain_text("已准许逾期通报")
    page = lead.open(activity_url)
    page.locator("form.event-announce button").click()
    expect(page.locator(".page-head .state")).to_have_text("已通报")
    page.locator("form.event-hold button").click()
    expect(page.locator(".page-head .state")).to_have_text("已举行")
    page.get_by_role("button", name="全部出席").click()
    expect(page.locator(".flash")).to_contain_text("已全部记为出席")

    files = {
        "lesson_plan": ("教案.pdf", pdf_bytes("plan")),
        "media": ("活动照片.png", png_bytes((640, 480), "#e8f0d9")),
        "sign_in": ("签到表.pdf", pdf_bytes("sign-in")),
    }
    for category, (name, content) in files.items():
        path = tmp_path / name
        path.write_bytes(content)
        page.select_option("#in-category", category)
        page.locator("#in-material").set_input_files(path)
        page.locator("#materials form.upload button[type=submit]").click()
        expect(page.locator("#materials .documents")).to_contain_text(name)
    expect(page.locator(".completeness")).to_contain_text("✓ 签到表")
    lead.screenshot("42-activity-materials")
    with page.expect_download() as sheet:
        page.get_by_role("link", name="下载签到表").click()
    assert sheet.value.suggested_filename

    page.locator("form.event-archive button").click()
    expect(page.locator(".page-head .state")).to_have_text("已归档")
    link = page.get_by_role("link", name="下载档案包")
    expect(link).to_be_visible(timeout=60_000)  # the page polls until the runner has packed it
    lead.screenshot("43-activity-archived")
    with page.expect_download() as bundle:
        link.click()
    saved = tmp_path / "bundle.zip"
    bundle.value.save_as(saved)
    assert saved.read_bytes()[:2] == b"PK"

    # --- the overviews -----------------------------------------------------------------------------
    page = officer.open("/dashboards")
    expect(page.locator("table.list").first).to_contain_text("测试联盟A")
    officer.screenshot("50-dashboard-district")
    page = lead.open("/dashboards")
    expect(page.locator("h1")).to_contain_text("测试联盟A")
    lead.screenshot("51-dashboard-alliance")
    officer.open("/evaluations")
    officer.screenshot("52-evaluations")
