"""In a real browser, the plan's rules on the pages: the officer sets an alliance's service area
(「结合乡镇、街道区域划分」), approves an application from that town into the suggested alliance and the
applicant reads its 批复 (「经批复即可加入」), and the lead reads the members' needs beside its plan.

Screenshots at desktop and phone width; no page may log an error or scroll sideways.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from playwright.sync_api import expect

from tests.api.test_applications import FORM
from tests.e2e.conftest import LiveServer
from tests.fixtures.activities import today
from tests.fixtures.app import PASSWORD
from tests.fixtures.files import jpeg_bytes, pdf_bytes, png_bytes
from workflows.activities.semesters import ensure_semester

pytestmark = pytest.mark.slow


def _submitted_application(base: str, *, town: str) -> str:
    """kg-out applies from ``town`` through the API (the form itself has its own journey)."""
    with httpx.Client(base_url=base) as http:
        token = http.post("/api/auth/token", data={"username": "kg-out", "password": PASSWORD}).json()["access_token"]
        h = {"Authorization": f"Bearer {token}"}
        body = {
            **FORM,
            "town": town,
            "needs": ["课程", "游戏"],
            "reasons": "教师年轻，希望得到游戏组织和课程建设的指导。",
        }
        app = http.post("/api/applications", headers=h, json=body).json()
        for kind, content, name in [
            ("licence", pdf_bytes(), "许可证.pdf"),
            ("inspection", png_bytes(), "年检.png"),
            ("safety_pledge", jpeg_bytes(), "承诺书.jpg"),
        ]:
            r = http.post(f"/api/applications/{app['id']}/attachments", headers=h, data={"kind": kind},
                          files={"file": (name, content, "application/octet-stream")})  # fmt: skip
            assert r.status_code == 201, r.text
        app = http.get(f"/api/applications/{app['id']}", headers=h).json()
        r = http.post(f"/api/applications/{app['id']}/events/submit", headers=h, json={"version": app["version"]})
        assert r.status_code == 200, r.text
        return str(app["id"])


def test_service_area_批复_and_needs(person, live_server: LiveServer) -> None:
    world = live_server.world
    with live_server.runtime.db.session() as s:
        ensure_semester(session=s, code="2026-autumn", starts_on=today() - timedelta(days=30),
                        ends_on=today() + timedelta(days=90))  # fmt: skip
    alliance_b = str(world.alliances["B"].id)

    # --- the officer sets alliance B's service area -----------------------------------------------
    officer = person()
    officer.login("officer")
    page = officer.open("/registry/alliances")
    page.get_by_role("link", name="测试联盟B").first.click()
    page.wait_for_url(f"{live_server.url}/registry/alliances/{alliance_b}")
    expect(page.locator("#service-area")).to_contain_text("尚未设置服务区域")
    page.check("input[name=town][value=塘山镇]")
    page.fill("#in-other-towns", "罗家镇")
    page.get_by_role("button", name="保存服务区域").click()
    expect(page.locator(".flash")).to_contain_text("已保存测试联盟B的服务区域：塘山镇、罗家镇")
    expect(page.locator("#service-area .area")).to_have_text("塘山镇、罗家镇")
    officer.screenshot("30-alliance-service-area")
    # Alliance A may not take 罗家镇 as well: the reason stands beside the field, the ticks stay.
    page = officer.open(f"/registry/alliances/{world.alliances['A'].id}")
    page.check("input[name=town][value=罗家镇]")
    page.get_by_role("button", name="保存服务区域").click()
    expect(page.locator("#err-service-area")).to_have_text("「罗家镇」已是测试联盟B（TB）的服务区域")
    expect(page.locator("input[name=town][value=罗家镇]")).to_be_checked()
    officer.screenshot("31-alliance-service-area-taken")

    # --- an application from 罗家镇: the review suggests B; the officer approves ---------------------
    app_id = _submitted_application(live_server.url, town="罗家镇")
    page = officer.open(f"/applications/{app_id}")
    page.locator("form.event-start_review button").click()
    expect(page.locator(".page-head .state")).to_have_text("审核中")
    expect(page.locator("#ev-approve-alliance")).to_have_value(alliance_b)
    expect(page.locator("#ev-approve-alliance-help")).to_contain_text("「罗家镇」在该联盟的服务区域内")
    officer.screenshot("32-review-suggests-by-service-area")
    page.fill("#ev-approve-comment", "材料齐全，同意加入。")
    page.locator("form.event-approve button").click()
    expect(page.locator(".flash")).to_contain_text("已批准")
    expect(page.locator("#decision")).to_contain_text("青教科体成幼批〔")
    officer.screenshot("33-approved-with-批复")

    # --- the applicant is told, reads the 批复 and downloads it --------------------------------------
    kg = person()
    kg.login("kg-out")
    page = kg.open("/notifications")
    expect(page.locator(".notification").first).to_contain_text("已批准（青教科体成幼批〔")
    page.locator(".notification a").first.click()
    expect(page.locator("#decision")).to_contain_text("同意加入测试联盟B")
    # The letter and its PDF render after the approval commits; the card shows them once stored.
    expect(page.get_by_role("link", name="下载批复（PDF）")).to_be_visible(timeout=120_000)
    kg.screenshot("34-applicant-reads-批复")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载批复（PDF）").click()
    assert download.value.suggested_filename.endswith("_批复.pdf")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载批复（Word）").click()
    assert download.value.suggested_filename.endswith("_批复.docx")
    code = page.locator("#decision dd").nth(2).inner_text().split()[0]
    page = kg.open(f"/verify?code={code}")
    expect(page.locator("main")).to_contain_text("批复")
    kg.screenshot("35-批复-verified")

    # --- the lead of B plans the semester with the members' needs in view ------------------------
    lead = person()
    lead.login("lead-b")
    page = lead.open("/semester-work")
    expect(page.locator("#member-needs")).to_contain_text("课程 · 1 所")
    expect(page.locator("#member-needs")).to_contain_text("教师年轻，希望得到游戏组织和课程建设的指导。")
    lead.screenshot("36-semester-plan-with-needs")
