"""No notification and no 待办 leads to a dead end: every kind, made through the real code paths, opens
a Chinese page for the person it reaches.

Each scenario drives one area through its services (pages or API) and, at checkpoints, a ``Walker``
opens as its recipient every notification link written so far, every channel message's link, and every
待办 link of every account. ``SCENARIOS`` must cover ``workflows.notifications.KINDS`` (which
``notify_users`` enforces) and every registered 待办 provider: a new kind or provider without a case
fails ``test_every_kind_and_every_todo_provider_has_a_scenario``. The ``Walker``: ``link_walker.py``.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from api.web import todo
from storage.db import utcnow
from tests.fixtures.activities import SEMESTER, create_activity
from tests.fixtures.activities import fire as fire_activity
from tests.fixtures.activity_records import FileSpec, add_teacher, docx_bytes, make_activity
from tests.fixtures.agreements import PIN, approved_application, create_key, drain, upload_seal
from tests.fixtures.agreements import fire as fire_agreement
from tests.fixtures.evaluation_year import YEAR, build_year
from tests.fixtures.files import pdf_bytes, png_bytes
from tests.web.conftest import full_form, upload
from tests.web.link_walker import Scenario, Walker, ok
from tests.web.test_semester_work_pages import SUMMARY
from workflows.activities.compliance import send_reminders
from workflows.activities.models import Semester
from workflows.agreements import service as agreements
from workflows.agreements.events import expire_due
from workflows.channels.models import ChannelDelivery
from workflows.channels.service import retry_due
from workflows.notifications import KINDS
from workflows.registry.models import TeacherLevel

# --- applications (through the pages) ----------------------------------------------------------------


def _version(b: Any, url: str) -> str:
    return re.search(r'name="version" value="(\d+)"', b.get(url).text).group(1)


def _event(b: Any, app_id: str, event: str, **fields: str) -> None:
    r = b.post(f"/applications/{app_id}/events/{event}", {"version": _version(b, f"/applications/{app_id}"), **fields})
    assert r.status_code == 303, r.text


def _new_application(b: Any, world: Any) -> str:
    r = b.post("/applications/new", full_form(world))
    assert r.status_code == 303, r.text
    return r.headers["location"].split("/")[2]


def _submit(b: Any, app_id: str, world: Any, *, attach: bool = True) -> None:
    if attach:
        for kind, content in (("licence", pdf_bytes()), ("inspection", png_bytes()), ("safety_pledge", pdf_bytes("p"))):
            assert upload(b, app_id, kind, content, f"{kind}.pdf").status_code == 200
    version = _version(b, f"/applications/{app_id}/edit")
    r = b.post(f"/applications/{app_id}/edit", {**full_form(world), "version": version, "action": "submit"})
    assert r.headers["location"] == f"/applications/{app_id}", r.text


def applications(w: Walker, *, browser: Any, world: Any, **_: Any) -> None:
    applicant, officer = browser("kg-out"), browser("officer")
    w.checkpoint()  # nothing yet: 提交加入联盟申请
    first = _new_application(applicant, world)
    w.checkpoint()
    _submit(applicant, first, world)
    w.checkpoint()
    _event(officer, first, "start_review")
    w.checkpoint()
    _event(officer, first, "return", comment="请补充消防验收证明")
    w.checkpoint()
    _submit(applicant, first, world, attach=False)
    _event(officer, first, "start_review")
    _event(officer, first, "reject", comment="办园许可证未满一年")
    second = _new_application(applicant, world)
    _submit(applicant, second, world)
    _event(officer, second, "start_review")
    _event(officer, second, "approve", alliance_id=str(world.alliances["A"].id))
    w.checkpoint()


# --- agreements (through the API) ----------------------------------------------------------------------


def _effective(client: Any, login: Any, runtime: Any, world: Any, code: str, signer: str) -> dict[str, Any]:
    application_id = approved_application(runtime, world, code)
    upload_seal(client, login("officer"), world.kid(code))
    create_key(client, login(signer))
    with runtime.db.session() as s:
        agreement_id = agreements.create_from_application(
            session=s, settings=runtime.settings, objects=runtime.objects, application_id=uuid.UUID(application_id)
        ).id
    a = ok(client.get(f"/api/agreements/{agreement_id}", headers=login("officer")))
    a = ok(fire_agreement(client, login("officer"), a, "send"))
    for who in (signer, "lead-a", "pillar-a", "officer"):
        a = ok(fire_agreement(client, login(who), a, "sign", pin=PIN))
    assert a["state"] == "effective"
    return a


def agreement_kinds(w: Walker, *, request: Any, client: Any, login: Any, runtime: Any, world: Any, **_: Any) -> None:
    draft = request.getfixturevalue("draft_agreement")  # A-M1's, with seals and keys for alliance A
    w.checkpoint()  # the officer's 发出签署
    a = ok(fire_agreement(client, login("officer"), draft, "send"))
    w.checkpoint()  # the member's 签署联盟协议书
    a = ok(fire_agreement(client, login("kg-a1"), a, "decline", reason="第五条请写明联络人职责"))
    ok(fire_agreement(client, login("officer"), a, "void", reason="重新起草"))
    _effective(client, login, runtime, world, "A-M2", "kg-a2")
    with runtime.db.session() as s:
        assert len(expire_due(session=s, today=date(2100, 1, 1))) == 1
    ended = _effective(client, login, runtime, world, "C-OUT", "kg-out")
    ok(fire_agreement(client, login("officer"), ended, "terminate", reason="连续两年年度考核不合格"))
    w.checkpoint()


# --- activities, semester work, reminders and channel messages -----------------------------------------


def activity_kinds(w: Walker, *, request: Any, client: Any, login: Any, runtime: Any, world: Any, **_: Any) -> None:
    request.getfixturevalue("semester")  # around today: the plan is overdue (the lead's 待办)
    receiver = request.getfixturevalue("webhook_receiver")
    channel = {"kind": "wecom", "name": "联盟企业微信群", "settings": {"webhook_url": receiver.url("/send", key="k")}}
    ok(client.post("/api/channels", headers=login("admin"), json=channel))
    lead = login("lead-a")
    a = create_activity(client, login, runtime, world)
    w.checkpoint()  # 通报活动
    a = ok(fire_activity(client, lead, a, "announce"))
    ok(client.post(f"/api/activities/{a['id']}/comments", headers=login("researcher"), json={"body": "请记录幼儿观察"}))
    a = ok(fire_activity(client, lead, a, "hold"))
    w.checkpoint()  # 补齐活动资料
    due = date.fromisoformat(ok(client.get(f"/api/activities/{a['id']}/completeness", headers=lead))["due_on"])
    with runtime.db.session() as s:
        # Materials: host and lead; and, the semester being past its middle, the leads short of the minimum.
        assert send_reminders(session=s, today=due - timedelta(days=3)) >= 4
    with runtime.db.session() as s:
        summary_due = s.scalar(select(Semester.summary_due_on))
        assert send_reminders(session=s, today=summary_due - timedelta(days=3)) >= 2  # summaries: the leads
    cancelled = create_activity(client, login, runtime, world, topic="户外混龄游戏的组织")
    cancelled = ok(fire_activity(client, lead, cancelled, "announce"))
    ok(fire_activity(client, lead, cancelled, "cancel", comment="承办园停电，改期另行通知"))
    w.checkpoint()
    # The group chat got the same links, absolute on this install: members of the alliance open them.
    drain(runtime)
    # Three deliveries were recorded; one a loaded machine timed out is sent again by the retry (as
    # beat would, a minute later), so the count does not depend on the machine's speed.
    with runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(ChannelDelivery)) == 3
    retry_due(db=runtime.db, settings=runtime.settings, now=utcnow() + timedelta(hours=2))
    links = [re.search(r"\[查看详情\]\(([^)]+)\)", r.json()["markdown"]["content"]).group(1) for r in receiver.requests]
    assert len(links) == 3  # announced, announced, cancelled
    for link in links:
        assert link.startswith(runtime.settings.base_url.rstrip("/") + "/activities/")
        for who in ("kg-a1", "lead-a", "researcher"):
            w.open(who, urlsplit(link).path, "channel message")


# --- evaluations and 动态管理 -----------------------------------------------------------------------------


def _evaluation_event(client: Any, who: dict[str, str], e: dict[str, Any], event: str, **body: Any) -> dict[str, Any]:
    path = f"/api/evaluations/{e['id']}/events/{event}"
    return ok(client.post(path, headers=who, json={"version": e["version"], **body}))


def evaluation_kinds(w: Walker, *, client: Any, login: Any, runtime: Any, world: Any, **_: Any) -> None:
    build_year(runtime, world)
    opened = ok(client.post("/api/evaluations/open", headers=login("officer"), json={"year": YEAR}))
    a = next(e for e in opened if e["alliance_code"] == "TA")
    own = [{"key": "outcomes", "score": 12}, {"key": "safety", "score": 5}, {"key": "bonus", "score": 3}]
    w.checkpoint()  # the leads' 提交自评
    a = _evaluation_event(client, login("lead-a"), a, "self_assess", items=own)
    w.checkpoint()  # the researcher's and the officer's 评分
    a = _evaluation_event(
        client, login("researcher"), a, "score", scores=[{"key": "outcomes", "score": 0, "comment": "无"}]
    )
    officer = login("officer")
    scores = [{"key": "safety", "score": 0, "comment": "无"}, {"key": "bonus", "score": 0, "comment": "无"}]
    a = _evaluation_event(client, officer, a, "score", scores=scores)
    w.checkpoint()  # the officer's 公布结果
    _evaluation_event(client, officer, a, "publish", comment="限期整改")  # 不合格: review flags follow
    w.checkpoint()


# --- mentor nominations ----------------------------------------------------------------------------------


def mentor_kinds(w: Walker, *, client: Any, login: Any, runtime: Any, world: Any, **_: Any) -> None:
    nominating = login("kg-a1")
    ok(client.post("/api/mentors/rounds", headers=login("officer"), json={"deadline": "2099-12-31"}))
    w.checkpoint()  # the kindergartens' 推荐导师
    found = []
    for name in ("王敏", "李静"):
        teacher = add_teacher(runtime, world, "A-M1", name=name, level=TeacherLevel.BACKBONE)
        body = {"teacher_id": str(teacher), "team": "科学", "qualifications": ["backbone"],
                "achievements": "执教市级公开课", "reasons": "长期带领本园科学领域教研"}  # fmt: skip
        found.append(ok(client.post("/api/mentors/nominations", headers=nominating, json=body)))
    w.checkpoint()
    appointed, declined = found
    terms = {"term_start": "2026-09-01", "term_end": "2029-08-31", "alliance_ids": [str(world.alliances["A"].id)]}
    path = "/api/mentors/nominations/{}/events/{}"
    officer = login("officer")
    review = {"version": 1, "comment": "同意推荐"}
    reviewed = ok(client.post(path.format(appointed["id"], "review"), headers=login("researcher"), json=review))
    w.checkpoint()  # the section's 待聘任
    ok(client.post(path.format(appointed["id"], "appoint"), headers=officer,
                   json={"version": reviewed["version"], **terms}))  # fmt: skip
    ok(client.post(path.format(declined["id"], "decline"), headers=officer, json={"version": 1, "comment": "名额已满"}))
    w.checkpoint()


# --- certificates --------------------------------------------------------------------------------------


def certificate_kinds(w: Walker, *, client: Any, login: Any, runtime: Any, world: Any, **_: Any) -> None:
    build_year(runtime, world)
    ok(client.post("/api/certificates/batch", headers=login("lead-a"), json={"year": YEAR}))
    w.checkpoint()  # the section's 会签证书
    job = client.post("/api/certificates/countersign", headers=login("officer"), json={"pdf": False})
    assert job.status_code == 202, job.text
    drain(runtime)
    w.checkpoint()


# --- withdrawals (through the pages) ----------------------------------------------------------------------


def _withdraw(b: Any, reason: str) -> str:
    r = b.post("/withdrawals", {"reason": reason})
    assert r.status_code == 303, r.text
    return r.headers["location"]


def _decide(b: Any, url: str, event: str, comment: str = "") -> None:
    r = b.post(f"{url}/events/{event}", {"version": _version(b, url), "comment": comment})
    assert r.status_code == 303, r.text


def withdrawal_kinds(w: Walker, *, request: Any, browser: Any, **_: Any) -> None:
    request.getfixturevalue("draft_agreement")  # A-M1 is a member of alliance A
    member, officer = browser("kg-a1"), browser("officer")
    _decide(member, _withdraw(member, "举办者变更"), "cancel")
    _decide(officer, _withdraw(member, "园舍租期将满"), "refuse", "租期可续，请继续参加联盟活动")
    last = _withdraw(member, "停止办园")
    w.checkpoint()  # the officer's 审核退出申请
    _decide(officer, last, "approve", "同意")
    w.checkpoint()


# --- the resource library and activity news (through the pages) -----------------------------------------


def library_kinds(w: Walker, *, browser: Any, runtime: Any, world: Any, **_: Any) -> None:
    archived = make_activity(
        runtime, world, files=[FileSpec("lesson_case", "磁铁课例.docx", docx_bytes("幼儿科学探究活动"))]
    )
    lead, researcher = browser("lead-a"), browser("researcher")
    r = lead.post("/library/promote", {"material_id": str(archived.materials["磁铁课例.docx"])})
    item_url = r.headers["location"]
    shortlisted = lead.post(f"{item_url}/recommend", {"reason": "探究过程完整"}).headers["location"]
    w.checkpoint()  # the researcher's 推荐发表待审核
    _decide(researcher, shortlisted, "shortlist")
    w.checkpoint()  # 待报送刊物
    _decide(researcher, shortlisted, "submit")
    w.checkpoint()


def news_kinds(w: Walker, *, browser: Any, runtime: Any, world: Any, **_: Any) -> None:
    held = make_activity(
        runtime, world, state="held", files=[FileSpec("report", "活动报道.docx", docx_bytes("联盟开展公开课"))]
    )
    researcher, lead = browser("researcher"), browser("lead-a")
    data = {
        "activity_id": str(held.activity_id),
        "material_id": str(held.materials["活动报道.docx"]),
        "title": "公开课",
    }
    report = researcher.post("/reports/new", data).headers["location"]
    w.checkpoint()  # the lead's 审定活动报道
    _decide(lead, report, "approve")
    w.checkpoint()  # 发布活动报道
    _decide(lead, report, "return", "请补充幼儿表现")
    w.checkpoint()  # the researcher's 修改活动报道


def exchange_kinds(w: Walker, *, request: Any, browser: Any, world: Any, **_: Any) -> None:
    request.getfixturevalue("semester")
    url = f"/semester-work/{world.alliances['A'].id}/{SEMESTER}/summary"
    assert browser("lead-a").post(url, {**SUMMARY, "version": "0"}).status_code == 303
    assert browser("officer").post(f"{url}/publish").status_code == 303
    w.checkpoint()  # the other alliances' leads: 经验交流


SCENARIOS = {
    "exchange": Scenario(exchange_kinds, frozenset({"semester_work.shared"})),
    "library": Scenario(
        library_kinds,
        frozenset({"library.recommended", "library.recommendation_decided"}),
        frozenset({("library", "推荐发表待审核"), ("library", "推荐发表待报送刊物")}),
    ),
    "news": Scenario(
        news_kinds,
        frozenset({"news.drafted", "news.returned"}),
        frozenset({("news", "审定活动报道"), ("news", "发布活动报道"), ("news", "修改活动报道")}),
    ),
    "applications": Scenario(
        applications,
        frozenset({"application.submitted", "application.returned", "application.rejected", "application.approved"}),
        frozenset(
            {
                ("applications", "提交加入联盟申请"),
                ("applications", "继续填写入盟申请"),
                ("applications", "受理新申请"),
                ("applications", "完成审核"),
                ("applications", "申请被退回"),
                ("applications", "请等待审核结果"),
                ("semesters", "设置本学期"),  # no semester in this world yet
            }
        ),  # fmt: skip
    ),
    "agreements": Scenario(
        agreement_kinds,
        frozenset(
            {
                "agreement.sign_requested",
                "agreement.returned",
                "agreement.voided",
                "agreement.effective",
                "agreement.expired",
                "agreement.terminated",
            }
        ),  # fmt: skip
        frozenset({("agreements", "发出签署"), ("agreements", "签署联盟协议书")}),
    ),
    "activities": Scenario(
        activity_kinds,
        frozenset(
            {
                "activity.announced",
                "activity.commented",
                "activity.cancelled",
                "activity.behind_minimum",
                "deadline.reminder",
            }
        ),
        frozenset(
            {
                ("activities", "通报活动"),
                ("activities", "补齐活动资料"),
                ("semester_work", "联盟互动计划"),
                ("semester_work", "集中研讨活动尚差"),
            }
        ),
    ),
    "evaluations": Scenario(
        evaluation_kinds,
        frozenset(
            {"evaluation.self_assessed", "evaluation.scored", "evaluation.published", "evaluation.review_flags"}
        ),  # fmt: skip
        frozenset({("evaluations", "提交 2026 年度自评"), ("evaluations", "评分："), ("evaluations", "公布结果")}),
    ),
    "mentors": Scenario(
        mentor_kinds,
        frozenset({"mentor.nominated", "mentor.reviewed", "mentor.appointed", "mentor.declined"}),
        frozenset({("mentors", "推荐导师团成员"), ("mentors", "审核导师推荐"), ("mentors", "聘任导师")}),
    ),
    "certificates": Scenario(
        certificate_kinds,
        frozenset({"certificate.issued", "certificate.countersigned"}),
        frozenset({("certificates", "会签证书")}),
    ),
    "withdrawals": Scenario(
        withdrawal_kinds,
        frozenset({"withdrawal.requested", "withdrawal.cancelled", "withdrawal.refused", "withdrawal.approved"}),
        frozenset({("withdrawals", "审核退出申请")}),
    ),
}


def test_every_kind_and_every_todo_provider_has_a_scenario():
    covered = set().union(*(s.kinds for s in SCENARIOS.values()))
    assert covered == set(KINDS), f"notification kinds without a scenario: {set(KINDS) - covered}"
    providers = {key for key, _, _ in todo.registered()}
    shown = {key for s in SCENARIOS.values() for key, _ in s.todos}
    assert shown == providers, f"待办 providers without a scenario: {providers - shown}"


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_link_opens_a_chinese_page_for_its_recipient(name, request, browser, client, login, runtime, world):
    scenario = SCENARIOS[name]
    walker = Walker(runtime=runtime, world=world, browser=browser)
    scenario.run(walker, request=request, browser=browser, client=client, login=login, runtime=runtime, world=world)
    assert scenario.kinds <= walker.kinds, f"not made: {scenario.kinds - walker.kinds}"
    for key, fragment in scenario.todos:
        assert any(k == key and fragment in title for k, title in walker.todos), f"待办 {key}「{fragment}」 not shown"
