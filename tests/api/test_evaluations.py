"""The annual evaluation through the HTTP API: opening, roles, scoring, the veto, publication, flags."""

from __future__ import annotations

import copy

import pytest

from tests.fixtures.evaluation_year import AUTO_TOTAL_A, AUTO_TOTAL_B, EXPECTED_A, YEAR, build_year
from workflows.evaluations.scheme import DEFAULT_ITEMS

MANUAL_SELF = [{"key": "outcomes", "score": 12}, {"key": "safety", "score": 5}, {"key": "bonus", "score": 3}]


@pytest.fixture
def year(runtime, world):
    return build_year(runtime, world)


@pytest.fixture
def opened(client, login, year):
    r = client.post("/api/evaluations/open", headers=login("officer"), json={"year": YEAR})
    assert r.status_code == 201, r.text
    return {e["alliance_code"]: e for e in r.json()}


def event(client, headers, evaluation, name, **body):
    return client.post(
        f"/api/evaluations/{evaluation['id']}/events/{name}",
        headers=headers,
        json={"version": evaluation["version"], **body},
    )


def ok(response):
    assert response.status_code == 200, response.text
    return response.json()


def items(evaluation):
    return {i["key"]: i for i in evaluation["items"]}


def test_open_computes_the_automatic_items_for_every_alliance(opened):
    a, b = opened["TA"], opened["TB"]
    assert (a["state"], a["version"], a["number"]) == ("draft", 1, "KP2026-TA")
    assert {k: i["computed"] for k, i in items(a).items() if i["assessor"] == "auto"} == EXPECTED_A
    assert (a["total"], b["total"]) == (AUTO_TOTAL_A, AUTO_TOTAL_B)
    assert set(a["pending_items"]) == {"outcomes", "safety", "bonus"}
    assert items(a)["attendance"]["evidence"] and items(a)["outcomes"]["evidence"] == []


def test_only_the_officer_opens_and_only_once(client, login, year):
    for username in ("researcher", "lead-a", "kg-a1"):
        assert client.post("/api/evaluations/open", headers=login(username), json={"year": YEAR}).status_code == 403
    no_semesters = client.post("/api/evaluations/open", headers=login("officer"), json={"year": 2031})
    assert no_semesters.status_code == 422 and no_semesters.json()["errors"][0]["field"] == "year"
    assert client.post("/api/evaluations/open", headers=login("officer"), json={"year": YEAR}).status_code == 201
    again = client.post("/api/evaluations/open", headers=login("officer"), json={"year": YEAR})
    assert again.status_code == 409 and again.json()["code"] == "already_open"


def test_an_alliance_sees_only_its_own_evaluation(client, login, opened):
    a = opened["TA"]
    assert client.get(f"/api/evaluations/{a['id']}", headers=login("lead-a")).status_code == 200
    assert client.get(f"/api/evaluations/{a['id']}", headers=login("kg-a2")).status_code == 200
    for outsider in ("lead-b", "kg-b1", "kg-out"):
        assert client.get(f"/api/evaluations/{a['id']}", headers=login(outsider)).status_code == 404
        assert event(client, login(outsider), a, "self_assess", items=MANUAL_SELF).status_code == 404
    assert [e["alliance_code"] for e in client.get("/api/evaluations", headers=login("lead-a")).json()] == ["TA"]
    assert [e["alliance_code"] for e in client.get("/api/evaluations", headers=login("kg-out")).json()] == []
    listed = client.get("/api/evaluations", params={"year": YEAR}, headers=login("researcher")).json()
    assert [e["alliance_code"] for e in listed] == ["TA", "TB"]


def _results(client, headers, evaluation, world):
    """Total and grade as one caller gets them from every API output: detail, list, history, dashboard."""
    detail = ok(client.get(f"/api/evaluations/{evaluation['id']}", headers=headers))
    listed = next(e for e in ok(client.get("/api/evaluations", headers=headers)) if e["id"] == evaluation["id"])
    history = ok(client.get(f"/api/evaluations/{evaluation['id']}/history", headers=headers))
    board = ok(client.get(f"/api/dashboards/alliances/{world.alliances['A'].id}", params={"year": YEAR},
                          headers=headers))["evaluation"]  # fmt: skip
    return {
        "detail": (detail["total"], detail["grade"]),
        "list": (listed["total"], listed["grade"]),
        "history": [h["data"].get("total") for h in history if h["event"] == "open"],
        "dashboard": (board["total"], board["grade"]),
    }


def test_total_and_grade_are_the_bureaus_until_publication(client, login, opened, world):
    a = opened["TA"]
    hidden = {"detail": (None, None), "list": (None, None), "history": [None], "dashboard": (None, None)}
    running = (AUTO_TOTAL_A, "不合格")
    for username in ("lead-a", "pillar-a", "kg-a1"):
        assert _results(client, login(username), a, world) == hidden, username
    for username in ("officer", "researcher", "admin"):
        seen = _results(client, login(username), a, world)
        assert seen == {"detail": running, "list": running, "history": [AUTO_TOTAL_A], "dashboard": running}
    a = ok(event(client, login("lead-a"), a, "self_assess", items=MANUAL_SELF))
    assert (a["total"], a["grade"]) == (None, None)  # the lead's own event answers without the result too
    a = ok(event(client, login("researcher"), a, "score", scores=[{"key": "outcomes", "score": 12}]))
    a = ok(event(client, login("officer"), a, "score", scores=[{"key": "safety", "score": 5},
                                                              {"key": "bonus", "score": 3}]))  # fmt: skip
    assert a["state"] == "scored" and a["total"] is not None
    for username in ("lead-a", "kg-a2"):
        assert _results(client, login(username), a, world) == hidden, username
    a = ok(event(client, login("officer"), a, "publish"))
    result = (a["total"], a["grade"])
    for username in ("lead-a", "pillar-a", "kg-a1"):
        seen = _results(client, login(username), a, world)
        assert seen == {"detail": result, "list": result, "history": [AUTO_TOTAL_A], "dashboard": result}


def test_the_workflow_checks_role_state_version_and_fields(client, login, opened):
    a = opened["TA"]
    assert event(client, login("researcher"), a, "self_assess", items=MANUAL_SELF).status_code == 403
    assert event(client, login("lead-a"), a, "score", scores=[{"key": "outcomes", "score": 1}]).status_code == 403
    assert event(client, login("officer"), a, "publish").status_code == 409  # still a draft
    assert event(client, login("officer"), a, "no_such_event").status_code == 409
    missing = event(client, login("lead-a"), a, "self_assess", items=[{"key": "outcomes", "score": 12}])
    assert missing.status_code == 422
    assert {e["field"] for e in missing.json()["errors"]} == {"items.safety", "items.bonus"}
    too_high = event(client, login("lead-a"), a, "self_assess", items=[*MANUAL_SELF[:2], {"key": "bonus", "score": 11}])
    assert too_high.status_code == 422 and too_high.json()["errors"][0]["field"] == "items.2.score"

    a = ok(event(client, login("lead-a"), a, "self_assess", items=MANUAL_SELF, comment="本年度自评：基本完成"))
    assert (a["state"], a["version"], a["self_remarks"]) == ("self_assessed", 2, "本年度自评：基本完成")
    assert items(a)["outcomes"]["self_score"] == 12 and items(a)["attendance"]["self_score"] == 4.0
    assert event(client, login("lead-a"), a, "self_assess", items=MANUAL_SELF).status_code == 409
    stale = {**a, "version": 1}
    assert event(client, login("officer"), stale, "score", scores=[{"key": "safety", "score": 5}]).status_code == 409


def test_each_scorer_scores_their_own_items_and_a_departure_needs_a_reason(client, login, opened):
    a = ok(event(client, login("lead-a"), opened["TA"], "self_assess", items=MANUAL_SELF))
    researcher, officer = login("researcher"), login("officer")
    refused = event(client, researcher, a, "score", scores=[{"key": "safety", "score": 5}])
    assert refused.status_code == 403 and "成幼科" in refused.json()["message"]
    assert event(client, officer, a, "score", scores=[{"key": "outcomes", "score": 12}]).status_code == 403
    no_reason = event(client, researcher, a, "score", scores=[{"key": "outcomes", "score": 10}])
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "scores.0.comment"
    a = ok(event(client, researcher, a, "score", scores=[{"key": "outcomes", "score": 10, "comment": "获奖材料不足"}]))
    assert a["state"] == "self_assessed" and set(a["pending_items"]) == {"safety", "bonus"}
    # Overriding a computed item is the officer's, with a reason.
    override = [{"key": "attendance", "score": 6}]
    assert event(client, officer, a, "score", scores=override).status_code == 422
    assert event(client, researcher, a, "score", scores=override).status_code == 403
    veto_elsewhere = event(
        client, officer, a, "score", scores=[{"key": "bonus", "score": 0, "veto": True, "comment": "x"}]
    )
    assert veto_elsewhere.status_code == 422 and veto_elsewhere.json()["errors"][0]["code"] == "not_veto_item"
    a = ok(event(client, officer, a, "score", scores=[{**override[0], "comment": "两次请假经核实为公派"}]))
    assert items(a)["attendance"]["final"] == 6 and items(a)["attendance"]["computed"] == 4
    a = ok(event(client, officer, a, "score", scores=[{"key": "safety", "score": 0, "comment": "未报送安全预案"},
                                                        {"key": "bonus", "score": 0, "comment": "无"}]))  # fmt: skip
    assert a["state"] == "scored" and a["pending_items"] == []
    assert a["total"] == round(AUTO_TOTAL_A + 2 + 10, 1) == 62.1 and a["grade"] == "合格"
    # Corrections stay possible until publication.
    a = ok(
        event(client, researcher, a, "score", scores=[{"key": "outcomes", "score": 0, "comment": "复核：无成效材料"}])
    )
    assert (a["state"], a["total"], a["grade"]) == ("scored", 52.1, "不合格")
    assert a["allowed_events"] == ["score"]  # the researcher's; the officer's include publishing
    assert client.get(f"/api/evaluations/{a['id']}", headers=officer).json()["allowed_events"] == [
        "score",
        "recompute",
        "publish",
    ]
    history = client.get(f"/api/evaluations/{a['id']}/history", headers=login("lead-a")).json()
    assert [h["event"] for h in history] == ["open", "self_assess", "score", "score", "score", "score"]


def _score_b(client, login, b, *, veto: bool):
    b = ok(event(client, login("lead-b"), b, "self_assess", items=[{"key": "outcomes", "score": 15},
                                                                  {"key": "safety", "score": 5},
                                                                  {"key": "bonus", "score": 2}]))  # fmt: skip
    b = ok(event(client, login("researcher"), b, "score", scores=[{"key": "outcomes", "score": 15}]))
    safety = {"key": "safety", "score": 5, "veto": veto, "comment": "6 月发生幼儿走失的重大安全事故" if veto else ""}
    return ok(event(client, login("officer"), b, "score", scores=[safety, {"key": "bonus", "score": 2}]))


def test_ninety_and_above_is_excellent(client, login, opened):
    b = _score_b(client, login, opened["TB"], veto=False)
    assert (b["state"], b["total"], b["grade"], b["vetoed"]) == ("scored", 100.8, "优秀", False)


def test_a_major_incident_vetoes_excellent(client, login, opened):
    b = _score_b(client, login, opened["TB"], veto=True)
    assert (b["total"], b["grade"], b["vetoed"]) == (100.8, "良好", True)
    without_reason = event(client, login("officer"), b, "score", scores=[{"key": "safety", "score": 5, "veto": True}])
    assert without_reason.status_code == 422
    b = ok(event(client, login("officer"), b, "publish", comment="安全事故一票否决优秀"))
    assert (b["state"], b["grade"]) == ("published", "良好")


def test_publication_locks_notifies_flags_and_stores_the_form(client, login, opened, runtime, world):
    a = ok(event(client, login("lead-a"), opened["TA"], "self_assess", items=MANUAL_SELF))
    a = ok(event(client, login("researcher"), a, "score", scores=[{"key": "outcomes", "score": 0, "comment": "无"}]))
    a = ok(event(client, login("officer"), a, "score", scores=[{"key": "safety", "score": 0, "comment": "无"},
                                                              {"key": "bonus", "score": 0, "comment": "无"}]))  # fmt: skip
    assert event(client, login("lead-a"), a, "publish").status_code == 403
    a = ok(event(client, login("officer"), a, "publish", comment="限期整改"))
    assert (a["state"], a["total"], a["grade"], a["allowed_events"]) == ("published", AUTO_TOTAL_A, "不合格", [])
    for name, body in [("recompute", {}), ("score", {"scores": [{"key": "bonus", "score": 1, "comment": "x"}]}),
                       ("publish", {}), ("self_assess", {"items": MANUAL_SELF})]:  # fmt: skip
        assert (
            event(client, login("officer" if name != "self_assess" else "lead-a"), a, name, **body).status_code == 409
        )
    notices = client.get("/api/notifications", headers=login("kg-a1")).json()
    assert any(n["kind"] == "evaluation.published" and "不合格" in n["title"] for n in notices)
    documents = client.get(f"/api/evaluations/{a['id']}/documents", headers=login("lead-a")).json()
    assert [d["kind"] for d in documents] == ["evaluation_form"]
    assert client.get(f"/api/documents/{documents[0]['id']}", headers=login("lead-b")).status_code == 404

    flags = client.get("/api/review-flags", params={"year": YEAR}, headers=login("officer")).json()
    assert sorted((f["reason"], f["kindergarten_name"]) for f in flags) == [
        ("failed_grade", ""),
        ("never_attended", world.kindergartens["A-M2"].name),
    ]
    assert client.get("/api/review-flags", headers=login("lead-a")).json() == []
    flag = next(f for f in flags if f["reason"] == "never_attended")
    decide = f"/api/review-flags/{flag['id']}/decide"
    body = {"version": flag["version"], "decision": "warn", "comment": "约谈园长，下学期须参加活动"}
    assert client.post(decide, headers=login("lead-a"), json=body).status_code == 404
    assert client.post(decide, headers=login("researcher"), json=body).status_code == 403
    assert client.post(decide, headers=login("officer"), json={**body, "comment": ""}).status_code == 422
    assert client.post(decide, headers=login("officer"), json={**body, "decision": "expel"}).status_code == 422
    decided = client.post(decide, headers=login("officer"), json=body)
    assert decided.status_code == 200, decided.text
    assert (decided.json()["decision_label"], decided.json()["decided_by"]) == ("约谈提醒", "officer")
    again = client.post(decide, headers=login("officer"), json={**body, "version": decided.json()["version"]})
    assert again.status_code == 409
    open_flags = client.get("/api/review-flags", params={"open_only": True}, headers=login("officer")).json()
    assert [f["reason"] for f in open_flags] == ["failed_grade"]


@pytest.mark.parametrize("per_semester", [0, 1])
def test_the_evaluation_cannot_ask_fewer_than_two_a_semester_每学期集中研讨活动不少于2次(
    client, login, year, per_semester
):
    items_ = copy.deepcopy(DEFAULT_ITEMS)
    at = next(i for i, item in enumerate(items_) if item["method"] == "activity_count")
    items_[at]["params"] = {"per_missing": 5, "per_semester": per_semester}
    r = client.put(f"/api/evaluations/schemes/{YEAR}", headers=login("officer"), json={"items": items_})
    assert r.status_code == 422, r.text
    [error] = r.json()["errors"]
    assert error["field"] == f"items.{at}"
    assert (
        error["message"]
        == "参数 per_semester：方案规定每学期集中研讨活动不少于 2 次，每学期要求次数（per_semester）不能低于 2"
    )
    items_[at]["params"]["per_semester"] = 3  # raising it is the officer's to do
    assert (
        client.put(f"/api/evaluations/schemes/{YEAR}", headers=login("officer"), json={"items": items_}).status_code
        == 200
    )


def test_the_scheme_is_editable_until_the_year_opens(client, login, year):
    default = client.get(f"/api/evaluations/schemes/{YEAR}", headers=login("lead-a")).json()
    assert (default["version"], default["locked"], len(default["items"])) == (None, False, 12)
    items_ = copy.deepcopy(DEFAULT_ITEMS)
    items_[6]["params"] = {"min_domains": 3}
    broken = copy.deepcopy(items_)
    broken[0]["max_points"] = 10
    r = client.put(f"/api/evaluations/schemes/{YEAR}", headers=login("officer"), json={"items": broken})
    assert r.status_code == 422 and "100" in r.json()["message"]
    assert (
        client.put(f"/api/evaluations/schemes/{YEAR}", headers=login("lead-a"), json={"items": items_}).status_code
        == 403
    )
    saved = client.put(f"/api/evaluations/schemes/{YEAR}", headers=login("officer"), json={"items": items_})
    assert saved.status_code == 200 and saved.json()["version"] == 1
    opened = client.post("/api/evaluations/open", headers=login("officer"), json={"year": YEAR}).json()
    b = next(e for e in opened if e["alliance_code"] == "TB")
    assert items(b)["domains"]["computed"] == 5.0  # three domains meet the edited minimum
    locked = client.put(f"/api/evaluations/schemes/{YEAR}", headers=login("officer"), json={"items": items_})
    assert locked.status_code == 409 and locked.json()["code"] == "scheme_locked"
    assert client.get(f"/api/evaluations/schemes/{YEAR}", headers=login("officer")).json()["locked"] is True
