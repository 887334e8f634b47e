"""The plan's rules on the pages: the 批复 on the application page, the alliance's service area, and the
members' needs beside the semester plan."""

from __future__ import annotations

import re

from tests.api.test_applications import event
from tests.api.test_plan_decisions import _submit
from tests.fixtures.agreements import drain
from workers.wiring import runner_for
from workflows.applications import decisions, documents


def _approved(client, login, world, **form) -> dict:
    reviewing = _submit(client, login, world, **form)
    r = event(client, login("officer"), reviewing, "approve", alliance_id=str(world.alliances["A"].id))
    assert r.status_code == 200, r.text
    drain(client.app.state.runtime)  # the 批复 renders after the commit
    return client.get(f"/api/applications/{reviewing['id']}", headers=login("officer")).json()


def test_经批复即可加入_the_applicant_reads_and_downloads_its_批复_on_the_application_page(
    client, login, world, browser
):
    approved = _approved(client, login, world)
    decision = approved["decision"]
    b = browser("kg-out")
    page = b.get(f"/applications/{approved['id']}")
    assert page.status_code == 200
    card = page.text[page.text.index('id="decision"') :]
    assert decision["number"] in card and "同意加入测试联盟A" in card
    assert decision["verification_code"] in card
    for label, document_id in (
        ("下载批复（Word）", decision["docx_document_id"]),
        ("下载批复（PDF）", decision["pdf_document_id"]),
    ):
        assert f'href="/documents/{document_id}/download">{label}</a>' in card
        download = b.get(f"/documents/{document_id}/download")
        assert download.status_code == 200 and len(download.content) > 1000
    assert "签发批复" in page.text  # the timeline names the step


def test_结合乡镇_街道区域划分_the_officer_sets_the_service_area_on_the_alliance_page(client, world, browser):
    officer = browser("officer")
    b_id, a_id = world.alliances["B"].id, world.alliances["A"].id
    page = officer.get(f"/registry/alliances/{b_id}")
    assert page.status_code == 200 and "尚未设置服务区域" in page.text
    # Every town of the registry is offered; one the registry does not know yet is typed in.
    assert {"湖坊镇", "塘山镇", "罗家镇"} <= set(re.findall(r'name="town" value="([^"]+)"', page.text))
    saved = officer.follow(officer.post(f"/registry/alliances/{b_id}/service-area",
                                        {"town": ["塘山镇"], "other_towns": "罗家镇、京东镇"}))  # fmt: skip
    assert "已保存测试联盟B的服务区域：塘山镇、罗家镇、京东镇" in saved.text
    assert '<p class="area">塘山镇、罗家镇、京东镇</p>' in saved.text

    # A town another alliance serves: the form comes back with the reason beside it and the ticks kept.
    clash = officer.post(f"/registry/alliances/{a_id}/service-area", {"town": ["湖坊镇", "罗家镇"]})
    assert clash.status_code == 200
    assert (
        '<p class="field-error" id="err-service-area" role="alert">「罗家镇」已是测试联盟B（TB）的服务区域</p>'
        in clash.text
    )
    assert 'value="罗家镇" checked' in clash.text and 'value="湖坊镇" checked' in clash.text
    assert "（现属测试联盟B）" in clash.text
    too_long = officer.post(f"/registry/alliances/{a_id}/service-area", {"other_towns": "镇" * 51})
    assert too_long.status_code == 200 and "超过 50 个字" in too_long.text
    assert 'value="' + "镇" * 51 + '"' in too_long.text  # what was typed stays

    # Kindergartens read the area but have no form; a post of theirs changes nothing.
    lead = browser("lead-a")
    page = lead.get(f"/registry/alliances/{b_id}")
    assert page.status_code == 200 and "塘山镇、罗家镇、京东镇" in page.text and 'name="town"' not in page.text
    assert lead.post(f"/registry/alliances/{b_id}/service-area", {"town": ["湖坊镇"]}).status_code != 200
    assert "塘山镇、罗家镇、京东镇" in officer.get("/registry/alliances").text


def test_根据该联盟教师的实际需要_the_lead_sees_the_members_needs_beside_the_semester_plan(
    client, login, world, browser, semester
):
    approved = _approved(client, login, world, needs=["课程", "游戏"], reasons="教师年轻，<游戏>组织经验不足")
    lead = browser("lead-a")
    page = lead.get(f"/semester-work/{world.alliances['A'].id}?semester={semester}")
    assert page.status_code == 200
    panel = page.text[
        page.text.index('id="member-needs"') : page.text.index("</section>", page.text.index('id="member-needs"'))
    ]
    assert "课程 · 1 所" in panel and "游戏 · 1 所" in panel
    assert "教师年轻，&lt;游戏&gt;组织经验不足" in panel
    assert f'href="/applications/{approved["id"]}"' in panel
    assert "创始成员，未经入盟申请" in panel  # A-M1 and A-M2 came with the arrangement table
    # The plan's form follows the panel, so the lead writes with the needs in view.
    assert page.text.index('id="member-needs"') < page.text.index('id="plan"')
    assert lead.get(f"/applications/{approved['id']}").status_code == 200

    member = browser("kg-a1")
    assert 'id="member-needs"' not in member.get(f"/semester-work/{world.alliances['A'].id}?semester={semester}").text


def test_the_application_page_says_生成中_until_the_申请表_and_the_批复_are_stored(
    client, login, world, browser, runtime, monkeypatch
):
    renders = {documents: documents.render_docx, decisions: decisions.render_docx}

    def broken(template: str, context: dict) -> bytes:
        raise RuntimeError("renderer down")

    for module in renders:
        monkeypatch.setattr(module, "render_docx", broken)
    reviewing = _submit(client, login, world)
    r = event(client, login("officer"), reviewing, "approve", alliance_id=str(world.alliances["A"].id))
    assert r.status_code == 200, r.text
    drain(runtime)
    b = browser("kg-out")
    page = b.get(f"/applications/{reviewing['id']}")
    assert page.status_code == 200
    assert 'data-form-status="generating"' in page.text and "申请表（Word）生成中" in page.text
    assert 'data-letter-status="generating"' in page.text and "下载批复" not in page.text

    for module, render in renders.items():
        monkeypatch.setattr(module, "render_docx", render)
    runner = runner_for(runtime)
    assert runner is not None and runner.failures
    failures, runner.failures[:] = list(runner.failures), []
    for failure in failures:  # as the reconciler would send them again
        runner.submit(failure.name, **failure.kwargs)
    drain(runtime)
    page = b.get(f"/applications/{reviewing['id']}")
    assert "生成中" not in page.text
    assert "下载批复（Word）" in page.text and "加入联盟申请表（第 2 版）" in page.text
