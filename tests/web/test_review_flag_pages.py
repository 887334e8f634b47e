"""动态管理 on the page: the officer decides each flag; a removal is carried out — the member's agreement
ends through the agreement workflow and its membership ends, both kept with their history."""

from __future__ import annotations

import html
import re
import uuid

import pytest
from sqlalchemy import select

from tests.fixtures.agreements import approved_application
from tests.fixtures.evaluation_year import YEAR, build_year
from workflows import audit
from workflows.agreements import service as agreements
from workflows.agreements.models import Agreement
from workflows.registry.models import Membership


def _event(client, who, e, event, **body):
    r = client.post(f"/api/evaluations/{e['id']}/events/{event}", headers=who, json={"version": e["version"], **body})
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
def flagged(client, login, runtime, world):
    """Alliance A's 2026 evaluation published 不合格, A-M2 never attended; A-M2 has a draft agreement."""
    build_year(runtime, world)
    opened = client.post("/api/evaluations/open", headers=login("officer"), json={"year": YEAR}).json()
    a = next(e for e in opened if e["alliance_code"] == "TA")
    own = [{"key": "outcomes", "score": 12}, {"key": "safety", "score": 5}, {"key": "bonus", "score": 3}]
    a = _event(client, login("lead-a"), a, "self_assess", items=own)
    a = _event(client, login("researcher"), a, "score", scores=[{"key": "outcomes", "score": 0, "comment": "无"}])
    scores = [{"key": "safety", "score": 0, "comment": "无"}, {"key": "bonus", "score": 0, "comment": "无"}]
    a = _event(client, login("officer"), a, "score", scores=scores)
    _event(client, login("officer"), a, "publish")
    application_id = approved_application(runtime, world, "A-M2")
    with runtime.db.session() as s:
        agreement = agreements.create_from_application(
            session=s, settings=runtime.settings, objects=runtime.objects, application_id=uuid.UUID(application_id)
        )
        return agreement.id


def _flag_ids(page: str) -> dict[str, str]:
    """Flag id by the name the flag is about."""
    return {
        html.unescape(name): fid
        for fid, name in re.findall(r'id="flag-([0-9a-f-]{36})".*?<strong>([^<]+)</strong>', page, re.S)
    }


def test_the_officer_removes_a_member_and_the_removal_is_carried_out(browser, flagged, runtime, world):
    officer = browser("officer")
    page = officer.get("/review-flags").text
    flags = _flag_ids(page)
    member = world.kindergartens["A-M2"].name
    assert set(flags) == {member, world.alliances["A"].name}
    assert page.count('action="/review-flags/') == 2
    researcher = browser("researcher").get("/review-flags")
    assert researcher.status_code == 200 and 'action="/review-flags/' not in researcher.text
    assert browser("lead-a").get("/review-flags").status_code == 404

    url = f"/review-flags/{flags[member]}/decide"
    r = officer.post(url, {"version": "1", "decision": "remove", "comment": "  "})
    assert r.status_code == 200 and re.search(r'id="err-comment-[^"]+" role="alert">请写明决定的理由', r.text)
    assert 'value="remove" checked' in r.text  # the choice made stays
    r = officer.post(url, {"version": "1", "decision": "expel", "comment": "x"})
    assert r.status_code == 200 and "请选择保留、约谈提醒或调整出联盟" in r.text
    alliance_wide = f"/review-flags/{flags[world.alliances['A'].name]}/decide"
    r = officer.post(alliance_wide, {"version": "1", "decision": "remove", "comment": "不合格"})
    assert r.status_code == 200 and "不能「调整出联盟」" in r.text
    refused = browser("researcher").post(url, {"version": "1", "decision": "warn", "comment": "x"})
    assert refused.status_code == 303  # not the officer's: back with the message

    r = officer.post(url, {"version": "1", "decision": "remove", "comment": "全年未参加联盟活动，经约谈仍未改正"})
    assert r.status_code == 303, r.text
    done = officer.follow(r).text
    assert "成员资格已终止" in done and "已执行" in done
    with runtime.db.session() as s:
        membership = s.scalar(select(Membership).where(Membership.kindergarten_id == world.kindergartens["A-M2"].id))
        assert membership is not None and membership.ended_on is not None  # ended, kept
        agreement = s.get(Agreement, flagged)
        assert agreement is not None and agreement.state == "voided"
        events = [e.event for e in audit.history(s, entity_type="agreement", entity_id=agreement.id)]
        assert events[-1] == "void"
    again = officer.post(url, {"version": "2", "decision": "keep", "comment": "x"})
    assert again.status_code == 303 and "已于" in officer.follow(again).text


def test_keep_and_warn_are_recorded_without_touching_the_membership(browser, flagged, runtime, world):
    officer = browser("officer")
    flags = _flag_ids(officer.get("/review-flags").text)
    r = officer.post(f"/review-flags/{flags[world.kindergartens['A-M2'].name]}/decide",
                     {"version": "1", "decision": "warn", "comment": "约谈园长"})  # fmt: skip
    assert r.status_code == 303
    assert "约谈提醒" in officer.follow(r).text
    with runtime.db.session() as s:
        membership = s.scalar(select(Membership).where(Membership.kindergarten_id == world.kindergartens["A-M2"].id))
        assert membership is not None and membership.ended_on is None
