"""Opening the year computes every automatic item from the records, as worked out by hand.

The scripted year (tests/fixtures/evaluation_year.py) places the edge cases: a cancelled activity,
a late plan, a missing summary, an activity not yet held, incomplete and late materials, a member
that never attended, three domains of four required.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from storage.runtime import Runtime
from tests.fixtures.app import World
from tests.fixtures.evaluation_year import (
    AUTO_TOTAL_A,
    AUTO_TOTAL_B,
    EXPECTED_A,
    EXPECTED_B,
    TODAY,
    YEAR,
    build_year,
    cst,
)
from workflows.access import viewer_for
from workflows.accounts.models import User
from workflows.activities.models import SemesterWork
from workflows.errors import Conflict, Forbidden, ValidationFailed
from workflows.evaluations import records
from workflows.evaluations.events import fire_event
from workflows.evaluations.service import open_year


@pytest.fixture
def year(runtime: Runtime, world: World):  # type: ignore[no-untyped-def]
    return build_year(runtime, world)


def _viewer(session, username: str):  # type: ignore[no-untyped-def]
    return viewer_for(session, session.scalar(select(User).where(User.username == username)))


def _open(runtime: Runtime) -> dict[str, dict[str, object]]:
    with runtime.db.session() as s:
        opened = open_year(session=s, viewer=_viewer(s, "officer"), year=YEAR, today=TODAY)
        return {
            e.alliance.code: {"total": e.total, "grade": e.grade, "items": {i.key: i for i in e.items}, "id": e.id}
            for e in opened
        }


def test_every_automatic_item_matches_the_hand_computed_value(runtime, world, year):
    opened = _open(runtime)
    for code, expected, total in (("TA", EXPECTED_A, AUTO_TOTAL_A), ("TB", EXPECTED_B, AUTO_TOTAL_B)):
        items = opened[code]["items"]
        assert {k: i.computed for k, i in items.items() if i.method != "manual"} == expected, code  # type: ignore[union-attr]
        assert {k for k, i in items.items() if i.method == "manual"} == {"outcomes", "safety", "bonus"}  # type: ignore[union-attr]
        # The manual items count nothing until scored.
        assert opened[code]["total"] == total


def test_the_evidence_says_what_was_counted(runtime, world, year):
    items = _open(runtime)["TA"]["items"]
    text = {k: "\n".join(i.evidence) for k, i in items.items()}  # type: ignore[union-attr]
    assert "2026年秋季学期：联盟互动计划于 2026-09-20 提交（截止 2026-09-15），逾期" in text["plan_on_time"]
    assert "2026年秋季学期：教研经验小结未提交（截止 2027-01-20）" in text["summary"]
    assert "已取消 1 次，不计" in text["activity_count"]
    assert "尚未举行 1 次，不计" in text["activity_count"]
    assert "共缺 2 次，扣 10 分" in text["activity_count"]
    # A 公开课 without its 研讨记录 does not count, and the evidence says why.
    assert "「S2 主题 A&B<幼儿园>」尚无研讨记录，不计入" in text["activity_count"]
    assert "应到 15 人次，实到 11 人次（请假 1，缺席 3，未记录 0），出勤率 73.3%" in text["attendance"]
    assert "5/7 类，缺研讨记录、影像资料" in text["materials_complete"]
    assert "应交 28 类，已交 21 类" in text["materials_complete"]
    assert "1 份逾期上传（截止 2026-05-17）" in text["materials_on_time"]
    assert "已覆盖领域：健康、语言、社会、艺术（4 个" in text["domains"]
    assert "A-M2 A&B<幼儿园>（成员园）：未承办也未主讲" in text["members_active"]
    assert "送教、跟岗活动 1 次（参与 2 人次），目标 2 次" in text["visits"]


def test_the_member_who_never_attended_is_visible_in_the_record(runtime, world, year):
    with runtime.db.session() as s:
        record = records.collect(session=s, alliance=world.alliances["A"], year=YEAR, today=TODAY)
    by_code = {m.name.split()[0]: m for m in record.members}
    assert [m.name.split()[0] for m in record.members] == ["A-LEAD", "A-PIL", "A-M1", "A-M2"]
    assert by_code["A-M2"].attended == 0
    assert by_code["A-M1"].attended == 4 and by_code["A-M1"].hosted == 1 and by_code["A-M1"].presented == 1
    assert [s.code for s in record.semesters] == ["2026-spring", "2026-autumn"]  # the year rule


def test_a_revision_after_the_deadline_does_not_make_an_on_time_plan_late(runtime, world, year):
    with runtime.db.session() as s:
        work = s.scalar(
            select(SemesterWork).where(SemesterWork.alliance_id == world.alliances["A"].id, SemesterWork.kind == "plan")
        )
        assert work is not None and work.first_submitted_at is not None
        work.submitted_at = work.first_submitted_at.replace(month=6)  # revised in June; first handed in on time
    assert _open(runtime)["TA"]["items"]["plan_on_time"].computed == 2.5  # type: ignore[index,union-attr]


def test_late_records_are_picked_up_before_publication(runtime, world, year):
    opened = _open(runtime)
    with runtime.db.session() as s:
        # The autumn summary arrives after the evaluation opened (late, but a summary counts when present).
        autumn = records.year_semesters(session=s, year=YEAR)[1]
        s.add(SemesterWork(alliance_id=world.alliances["A"].id, semester_id=autumn.id, kind="summary",
                           first_submitted_at=cst(date(2027, 1, 24))))  # fmt: skip
    with runtime.db.session() as s:
        officer = _viewer(s, "officer")
        evaluation = fire_event(session=s, viewer=officer, objects=runtime.objects,
                                evaluation_id=opened["TA"]["id"], event="recompute", version=1, today=TODAY)  # type: ignore[arg-type]  # fmt: skip
        assert evaluation.item("summary").computed == 5.0  # type: ignore[union-attr]
        assert evaluation.total == pytest.approx(AUTO_TOTAL_A + 2.5)
        assert evaluation.version == 2


def test_only_the_officer_opens_a_year_once_and_only_a_year_with_semesters(runtime, world, year):
    with runtime.db.session() as s:
        with pytest.raises(Forbidden):
            open_year(session=s, viewer=_viewer(s, "researcher"), year=YEAR, today=TODAY)
        with pytest.raises(ValidationFailed) as no_semesters:
            open_year(session=s, viewer=_viewer(s, "officer"), year=2031, today=TODAY)
        assert no_semesters.value.errors[0].field == "year"
    _open(runtime)
    with runtime.db.session() as s, pytest.raises(Conflict):
        open_year(session=s, viewer=_viewer(s, "officer"), year=YEAR, today=date(2027, 2, 1))
