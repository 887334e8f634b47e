"""Planning an activity and changing it before it is held: every field the API has, with presenters and
participants picked from the roster of the alliance's kindergartens (grouped by kindergarten, with a
filter, usable on a phone). Errors stand next to their inputs; nothing typed is lost."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.responses import Response

from api.web.deps import FormDep, SignedInPage, UserPage
from api.web.forms import domain_errors, pydantic_errors, text, unplaced
from api.web.pages.activities import ORGANISERS, semesters_and_choice
from api.web.routing import web_router
from workflows.activities import service
from workflows.activities.machine import ACTIVITY_WORKFLOW, EDITABLE_STATES
from workflows.activities.models import Activity
from workflows.activities.roster import alliance_roster
from workflows.activities.schemas import ActivityCreate, ActivityUpdate
from workflows.activities.vocabulary import DOMAINS, FORMATS, ParticipantRole
from workflows.clock import BEIJING
from workflows.errors import DomainError, NotFound, ValidationFailed
from workflows.registry import service as registry
from workflows.registry.models import ROLE_LABELS
from workflows.registry.service import research_group

router = web_router()

TEXT_FIELDS = (
    "topic", "domain", "format", "starts_at", "ends_at", "place", "meeting_no", "host_kindergarten_id", "chair",
    "goal", "credit_hours",
)  # fmt: skip
# The pickers' inputs and the service's names for them.
PICKERS = {"presenters": "presenter_teacher_ids", "participants": "participant_teacher_ids"}
PLACED = {"semester", *TEXT_FIELDS, *PICKERS}


def _input_name(field: str) -> str:
    """``presenter_teacher_ids.2`` (the service's path) → ``presenters`` (the input)."""
    head = field.split(".")[0]
    return next((name for name, service_name in PICKERS.items() if service_name == head), head)


def _errors(raw: dict[str, str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for field, message in raw.items():
        found.setdefault(_input_name(field), message)
    return found


def _read(form: FormData) -> tuple[dict[str, str], dict[str, list[str]]]:
    values = {name: text(form, name) for name in (*TEXT_FIELDS, "semester", "version")}
    picked = {name: [str(v) for v in form.getlist(name) if str(v)] for name in PICKERS}
    return values, picked


def _data(values: dict[str, str], picked: dict[str, list[str]]) -> dict[str, Any]:
    """The model's input: empty text means "not given", the pickers always say who (none is an answer)."""
    data: dict[str, Any] = {k: v for k, v in values.items() if v and k in TEXT_FIELDS}
    for name, service_name in PICKERS.items():
        data[service_name] = picked[name]
    return data


def _render(
    page: SignedInPage,
    *,
    activity: Activity | None,
    values: dict[str, str],
    picked: dict[str, list[str]],
    errors: dict[str, str] | None = None,
    error: str = "",
) -> Response:
    if page.viewer.alliance_id is None:
        raise NotFound("联盟不存在")
    alliance = registry.get_alliance(session=page.db, alliance_id=page.viewer.alliance_id)
    roster = alliance_roster(session=page.db, alliance=alliance)
    semesters, chosen = semesters_and_choice(page, values.get("semester", ""))
    errors = errors or {}
    return page.render(
        "activities/form.html",
        activity=activity,
        values={**values, "semester": chosen},
        picked={name: set(ids) for name, ids in picked.items()},
        errors=errors,
        error=error or "；".join(unplaced(errors, PLACED)),
        semesters=semesters,
        domains=DOMAINS,
        formats=FORMATS,
        hosts=[(str(g.kindergarten.id), g.kindergarten.name) for g in roster],
        roster=roster,
        role_labels=ROLE_LABELS,
    )


def _organiser(page: SignedInPage) -> None:
    if page.viewer.role not in ORGANISERS or page.viewer.alliance_id is None:
        raise NotFound("联盟不存在")


@router.get("/activities/new")
def new_activity(page: UserPage) -> Response:
    _organiser(page)
    alliance = registry.get_alliance(session=page.db, alliance_id=page.viewer.alliance_id)  # type: ignore[arg-type]
    group = research_group(session=page.db, alliance=alliance)
    invited = [str(t.id) for t in ([group.leader] if group.leader else []) + group.members]
    values = {"host_kindergarten_id": str(page.viewer.kindergarten_id or ""), "credit_hours": "3"}
    return _render(page, activity=None, values=values, picked={"presenters": [], "participants": invited})


@router.post("/activities/new")
def create_activity(page: UserPage, form: FormDep) -> Response:
    _organiser(page)
    values, picked = _read(form)
    data = _data(values, picked)
    if values["semester"]:
        data["semester"] = values["semester"]
    try:
        body = ActivityCreate(alliance_id=page.viewer.alliance_id, **data)
        activity = service.create(session=page.db, viewer=page.viewer, body=body)
    except ValidationError as exc:
        return _render(page, activity=None, values=values, picked=picked, errors=_errors(pydantic_errors(exc)))
    except ValidationFailed as exc:
        page.db.rollback()
        return _render(page, activity=None, values=values, picked=picked, errors=_errors(domain_errors(exc)))
    return page.redirect(f"/activities/{activity.id}", f"已创建活动 {activity.number}")


def _editable(page: SignedInPage, activity_id: uuid.UUID) -> Activity | Response:
    activity = service.get_visible(session=page.db, viewer=page.viewer, activity_id=activity_id)
    if not service.may_edit(page.viewer, activity):
        raise NotFound("页面不存在")
    if activity.state not in EDITABLE_STATES:
        label = ACTIVITY_WORKFLOW.label(activity.state)
        return page.redirect(f"/activities/{activity.id}", f"活动当前为「{label}」，不能再修改", level="error")
    return activity


def _local(value: Any) -> str:
    return value.astimezone(BEIJING).strftime("%Y-%m-%dT%H:%M") if value is not None else ""


@router.get("/activities/{activity_id}/edit")
def edit_activity(activity_id: uuid.UUID, page: UserPage) -> Response:
    found = _editable(page, activity_id)
    if isinstance(found, Response):
        return found
    a = found
    values = {
        "topic": a.topic, "domain": a.domain, "format": a.format, "starts_at": _local(a.starts_at),
        "ends_at": _local(a.ends_at), "place": a.place, "meeting_no": a.meeting_no,
        "host_kindergarten_id": str(a.host_kindergarten_id), "chair": a.chair, "goal": a.goal,
        "credit_hours": f"{a.credit_hours:g}", "semester": a.semester.code, "version": str(a.version),
    }  # fmt: skip
    listed = [p for p in a.participants if p.teacher_id is not None and not p.walk_in]
    picked = {
        "presenters": [str(p.teacher_id) for p in listed if p.role == ParticipantRole.PRESENTER],
        "participants": [str(p.teacher_id) for p in listed if p.role != ParticipantRole.PRESENTER],
    }
    return _render(page, activity=a, values=values, picked=picked)


@router.post("/activities/{activity_id}/edit")
def update_activity(activity_id: uuid.UUID, page: UserPage, form: FormDep) -> Response:
    found = _editable(page, activity_id)
    if isinstance(found, Response):
        return found
    values, picked = _read(form)
    values["semester"] = found.semester.code
    data = _data(values, picked)
    # A cleared optional field is cleared, not left as it was.
    data.update({name: "" for name in ("place", "meeting_no", "chair", "goal") if not values[name]})
    if not values["ends_at"]:
        data["ends_at"] = None
    try:
        body = ActivityUpdate(version=values["version"] or -1, **data)
        activity = service.update(
            session=page.db, viewer=page.viewer, activity_id=activity_id, version=body.version, body=body
        )
    except ValidationError as exc:
        page.db.rollback()
        activity = service.get_visible(session=page.db, viewer=page.viewer, activity_id=activity_id)
        return _render(page, activity=activity, values=values, picked=picked, errors=_errors(pydantic_errors(exc)))
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        page.db.rollback()
        activity = service.get_visible(session=page.db, viewer=page.viewer, activity_id=activity_id)
        errors = _errors(domain_errors(exc)) if isinstance(exc, ValidationFailed) else {}
        return _render(page, activity=activity, values=values, picked=picked, errors=errors,
                       error="" if errors else exc.message)  # fmt: skip
    return page.redirect(f"/activities/{activity.id}", f"已保存活动 {activity.number}")
