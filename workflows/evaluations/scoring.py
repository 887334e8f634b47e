"""Scores from the year's records, totals and grades. Pure functions: facts in, points out.

Points are exact fractions until the end, then rounded half up to one decimal (12.86 → 12.9), so
the API, the form and the workbook all print the same number. Each automatic item also returns
its evidence: short Chinese lines saying what was counted.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from decimal import Decimal
from fractions import Fraction
from typing import Any

from workflows.activities.vocabulary import (
    CATEGORY_LABELS,
    DOMAINS,
    WORK_LABELS,
    MaterialCategory,
    WorkKind,
    WorkStatus,
)
from workflows.evaluations.records import SemesterFact, YearRecord
from workflows.registry.models import ROLE_LABELS

EXCELLENT, GOOD, PASS, FAIL = "优秀", "良好", "合格", "不合格"
GRADE_BANDS = ((90, EXCELLENT), (80, GOOD), (60, PASS))
GRADES = (EXCELLENT, GOOD, PASS, FAIL)
CATEGORIES = tuple(MaterialCategory)

Scored = tuple[float, list[str]]


def exact(value: Fraction | float | int) -> Fraction:
    """A number as an exact fraction; a float as written in decimal (0.1 is one tenth)."""
    return Fraction(str(value)) if isinstance(value, float) else Fraction(value)


def points(value: Fraction | float | int) -> float:
    """Round half up to one decimal."""
    tenths = math.floor(exact(value) * 10 + Fraction(1, 2))
    return float(Decimal(tenths) / 10)


def _share(max_points: float, part: int | Fraction, whole: int) -> Fraction:
    return exact(max_points) * Fraction(part) / whole


def _percent(part: int, whole: int) -> str:
    return f"{math.floor(Fraction(part * 1000, whole)) / 10:.1f}%"  # floored: 89.96% never prints as 90.0%


def _no_semesters(record: YearRecord) -> Scored | None:
    return (0.0, [f"{record.year} 年没有设置学期"]) if not record.semesters else None


def semester_work(record: YearRecord, max_points: float, params: dict[str, Any]) -> Scored:
    if (empty := _no_semesters(record)) is not None:
        return empty
    kind = WorkKind(params["kind"])
    label = WORK_LABELS[kind]
    share = exact(max_points) / len(record.semesters)
    earned, lines = Fraction(0), []
    for s in record.semesters:
        fact = s.plan if kind == WorkKind.PLAN else s.summary
        if fact.status == WorkStatus.ON_TIME:
            earned += share
            lines.append(f"{s.name}：{label}于 {fact.submitted_on} 提交（截止 {fact.due_on}），按时")
        elif fact.status == WorkStatus.LATE:
            earned += share * exact(params["late_share"])
            lines.append(f"{s.name}：{label}于 {fact.submitted_on} 提交（截止 {fact.due_on}），逾期")
        else:
            pending = "，尚未到截止日期" if record.today <= fact.due_on else ""
            lines.append(f"{s.name}：{label}未提交（截止 {fact.due_on}{pending}）")
    return points(earned), lines


def _semester_line(s: SemesterFact, required: int) -> str:
    line = f"{s.name}：计入集中研讨的活动 {s.centralised_held} 次（要求 {required} 次；已举行、有研讨主题和研讨记录的计入）"
    not_counted = [a for a in s.held if not a.centralised]
    cancelled = sum(a.state == "cancelled" for a in s.activities)
    pending = sum(a.state in ("planned", "announced") for a in s.activities)
    notes = [f"{a.number}「{a.topic}」{a.counting.reason}" for a in not_counted]
    notes += [f"已取消 {cancelled} 次，不计"] if cancelled else []
    notes += [f"尚未举行 {pending} 次，不计"] if pending else []
    notes += [
        f"{a.number}「{a.topic}」未提前通报（成幼科准许：{a.late_notice_reason}）"
        for a in s.activities
        if a.announced_late
    ]
    return line + (f"；{'；'.join(notes)}" if notes else "")


def activity_count(record: YearRecord, max_points: float, params: dict[str, Any]) -> Scored:
    if (empty := _no_semesters(record)) is not None:
        return empty
    missing, lines = 0, []
    for s in record.semesters:
        # A semester whose minimum was raised asks that much whatever the scheme says.
        required = max(params.get("per_semester") or 0, s.min_centralised)
        missing += max(0, required - s.centralised_held)
        lines.append(_semester_line(s, required))
    deduction = exact(params["per_missing"]) * missing
    lines.append(f"共缺 {missing} 次，扣 {points(deduction):g} 分" if missing else "每学期均达到要求")
    return points(max(Fraction(0), exact(max_points) - deduction)), lines


def attendance(record: YearRecord, max_points: float, params: dict[str, Any]) -> Scored:
    held = record.held
    total = sum(a.participants for a in held)
    if not total:
        return 0.0, ["已举行的活动没有应到人员记录"]
    attended = sum(a.attended for a in held)
    rate = Fraction(attended * 100, total)
    score = next((pts for minimum, pts in sorted(params["bands"], reverse=True) if rate >= exact(minimum)), 0)
    leave, absent, unrecorded = (sum(getattr(a, f) for a in held) for f in ("leave", "absent", "unrecorded"))
    line = (
        f"已举行活动 {len(held)} 次，应到 {total} 人次，实到 {attended} 人次"
        f"（请假 {leave}，缺席 {absent}，未记录 {unrecorded}），出勤率 {_percent(attended, total)}"
    )
    return points(min(exact(score), exact(max_points))), [line]


def materials_complete(record: YearRecord, max_points: float, params: dict[str, Any]) -> Scored:
    held = record.held
    if not held:
        return 0.0, ["没有已举行的活动"]
    lines, present = [], 0
    for a in held:
        have = [c for c in CATEGORIES if c.value in a.categories]
        present += len(have)
        missing = "、".join(CATEGORY_LABELS[c] for c in CATEGORIES if c.value not in a.categories)
        lines.append(f"{a.number}「{a.topic}」：{len(have)}/7 类" + (f"，缺{missing}" if missing else "，齐全"))
    lines.append(f"共 {len(held)} 次已举行活动，应交 {7 * len(held)} 类，已交 {present} 类")
    return points(_share(max_points, present, 7 * len(held))), lines


def materials_on_time(record: YearRecord, max_points: float, params: dict[str, Any]) -> Scored:
    held = record.held
    total = sum(a.materials for a in held)
    if not total:
        return 0.0, ["已举行的活动没有上传资料"]
    on_time = sum(a.materials_on_time for a in held)
    lines = [
        f"{a.number}：{a.materials - a.materials_on_time} 份逾期上传（截止 {a.materials_due_on}）"
        for a in held
        if a.materials_on_time < a.materials
    ]
    lines.append(f"资料共 {total} 份，按期上传 {on_time} 份（{_percent(on_time, total)}）")
    return points(_share(max_points, on_time, total)), lines


def domains(record: YearRecord, max_points: float, params: dict[str, Any]) -> Scored:
    seen = {a.domain for a in record.held}
    covered = [d for d in DOMAINS if d in seen]
    minimum = params["min_domains"]
    line = f"已覆盖领域：{'、'.join(covered) or '无'}（{len(covered)} 个，要求至少 {minimum} 个）"
    return points(_share(max_points, min(len(covered), minimum), minimum)), [line]


def members_active(record: YearRecord, max_points: float, params: dict[str, Any]) -> Scored:
    members = record.members
    if not members:
        return 0.0, ["联盟本年度没有成员园"]
    lines = []
    for m in members:
        did = f"承办 {m.hosted} 次，主讲/执教 {m.presented} 次" if m.hosted or m.presented else "未承办也未主讲"
        lines.append(f"{m.name}（{ROLE_LABELS[m.role]}）：{did}")
    active = sum(bool(m.hosted or m.presented) for m in members)
    lines.append(f"{len(members)} 所幼儿园中 {active} 所承办或展示")
    return points(_share(max_points, active, len(members))), lines


def visits(record: YearRecord, max_points: float, params: dict[str, Any]) -> Scored:
    found = [a for a in record.held if a.format in params["formats"]]
    target = params["target"]
    people = sum(a.attended for a in found)
    line = f"{'、'.join(params['formats'])}活动 {len(found)} 次（参与 {people} 人次），目标 {target} 次"
    return points(_share(max_points, min(len(found), target), target)), [line]


METHODS: dict[str, Callable[[YearRecord, float, dict[str, Any]], Scored]] = {
    "semester_work": semester_work,
    "activity_count": activity_count,
    "attendance": attendance,
    "materials_complete": materials_complete,
    "materials_on_time": materials_on_time,
    "domains": domains,
    "members_active": members_active,
    "visits": visits,
}


def compute(record: YearRecord, *, method: str, max_points: float, params: dict[str, Any]) -> Scored:
    """The score and evidence of one automatic item; a manual item has neither."""
    if method == "manual":
        return 0.0, []
    return METHODS[method](record, max_points, params)


def total_of(finals: Iterable[float | None]) -> float:
    """The sum of the items' final scores (bonus included), an unscored item counting nothing."""
    return float(sum((Decimal(str(f)) for f in finals if f is not None), Decimal(0)))


def grade_for(total: float, *, vetoed: bool) -> str:
    """优秀 ≥ 90 with no veto, 良好 80–89, 合格 60–79, 不合格 < 60; a veto caps the grade at 良好."""
    for minimum, grade in GRADE_BANDS:
        if total >= minimum and not (grade == EXCELLENT and vetoed):
            return grade
    return FAIL
