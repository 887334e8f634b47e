"""Scoring with no I/O: grade bands and the veto, rounding, ranking, the scheme's rules, the graph."""

from __future__ import annotations

import copy
import uuid
from datetime import date

import pytest
from pydantic import ValidationError
from statemachine import StateMachine

from workflows.activities.vocabulary import WorkStatus
from workflows.evaluations.machine import EVALUATION_WORKFLOW, EvaluationMachine
from workflows.evaluations.records import ActivityFact, SemesterFact, WorkFact, YearRecord
from workflows.evaluations.scheme import DEFAULT_ITEMS, Scheme, default_scheme
from workflows.evaluations.scoring import compute, grade_for, points, total_of
from workflows.evaluations.summary import ranks


@pytest.mark.parametrize(
    ("total", "vetoed", "grade"),
    [
        (100.8, False, "优秀"),
        (90.0, False, "优秀"),
        (89.9, False, "良好"),
        (80.0, False, "良好"),
        (79.9, False, "合格"),
        (60.0, False, "合格"),
        (59.9, False, "不合格"),
        (0.0, False, "不合格"),
        (98.0, True, "良好"),  # a major incident vetoes 优秀, nothing else
        (85.0, True, "良好"),
        (70.0, True, "合格"),
        (30.0, True, "不合格"),
    ],
)
def test_grade_bands_and_the_veto(total, vetoed, grade):
    assert grade_for(total, vetoed=vetoed) == grade


def test_points_round_half_up_to_one_decimal_and_totals_add_exactly():
    assert [points(x) for x in (11.25, 4.75, 3.75, 0.05, 2.449, 12.0)] == [11.3, 4.8, 3.8, 0.1, 2.4, 12.0]
    assert total_of([0.1, 0.2, None, 11.3, 4.8]) == 16.4  # not 16.400000000000002


def test_ranking_shares_equal_totals():
    assert ranks([95.0, 88.5, 88.5, 70.0]) == [1, 2, 2, 4]


def test_the_declared_graph_matches_design():
    graph = {s.value: sorted({(str(t.event), t.target.value) for t in s.transitions}) for s in EvaluationMachine.states}
    assert graph == {
        "draft": [("recompute", "draft"), ("self_assess", "self_assessed")],
        "self_assessed": [
            ("recompute", "self_assessed"),
            ("score", "scored"),
            ("score", "self_assessed"),
        ],
        "scored": [("publish", "published"), ("recompute", "scored"), ("score", "scored")],
        "published": [],
    }
    assert issubclass(EvaluationMachine, StateMachine)  # raises on illegal events
    assert set(EVALUATION_WORKFLOW.rules) == {"self_assess", "score", "recompute", "publish"}


def test_the_default_scheme_is_100_points_plus_10_bonus_with_the_assessor_split():
    scheme = default_scheme()
    assert sum(i.max_points for i in scheme.items if not i.bonus) == 100
    assert sum(i.max_points for i in scheme.items if i.bonus) == 10
    assessors = {i.key: i.assessor for i in scheme.items if i.assessor != "auto"}
    assert assessors == {"outcomes": "researcher", "safety": "officer", "bonus": "officer"}
    assert [i.key for i in scheme.items if i.veto] == ["safety"]


def test_a_scheme_must_add_up_and_say_how_each_item_is_scored():
    items = copy.deepcopy(DEFAULT_ITEMS)
    items[0]["max_points"] = 6
    with pytest.raises(ValidationError, match="100"):
        Scheme.model_validate({"items": items})
    items = copy.deepcopy(DEFAULT_ITEMS)
    items[9]["method"] = "attendance"  # a researcher's item computed by the system
    with pytest.raises(ValidationError, match="manual"):
        Scheme.model_validate({"items": items})
    items = copy.deepcopy(DEFAULT_ITEMS)
    items[2]["params"] = {"per_missing": 5, "typo": 1}
    with pytest.raises(ValidationError):
        Scheme.model_validate({"items": items})
    items = copy.deepcopy(DEFAULT_ITEMS)
    items[1]["key"] = items[0]["key"]
    with pytest.raises(ValidationError, match="重复"):
        Scheme.model_validate({"items": items})


def _activity(**kw: object) -> ActivityFact:
    base: dict[str, object] = {
        "id": uuid.uuid4(), "number": "X-01", "topic": "t", "domain": "健康", "format": "集中研讨", "state": "held",
        "day": date(2026, 3, 1), "host_kindergarten_id": uuid.uuid4(), "materials_due_on": date(2026, 3, 8),
        "categories": frozenset(), "materials": 0, "materials_on_time": 0, "participants": 0, "attended": 0,
        "leave": 0, "absent": 0, "unrecorded": 0, "presenter_kindergartens": frozenset(),
        "attending_kindergartens": frozenset(),
    }  # fmt: skip
    base.update(kw)
    return ActivityFact(**base)  # type: ignore[arg-type]


def _record(activities: list[ActivityFact], *, min_centralised: int = 2) -> YearRecord:
    missing = WorkFact(WorkStatus.MISSING, date(2026, 3, 6), None)
    semester = SemesterFact("2026-spring", "2026年春季学期", date(2026, 2, 20), date(2026, 7, 10), min_centralised,
                            missing, missing, activities)  # fmt: skip
    return YearRecord(uuid.uuid4(), 2026, date(2026, 12, 31), [semester])


@pytest.mark.parametrize(
    ("attended", "score"), [(90, 10.0), (89, 7.0), (80, 7.0), (79, 4.0), (70, 4.0), (69, 0.0), (0, 0.0)]
)
def test_attendance_bands_at_their_edges(attended, score):
    record = _record([_activity(participants=100, attended=attended)])
    params = default_scheme().items[3].params
    assert compute(record, method="attendance", max_points=10, params=params)[0] == score


def test_attendance_rate_prints_floored_so_the_band_is_never_contradicted():
    record = _record([_activity(participants=10000, attended=8999)])  # 89.99%
    score, evidence = compute(record, method="attendance", max_points=10, params=default_scheme().items[3].params)
    assert score == 7.0 and "89.9%" in evidence[0]


def test_missing_activities_deduct_and_never_go_below_zero():
    params = {"per_missing": 5, "per_semester": None}
    assert compute(_record([]), method="activity_count", max_points=20, params=params)[0] == 10.0
    assert compute(_record([], min_centralised=6), method="activity_count", max_points=20, params=params)[0] == 0.0
    # An online session with its 研讨记录 counts; a lecture without one and a planned activity do not.
    record = frozenset({"discussion"})
    online = _record(
        [
            _activity(format="线上", categories=record),
            _activity(format="讲座"),
            _activity(state="planned", categories=record),
        ]
    )
    assert compute(online, method="activity_count", max_points=20, params=params)[0] == 15.0


def test_a_year_without_activities_scores_nothing_and_says_so():
    empty = _record([])
    for method, params in [("materials_complete", {}), ("materials_on_time", {}), ("attendance", {"bands": []})]:
        score, evidence = compute(empty, method=method, max_points=10, params=params)
        assert score == 0.0 and evidence
