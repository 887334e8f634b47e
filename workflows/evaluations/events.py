"""Moving an evaluation through its workflow: self-assessment, scoring, recomputation, publication.

Every event before publication first computes the automatic items again, so late records (a summary
handed in after the evaluation opened, materials uploaded late) are picked up; after publication
every event is refused and nothing changes.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.db import utcnow
from storage.objects import ObjectStore
from workflows import clock, transitions
from workflows.access import Viewer
from workflows.accounts.models import User
from workflows.errors import FieldError, Forbidden
from workflows.evaluations import records, review
from workflows.evaluations.documents import render_form
from workflows.evaluations.machine import ASSESSOR_LABELS, EVALUATION_WORKFLOW, ITEM_SCORERS
from workflows.evaluations.models import Evaluation, EvaluationItem
from workflows.evaluations.schemas import FinalScore, SelfScore
from workflows.evaluations.scoring import points
from workflows.evaluations.service import get_visible, recompute, refresh_totals
from workflows.machine import Ctx, Hooks
from workflows.notifications import notify_users, users_with_role
from workflows.roles import ROLE_LABELS, Role


def fire_event(
    *,
    session: Session,
    viewer: Viewer,
    objects: ObjectStore,
    evaluation_id: uuid.UUID,
    event: str,
    version: int,
    comment: str = "",
    items: list[SelfScore] | None = None,
    scores: list[FinalScore] | None = None,
    today: date | None = None,
) -> Evaluation:
    """Fire one workflow event on an evaluation the viewer can see."""
    return transitions.fire_event(
        EVALUATIONS, session=session, viewer=viewer, id=evaluation_id, event=event, version=version,
        comment=comment, fields={"items": items or [], "scores": scores or []}, today=today, objects=objects,
    )  # fmt: skip


def _check_and_apply(ctx: Ctx[Evaluation]) -> list[FieldError]:
    # Runs after the role, version and state checks and before the machine moves: the move into
    # ``scored`` is guarded by the scores this event brings, so they are applied here. Any
    # problem raises, and the request's transaction takes the changes back.
    session, viewer, evaluation, event, comment, data = (
        ctx.session, ctx.viewer, ctx.record, ctx.event, ctx.comment, ctx.data,
    )  # fmt: skip
    items: list[SelfScore] = ctx.fields.get("items") or []
    scores: list[FinalScore] = ctx.fields.get("scores") or []
    changed = recompute(session=session, evaluation=evaluation, today=ctx.today)
    if changed:
        data["recomputed"] = changed
    problems: list[FieldError] = []
    if event == "self_assess":
        problems = _apply_self(evaluation, items, comment)
        data["self_scores"] = {i.key: i.self_score for i in evaluation.items}
    elif event == "score":
        problems = _apply_scores(evaluation, scores, viewer)
        data["scores"] = [s.model_dump() for s in scores]
    refresh_totals(evaluation)
    if not problems:
        _stamp(evaluation, event, viewer, comment)
    return problems


def _load(session: Session, viewer: Viewer, id: uuid.UUID, *, lock: bool = True) -> Evaluation:
    return get_visible(session=session, viewer=viewer, evaluation_id=id, lock=lock)


def _today() -> date:
    return clock.today()


def _stamp(evaluation: Evaluation, event: str, viewer: Viewer, comment: str) -> None:
    """Everything this event changes on the evaluation row, written with the transition's one version bump."""
    now = utcnow()
    evaluation.updated_at = now  # the version moves even when the state does not
    evaluation.last_comment = comment.strip() or evaluation.last_comment
    if event == "score" and evaluation.state == "self_assessed" and evaluation.scoring_complete:
        evaluation.scored_at = now
    elif event == "publish":
        evaluation.published_at, evaluation.published_by = now, viewer.display_name


def _entries(
    evaluation: Evaluation, entries: list[Any], prefix: str
) -> tuple[list[tuple[int, Any, EvaluationItem]], list[FieldError]]:
    """Each entry with its item; unknown and repeated keys and scores above the maximum are problems."""
    found, problems, seen = [], [], set()
    for n, entry in enumerate(entries):
        item = evaluation.item(entry.key)
        if item is None:
            problems.append(FieldError(f"{prefix}.{n}.key", "unknown", f"没有代码为「{entry.key}」的考核项目"))
        elif entry.key in seen:
            problems.append(FieldError(f"{prefix}.{n}.key", "duplicate", f"「{item.label}」重复填写"))
        elif entry.score > item.max_points:
            problems.append(
                FieldError(f"{prefix}.{n}.score", "too_high", f"「{item.label}」满分 {item.max_points:g} 分")
            )
        elif points(entry.score) != entry.score:
            problems.append(FieldError(f"{prefix}.{n}.score", "precision", "分数最多保留一位小数"))
        else:
            found.append((n, entry, item))
        seen.add(entry.key)
    return found, problems


def _apply_self(evaluation: Evaluation, entries: list[SelfScore], remarks: str) -> list[FieldError]:
    found, problems = _entries(evaluation, entries, "items")
    given = {item.key for _, _, item in found}
    problems += [
        FieldError(f"items.{item.key}", "required", f"请填写「{item.label}」的自评分")
        for item in evaluation.items
        if item.method == "manual" and item.key not in given and item.key not in {e.key for e in entries}
    ]
    if problems:
        return problems
    by_key = {item.key: entry for _, entry, item in found}
    for item in evaluation.items:
        entry = by_key.get(item.key)
        # An automatic item the lead leaves out is self-assessed at its computed value.
        item.self_score = entry.score if entry is not None else item.computed
        item.self_remark = entry.remark if entry is not None else ""
    evaluation.self_remarks = remarks.strip()
    evaluation.self_assessed_at = utcnow()
    return []


def _apply_scores(evaluation: Evaluation, entries: list[FinalScore], viewer: Viewer) -> list[FieldError]:
    if not entries:
        return [FieldError("scores", "required", "请至少评定一个项目")]
    found, problems = _entries(evaluation, entries, "scores")
    for n, entry, item in found:
        if viewer.role not in ITEM_SCORERS[item.assessor]:
            who = ASSESSOR_LABELS["researcher" if item.assessor == "researcher" else "officer"]
            raise Forbidden(f"「{item.label}」由{who}评定，{ROLE_LABELS[viewer.role]}不能评分")
        auto = item.method != "manual"
        reference = item.computed if auto else item.self_score
        if reference is not None and entry.score != reference and not entry.comment:
            what = "系统计算值" if auto else "自评分"
            problems.append(FieldError(f"scores.{n}.comment", "required",
                                       f"「{item.label}」的评分与{what} {reference:g} 分不同，请说明理由"))  # fmt: skip
        if entry.veto and not item.veto:
            problems.append(FieldError(f"scores.{n}.veto", "not_veto_item", f"「{item.label}」不是否决项"))
        elif entry.veto and not entry.comment:
            problems.append(FieldError(f"scores.{n}.comment", "required", "认定重大安全事故须说明情况"))
    if problems:
        return problems
    now = utcnow()
    for _, entry, item in found:
        # Confirming the computed value of an automatic item without remark keeps it following the records.
        confirmed = item.method != "manual" and entry.score == item.computed and not entry.comment
        item.final_score = None if confirmed else entry.score
        item.final_comment = entry.comment
        item.veto_triggered = entry.veto
        item.scored_by, item.scored_role, item.scored_at = viewer.display_name, viewer.role.value, now
    return []


def _alliance_users(session: Session, evaluation: Evaluation) -> list[User]:
    ids = [m.kindergarten_id for m in evaluation.alliance.current_memberships]
    return list(session.scalars(select(User).where(User.kindergarten_id.in_(ids), User.is_active)))


def _link(evaluation: Evaluation) -> str:
    return f"/evaluations/{evaluation.id}"


def _on_self_assess(ctx: Ctx[Evaluation]) -> None:
    session, evaluation = ctx.session, ctx.record
    bureau = users_with_role(session, Role.OFFICER) + users_with_role(session, Role.RESEARCHER)
    notify_users(session, bureau, kind="evaluation.self_assessed", link=_link(evaluation),
                 title=f"{evaluation.alliance.name}已提交 {evaluation.year} 年度自评，请评分")  # fmt: skip


def _on_score(ctx: Ctx[Evaluation]) -> None:
    if ctx.moved_from != ctx.moved_to:  # the last score moved it to ``scored``
        _on_scored(ctx)


def _on_scored(ctx: Ctx[Evaluation]) -> None:
    session, evaluation = ctx.session, ctx.record
    notify_users(session, users_with_role(session, Role.OFFICER), kind="evaluation.scored", link=_link(evaluation),
                 title=f"{evaluation.alliance.name} {evaluation.year} 年度考核评分完成，可以公布")  # fmt: skip


def _on_publish(ctx: Ctx[Evaluation]) -> None:
    session, viewer, objects, evaluation, today = ctx.session, ctx.viewer, ctx.need_objects(), ctx.record, ctx.today
    render_form(session=session, objects=objects, evaluation=evaluation, actor=viewer)
    notify_users(
        session,
        _alliance_users(session, evaluation),
        kind="evaluation.published",
        title=f"{evaluation.year} 年度考核结果：{evaluation.grade}（{evaluation.total:g} 分）",
        body=f"{evaluation.alliance.name} {evaluation.year} 年度考核评价已公布",
        link=_link(evaluation),
    )
    record = records.collect(session=session, alliance=evaluation.alliance, year=evaluation.year, today=today)
    review.flag_after_publication(session=session, evaluation=evaluation, record=record)


EVALUATIONS = transitions.register(
    transitions.Area(
        workflow=EVALUATION_WORKFLOW.with_hooks(
            {
                "self_assess": Hooks[Evaluation](validate=_check_and_apply, then=_on_self_assess),
                "score": Hooks[Evaluation](validate=_check_and_apply, then=_on_score),
                "recompute": Hooks[Evaluation](validate=_check_and_apply),
                "publish": Hooks[Evaluation](validate=_check_and_apply, then=_on_publish),
            }
        ),
        load=_load,
        today=_today,
    )
)
