"""Mentor nominations (导师推荐): the section opens a round with a deadline, kindergartens nominate
teachers from their roster, the researcher reviews, the section appoints (聘书) or declines."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from api.web import nav, todo
from api.web.deps import FormDep, SignedInPage, UserPage
from api.web.forms import FieldErrors, domain_errors, pydantic_errors, text
from api.web.routing import web_router
from workflows import audit
from workflows.access import Viewer
from workflows.documents.service import list_for_owner
from workflows.errors import ValidationFailed
from workflows.mentors import events, service, teams
from workflows.mentors.events import mentor_of
from workflows.mentors.machine import NOMINATION_WORKFLOW
from workflows.mentors.schemas import NominationCreate, NominationEventBody
from workflows.mentors.views import mentor_out, nomination_out
from workflows.mentors.vocabulary import QUALIFICATION_LABELS, TEAM_LABELS, TEAMS
from workflows.registry import service as registry
from workflows.registry import teachers
from workflows.roles import KINDERGARTEN_ROLES, Role

router = web_router()

nav.register(nav.NavItem("mentors", "导师团", "/mentors", order=45))

# The nomination form as the kindergarten filled it, in the order of the printed 推荐表.
FORM_LABELS = (
    ("professional_title", "职称"),
    ("teaching_years", "教龄（年）"),
    ("phone", "联系电话"),
    ("research_topics", "参与课题"),
    ("achievements", "主要业绩"),
    ("reasons", "推荐理由"),
)
HISTORY_LABELS = {"create": "提交推荐"} | {name: rule.label for name, rule in NOMINATION_WORKFLOW.rules.items()}
NOMINATION_FIELDS = ("teacher_id", "team", *(name for name, _ in FORM_LABELS))
EVENT_FIELDS = ("version", "comment", "term_start", "term_end")
REQUIRED = {"teacher_id": "请选择推荐教师", "team": "请选择导师团", "qualifications": "请至少选择一项推荐资格",
            "achievements": "请填写主要业绩", "reasons": "请填写推荐理由"}  # fmt: skip
INVALID = "请按提示修改后重新提交"


def _todo(session: Session, viewer: Viewer) -> list[todo.TodoItem]:
    if viewer.role in KINDERGARTEN_ROLES and viewer.kindergarten_id is not None:
        current = teams.current_round(session)
        if current is None:
            return []
        return [todo.TodoItem("导师团", "推荐导师团成员", "/mentors/nominations/new",
                              f"截止 {current.deadline:%Y-%m-%d}，从本园教师名册中推荐")]  # fmt: skip
    wanted = {Role.RESEARCHER: ("nominated", "审核导师推荐"), Role.OFFICER: ("reviewed", "聘任导师")}.get(viewer.role)
    if wanted is None:
        return []
    state, title = wanted
    rows = service.list_nominations(session=session, viewer=viewer, state=state)
    if not rows:
        return []
    return [todo.TodoItem("导师团", f"{title}：{len(rows)} 份", f"/mentors/nominations?state={state}",
                          "、".join(n.teacher.name for n in rows[:5]))]  # fmt: skip


todo.register("mentors", _todo, roles={*KINDERGARTEN_ROLES, Role.RESEARCHER, Role.OFFICER}, order=45)


def _field_errors(errors: FieldErrors) -> FieldErrors:
    # alliance_ids.0 → alliance_ids: the error shows next to the group of checkboxes.
    found: FieldErrors = {}
    for name, message in errors.items():
        found.setdefault(name.split(".")[0], message)
    return found


@router.get("/mentors/nominations")
def nomination_list(page: UserPage, state: str = "") -> Response:
    rows = service.list_nominations(session=page.db, viewer=page.viewer, state=state or None)
    viewer = page.viewer
    return page.render(
        "mentors/nominations.html",
        rows=[nomination_out(page.db, viewer, n) for n in rows],
        team_labels=TEAM_LABELS,
        state=state,
        states=list(NOMINATION_WORKFLOW.state_labels.items()),
        current=teams.current_round(page.db),
        rounds=teams.list_rounds(page.db) if viewer.is_bureau else [],
        may_open=viewer.role == Role.OFFICER,
        may_nominate=viewer.role in KINDERGARTEN_ROLES and viewer.kindergarten_id is not None,
        values={},
        errors={},
        error="",
    )


@router.post("/mentors/rounds")
def open_round(page: UserPage, form: FormDep) -> Response:
    values = {"deadline": text(form, "deadline"), "note": text(form, "note")}
    try:
        deadline = date.fromisoformat(values["deadline"]) if values["deadline"] else None
    except ValueError:
        deadline = None
        errors: FieldErrors = {"deadline": "请填写有效日期，例如 2026-10-31"}
    else:
        try:
            teams.open_round(session=page.db, viewer=page.viewer, deadline=deadline, note=values["note"])
            return page.redirect("/mentors/nominations", "已发起导师推荐，各园可在截止日期前推荐")
        except ValidationFailed as exc:
            page.db.rollback()
            errors = domain_errors(exc)
    rows = service.list_nominations(session=page.db, viewer=page.viewer)
    return page.render(
        "mentors/nominations.html", rows=[nomination_out(page.db, page.viewer, n) for n in rows],
        team_labels=TEAM_LABELS, state="", states=list(NOMINATION_WORKFLOW.state_labels.items()),
        current=teams.current_round(page.db), rounds=teams.list_rounds(page.db), may_open=True,
        may_nominate=False, values=values, errors=errors, error=INVALID,
    )  # fmt: skip


@router.post("/mentors/rounds/{round_id}/close")
def close_round(round_id: uuid.UUID, page: UserPage) -> Response:
    teams.close_round(session=page.db, viewer=page.viewer, round_id=round_id)
    return page.redirect("/mentors/nominations", "本轮导师推荐已结束")


def _nomination_form(
    page: SignedInPage, values: dict[str, Any], errors: FieldErrors | None = None, error: str = ""
) -> Response:
    roster = teachers.list_roster(session=page.db, viewer=page.viewer, active=True)
    return page.render(
        "mentors/nominate.html",
        current=teams.current_round(page.db),
        roster=roster,
        teams=TEAMS,
        team_labels=TEAM_LABELS,
        qualifications=[(q.value, label) for q, label in QUALIFICATION_LABELS.items()],
        values=values,
        errors=_field_errors(errors or {}),
        error=error,
    )


@router.get("/mentors/nominations/new")
def new_nomination(page: UserPage, teacher: str = "") -> Response:
    if page.viewer.role not in KINDERGARTEN_ROLES or page.viewer.kindergarten_id is None:
        return page.redirect("/mentors/nominations", "导师由各园从本园教师名册中推荐", "error")
    return _nomination_form(page, {"teacher_id": teacher, "qualifications": []})


@router.post("/mentors/nominations/new")
def nominate(page: UserPage, form: FormDep) -> Response:
    values: dict[str, Any] = {name: text(form, name) for name in NOMINATION_FIELDS}
    values["qualifications"] = [q for q in form.getlist("qualifications") if isinstance(q, str)]
    data = {k: v for k, v in values.items() if v not in ("", None) or k in ("achievements", "reasons")}
    try:
        body = NominationCreate(**data)
        nomination = service.nominate(session=page.db, viewer=page.viewer, objects=page.objects, body=body)
    except ValidationError as exc:
        errors = pydantic_errors(exc)
        for name, message in REQUIRED.items():  # left empty: say what to fill, not 「内容过短」
            if name in errors and not values.get(name):
                errors[name] = message
        return _nomination_form(page, values, errors, INVALID)
    except ValidationFailed as exc:
        page.db.rollback()
        return _nomination_form(page, values, domain_errors(exc), INVALID)
    return page.redirect(f"/mentors/nominations/{nomination.id}", f"已提交推荐 {nomination.number}，等待教研室审核")


def _detail(
    page: SignedInPage, nomination_id: uuid.UUID, values: dict[str, Any] | None = None,
    errors: FieldErrors | None = None, error: str = "", event: str = "",
) -> Response:  # fmt: skip
    nomination = service.get_nomination(session=page.db, viewer=page.viewer, nomination_id=nomination_id)
    out = nomination_out(page.db, page.viewer, nomination)
    mentor = mentor_of(page.db, nomination)
    documents = list_for_owner(session=page.db, owner_type="mentor_nomination", owner_id=nomination.id)
    if mentor is not None and service.may_see_workload(page.viewer, mentor):
        documents += list_for_owner(session=page.db, owner_type="mentor", owner_id=mentor.id)
    history = audit.history(page.db, entity_type="mentor_nomination", entity_id=nomination.id)
    return page.render(
        "mentors/nomination.html",
        n=out,
        team_label=TEAM_LABELS.get(out.team, out.team),
        form=_form_pairs(out.form),
        mentor=mentor_out(page.viewer, mentor) if mentor is not None else None,
        nominated_by=history[0].actor_name if history else "",
        documents=documents,
        history=history,
        history_labels=HISTORY_LABELS,
        state_labels=NOMINATION_WORKFLOW.state_labels,
        alliances=registry.list_alliances(session=page.db) if out.allowed_events else [],
        values=values or {"version": str(out.version), "alliance_ids": []},
        errors=_field_errors(errors or {}),
        error=error,
        event=event,
    )


@router.get("/mentors/nominations/{nomination_id}")
def nomination_detail(nomination_id: uuid.UUID, page: UserPage) -> Response:
    return _detail(page, nomination_id)


@router.post("/mentors/nominations/{nomination_id}/events/{event}")
def nomination_event(nomination_id: uuid.UUID, event: str, page: UserPage, form: FormDep) -> Response:
    values: dict[str, Any] = {name: text(form, name) for name in EVENT_FIELDS}
    values["alliance_ids"] = [a for a in form.getlist("alliance_ids") if isinstance(a, str)]
    try:
        body = NominationEventBody(
            **{k: v for k, v in values.items() if v not in ("", [])} | {"version": values["version"] or "0"}
        )
        events.fire_nomination_event(session=page.db, viewer=page.viewer, objects=page.objects,
                                     nomination_id=nomination_id, event=event, body=body)  # fmt: skip
    except ValidationError as exc:
        return _detail(page, nomination_id, values, pydantic_errors(exc), INVALID, event)
    except ValidationFailed as exc:
        page.db.rollback()
        return _detail(page, nomination_id, values, domain_errors(exc), INVALID, event)
    label = NOMINATION_WORKFLOW.rules[event].label
    return page.redirect(f"/mentors/nominations/{nomination_id}", f"已{label}")


def _form_pairs(form: dict[str, Any]) -> list[tuple[str, str]]:
    return [(label, "" if form.get(name) in (None, "") else str(form[name])) for name, label in FORM_LABELS]
