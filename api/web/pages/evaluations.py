"""The annual evaluation: the list by year, one alliance's evaluation with its items and computed
evidence, the lead's self-assessment, the officer's and researcher's scoring, publication."""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import Form
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import Response

from api.web import nav, todo
from api.web.deps import FormDep, SignedInPage, UserPage
from api.web.routing import web_router
from workflows import audit, clock
from workflows.access import Viewer
from workflows.documents.service import list_for_owner
from workflows.errors import NotFound, ValidationFailed
from workflows.evaluations import events, service
from workflows.evaluations.machine import EVALUATION_WORKFLOW, ITEM_SCORERS
from workflows.evaluations.models import Evaluation
from workflows.evaluations.schemas import FinalScore, SelfScore
from workflows.evaluations.views import evaluation_out
from workflows.roles import Role

router = web_router()

nav.register(
    nav.NavItem(
        "evaluations",
        "年度考核",
        "/evaluations",
        roles=frozenset({Role.OFFICER, Role.RESEARCHER, Role.ADMIN, Role.LEAD, Role.PILLAR}),
        alliance_roles=frozenset({Role.APPLICANT}),
        order=40,
    )
)


def _today() -> date:
    return clock.today()


def evaluation_todo(session: Session, viewer: Viewer) -> list[todo.TodoItem]:
    """自评 for the lead, 评分 for the researcher and the officer (their items still open), 公布 for the officer."""
    items = []
    for e in service.list_visible(session=session, viewer=viewer):
        link, name = f"/evaluations/{e.id}", f"{e.alliance.name} {e.year} 年度考核"
        if e.state == "draft" and viewer.role == Role.LEAD and viewer.alliance_id == e.alliance_id:
            items.append(todo.TodoItem("年度考核", f"提交 {e.year} 年度自评", link, e.alliance.name, urgent=True))
        elif e.state == "self_assessed" and viewer.role in (Role.RESEARCHER, Role.OFFICER):
            open_items = [i for i in e.items if viewer.role in ITEM_SCORERS[i.assessor] and i.final is None]
            if open_items:
                detail = "待评：" + "、".join(i.label for i in open_items)
                items.append(todo.TodoItem("年度考核", f"评分：{name}", link, detail, urgent=True))
        elif e.state == "scored" and viewer.role == Role.OFFICER:
            items.append(todo.TodoItem("年度考核", f"公布结果：{name}", link, "评分已完成"))
    return items


todo.register("evaluations", evaluation_todo, roles={Role.LEAD, Role.RESEARCHER, Role.OFFICER}, order=40)


@router.get("/evaluations")
def evaluation_list(page: UserPage, year: str = "") -> Response:
    chosen = int(year) if year.isdigit() else None
    rows = service.list_visible(session=page.db, viewer=page.viewer, year=chosen)
    return page.render(
        "evaluations/list.html",
        rows=[evaluation_out(page.viewer, e) for e in rows],
        year=year,
        open_year=_today().year,
        may_open=page.viewer.role == Role.OFFICER,
        error="",
    )


@router.post("/evaluations/open")
def open_year(page: UserPage, year: Annotated[str, Form()] = "") -> Response:
    try:
        if not year.isdigit() or not 2000 <= int(year) <= 2100:
            raise ValidationFailed.single("year", "invalid", "请输入年度，如 2026")
        opened = service.open_year(session=page.db, viewer=page.viewer, year=int(year), today=_today())
    except ValidationFailed as exc:  # e.g. opened already: back to the list with the message (WebRoute)
        page.db.rollback()
        rows = service.list_visible(session=page.db, viewer=page.viewer)
        return page.render(
            "evaluations/list.html", rows=[evaluation_out(page.viewer, e) for e in rows], year="",
            open_year=year, may_open=page.viewer.role == Role.OFFICER, error=exc.message,
        )  # fmt: skip
    return page.redirect(f"/evaluations?year={year}", f"已发起 {year} 年度考核（{len(opened)} 个联盟）")


@router.get("/evaluations/{evaluation_id}")
def evaluation_detail(evaluation_id: uuid.UUID, page: UserPage) -> Response:
    return _detail(page, service.get_visible(session=page.db, viewer=page.viewer, evaluation_id=evaluation_id))


def _number(value: Any) -> float | None:
    text = str(value or "").strip()
    return float(text) if re.fullmatch(r"\d+(\.\d+)?", text) else None


def _entries(form: FormData, evaluation: Evaluation, event: str) -> tuple[list[Any], dict[str, str]]:
    """The per-item inputs as the service's entries; what is not a number is an error at its input."""
    entries: list[Any] = []
    errors: dict[str, str] = {}
    prefix = "self" if event == "self_assess" else "score"
    for item in evaluation.items:
        raw = form.get(f"{prefix}-{item.key}", "")
        if not str(raw).strip():
            continue
        value = _number(raw)
        if value is None or value > 100:
            errors[item.key] = "须为 0 到满分之间的数字"
            continue
        if event == "self_assess":
            entries.append(SelfScore(key=item.key, score=value, remark=str(form.get(f"remark-{item.key}", ""))[:2000]))
        else:
            comment = str(form.get(f"comment-{item.key}", ""))[:2000]
            entries.append(
                FinalScore(key=item.key, score=value, comment=comment, veto=bool(form.get(f"veto-{item.key}")))
            )
    return entries, errors


def _item_errors(exc: ValidationFailed, entries: list[Any]) -> dict[str, str]:
    """``items.3.score`` / ``scores.0.comment`` / ``items.<key>`` → the item key the input belongs to."""
    found: dict[str, str] = {}
    for e in exc.errors:
        parts = e.field.split(".")
        key = ""
        if len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) < len(entries):
            key = entries[int(parts[1])].key
        elif len(parts) == 2:
            key = parts[1]
        found.setdefault(key or "form", e.message)
    return found


@router.post("/evaluations/{evaluation_id}/events/{event}")
def fire(evaluation_id: uuid.UUID, event: str, page: UserPage, form: FormDep) -> Response:
    evaluation = service.get_visible(session=page.db, viewer=page.viewer, evaluation_id=evaluation_id)
    entries, errors = _entries(form, evaluation, event)
    version = str(form.get("version", ""))
    comment = str(form.get("comment", ""))[:2000]
    try:
        if errors:
            raise ValidationFailed.single("form", "invalid", "有分数填写不正确，请检查标出的项目")
        if not version.isdigit():
            raise NotFound()
        evaluation = events.fire_event(
            session=page.db, viewer=page.viewer, objects=page.objects, evaluation_id=evaluation_id, event=event,
            version=int(version), comment=comment,
            items=entries if event == "self_assess" else None, scores=entries if event == "score" else None,
        )  # fmt: skip
    except ValidationFailed as exc:  # other refusals: back to the evaluation with the message (WebRoute)
        page.db.rollback()
        evaluation = service.get_visible(session=page.db, viewer=page.viewer, evaluation_id=evaluation_id)
        if not errors:
            errors = _item_errors(exc, entries)
        return _detail(page, evaluation, errors=errors, error=exc.message, entered=dict(form.items()))
    label = EVALUATION_WORKFLOW.rules[event].label
    return page.redirect(
        f"/evaluations/{evaluation.id}", f"已{label}：考核现为「{EVALUATION_WORKFLOW.label(evaluation.state)}」"
    )


def _detail(
    page: SignedInPage,
    evaluation: Evaluation,
    *,
    errors: dict[str, str] | None = None,
    error: str = "",
    entered: dict[str, Any] | None = None,
) -> Response:
    out = evaluation_out(page.viewer, evaluation)
    mine = page.viewer.alliance_id == evaluation.alliance_id
    documents = list_for_owner(session=page.db, owner_type="evaluation", owner_id=evaluation.id)
    return page.render(
        "evaluations/detail.html",
        e=out,
        published=out.state == "published",
        may_rank=page.viewer.is_bureau,
        documents=documents,
        history=audit.history(page.db, entity_type="evaluation", entity_id=evaluation.id),
        state_labels=EVALUATION_WORKFLOW.state_labels,
        event_labels={k: r.label for k, r in EVALUATION_WORKFLOW.rules.items()} | {"open": "发起考核"},
        self_form="self_assess" in out.allowed_events and mine,
        score_form="score" in out.allowed_events and any(i.may_score for i in out.items),
        buttons=[ev for ev in out.allowed_events if ev in ("recompute", "publish")],
        rules=EVALUATION_WORKFLOW.rules,
        errors=errors or {},
        error=error,
        entered=entered or {},
    )
