"""The officer's bulk generate-and-send page: starting the job per alliance, its progress, its errors."""

from __future__ import annotations

import re

import pytest

from tests.fixtures.agreements import approved_application
from workers.wiring import runner_for
from workflows import jobs
from workflows.agreements import bulk

pytestmark = pytest.mark.usefixtures("without_libreoffice")


def test_officer_sends_an_alliances_agreements_and_follows_the_job(browser, runtime, signing_world):
    world = signing_world
    approved_application(runtime, world, "A-M1")  # seals and keys ready: sent
    approved_application(runtime, world, "A-M2")  # no seal for A-M2: an error of its own
    officer = browser("officer")
    page = officer.get("/agreements/bulk").text
    alliance = world.alliances["A"].id
    assert "批量生成并发送协议" in page and f"/agreements/bulk/{alliance}" in page
    assert 'href="/agreements/bulk"' in officer.get("/agreements/alliances").text
    assert 'href="/agreements/alliances"' in officer.get("/").text  # 成员协议 in the menu leads there

    r = officer.post(f"/agreements/bulk/{alliance}")
    assert r.status_code == 303, r.text
    job_url = r.headers["location"]
    assert re.fullmatch(r"/agreements/bulk/jobs/[0-9a-f-]{36}", job_url)

    runner = runner_for(runtime)
    assert runner is not None
    for _ in range(30):
        assert runner.drain(30)
        fragment = officer.get(f"{job_url}/progress", headers={"HX-Request": "true"}).text
        if "hx-trigger" not in fragment:
            break
    else:
        pytest.fail("the job did not finish")
    assert "已完成" in fragment and "2/2" in fragment
    assert "SQ2026-A-M2" in fragment and "SQ2026-A-M1" not in fragment  # only the failed item is listed
    page = officer.get(job_url).text
    assert "2/2" in page and "出错的园所" in page
    assert "SQ2026-A-M1" not in page
    assert "签署中" in officer.get("/agreements?state=signing").text


def test_an_unfinished_job_polls_with_the_awaiting_macro(browser, runtime, world):
    with runtime.db.session() as s:  # a queued job no worker has picked up yet
        job = jobs.create_job(
            session=s, kind=bulk.JOB_KIND, items=[{"id": "x", "label": "一园"}],
            created_by=world.users["officer"].id, params={"alliance_id": str(world.alliances["A"].id)},
        )  # fmt: skip
        job_url = f"/agreements/bulk/jobs/{job.id}"
    officer = browser("officer")
    fragment = officer.get(f"{job_url}/progress", headers={"HX-Request": "true"}).text
    assert 'class="awaiting"' in fragment and f'hx-get="{job_url}/progress"' in fragment
    assert "排队中" in fragment and "0/1" in fragment
    page = officer.get(job_url).text
    assert "测试联盟A" in page and 'class="awaiting"' in page


@pytest.mark.parametrize("username", ["kg-a1", "lead-a", "researcher", "admin"])
def test_others_get_404(browser, runtime, signing_world, username):
    approved_application(runtime, signing_world, "A-M1")
    officer = browser("officer")
    job_url = officer.post(f"/agreements/bulk/{signing_world.alliances['A'].id}").headers["location"]
    runner = runner_for(runtime)
    assert runner is not None and runner.drain(30)
    b = browser(username)
    assert b.get("/agreements/bulk").status_code == 404
    assert b.follow(b.post(f"/agreements/bulk/{signing_world.alliances['A'].id}")).status_code == 404
    assert b.get(job_url).status_code == 404
    assert b.get(f"{job_url}/progress").status_code == 404
    assert 'href="/agreements/bulk"' not in b.get("/").text


def test_starting_needs_the_csrf_token(browser, signing_world):
    officer = browser("officer")
    r = officer.client.post(f"/agreements/bulk/{signing_world.alliances['A'].id}", follow_redirects=False)
    assert r.status_code == 403 and "页面已过期" in r.text
