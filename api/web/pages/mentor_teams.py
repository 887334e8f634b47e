"""导师团: the six teams with their leaders and members (by kindergarten, level, age band), and each
mentor's page: alliances served, guidance records, the yearly review and the workload (.xlsx)."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ValidationError
from starlette.responses import Response

from api.web.deps import FormDep, SignedInPage, UserPage
from api.web.forms import FieldErrors, domain_errors, pydantic_errors, text
from api.web.routing import web_router
from storage.objects import content_disposition
from workflows import audit, clock
from workflows.activities.models import SemesterWork
from workflows.documents.service import XLSX, list_for_owner
from workflows.errors import ValidationFailed
from workflows.mentors import events, service, teams, workload
from workflows.mentors.machine import MENTOR_WORKFLOW
from workflows.mentors.schemas import GuidanceCreate, ReviewEventBody
from workflows.mentors.views import guidance_out, mentor_out
from workflows.mentors.vocabulary import GUIDANCE_LABELS, TEAM_LABELS, TEAMS
from workflows.registry import service as registry
from workflows.registry.models import LEVEL_LABELS, Alliance
from workflows.roles import Role

router = web_router()
INVALID = "请按提示修改后重新提交"
REVIEW_FIELDS = ("version", "comment", "year", "team", "term_end")
GUIDANCE_FIELDS = ("kind", "activity_id", "plan_id", "note")
HISTORY_LABELS = {"assign": "分派联盟", "unassign": "结束指导联盟", "guidance": "登记指导"} | {
    name: rule.label for name, rule in MENTOR_WORKFLOW.rules.items()
}


def _errors(errors: FieldErrors) -> FieldErrors:
    found: FieldErrors = {}
    for name, message in errors.items():
        found.setdefault(name.split(".")[0], message)
    return found


@router.get("/mentors")
def overview(page: UserPage, team: str = "") -> Response:
    year = clock.today().year
    shown = [t for t in teams.overview(session=page.db, year=year) if not team or t.team == team]
    return page.render(
        "mentors/teams.html",
        teams=shown,
        team=team,
        team_labels=TEAM_LABELS,
        all_teams=TEAMS,
        year=year,
        may_lead=page.viewer.role == Role.OFFICER,
        level_labels=LEVEL_LABELS,
    )


@router.post("/mentors/teams/{team}/leader")
def set_leader(team: str, page: UserPage, form: FormDep) -> Response:
    chosen = text(form, "leader_id")
    try:
        leader = uuid.UUID(chosen) if chosen else None
    except ValueError:
        leader = None
    version = text(form, "version")
    teams.set_leader(session=page.db, viewer=page.viewer, team=team, mentor_id=leader,
                     version=int(version) if version.isdigit() else None)  # fmt: skip
    return page.redirect(f"/mentors?team={team}", f"已更新{TEAM_LABELS.get(team, '')}团长")


def _detail(
    page: SignedInPage, mentor_id: uuid.UUID, *, year: int | None = None, values: dict[str, Any] | None = None,
    errors: FieldErrors | None = None, error: str = "", form: str = "",
) -> Response:  # fmt: skip
    viewer = page.viewer
    mentor = service.get_mentor(session=page.db, viewer=viewer, mentor_id=mentor_id)
    out = mentor_out(viewer, mentor)
    may_see = service.may_see_workload(viewer, mentor)
    this_year = clock.today().year
    report = workload.workload(session=page.db, viewer=viewer, mentor_id=mentor.id, year=year) if may_see else None
    guidance = [guidance_out(g) for g in workload.list_mentor_guidance(session=page.db, mentor_id=mentor.id)]
    plan_names = {}  # which plan a mentor's plan work went into: 「测试联盟A 2026年秋季学期联盟互动计划」
    for g in guidance:
        plan = page.db.get(SemesterWork, g.plan_id) if g.plan_id else None
        if plan is not None:
            alliance = page.db.get(Alliance, plan.alliance_id)
            plan_names[g.id] = f"{alliance.name if alliance else ''} {plan.semester.name}联盟互动计划".strip()
    may_record = mentor.state == "active" and (
        viewer.is_bureau
        and viewer.role != Role.ADMIN
        or (viewer.role == Role.LEAD and viewer.alliance_id in {a.alliance_id for a in mentor.current_assignments})
    )
    activities, plans = (
        workload.guidance_targets(session=page.db, viewer=viewer, mentor=mentor) if may_record else ([], [])
    )
    officer = viewer.role == Role.OFFICER
    return page.render(
        "mentors/mentor.html",
        m=out,
        report=report,
        year=report.year if report else this_year,
        years=list(range(this_year, this_year - 4, -1)),
        documents=list_for_owner(session=page.db, owner_type="mentor", owner_id=mentor.id) if may_see else [],
        history=audit.history(page.db, entity_type="mentor", entity_id=mentor.id),
        history_labels=HISTORY_LABELS,
        guidance=guidance,
        plan_names=plan_names,
        guidance_labels=[(k.value, label) for k, label in GUIDANCE_LABELS.items()],
        activities=activities,
        plans=plans,
        may_record=may_record,
        officer=officer,
        alliances=registry.list_alliances(session=page.db) if officer else [],
        team_labels=TEAM_LABELS,
        all_teams=TEAMS,
        this_year=this_year,
        values=values or {"version": str(out.version), "alliance_ids": []},
        errors=_errors(errors or {}),
        error=error,
        form=form,
    )


@router.get("/mentors/{mentor_id}")
def mentor_page(mentor_id: uuid.UUID, page: UserPage, year: int | None = None) -> Response:
    if year is not None and not 2000 <= year <= 2100:
        year = None
    return _detail(page, mentor_id, year=year)


@router.post("/mentors/{mentor_id}/assignments")
def assign(mentor_id: uuid.UUID, page: UserPage, form: FormDep) -> Response:
    chosen = text(form, "alliance_id")
    try:
        alliance_id = uuid.UUID(chosen)
    except ValueError:
        return _detail(page, mentor_id, values={"alliance_id": chosen}, errors={"alliance_id": "请选择联盟"},
                       error=INVALID, form="assign")  # fmt: skip
    try:
        service.assign(session=page.db, viewer=page.viewer, mentor_id=mentor_id, alliance_id=alliance_id)
    except ValidationFailed as exc:
        page.db.rollback()
        return _detail(page, mentor_id, values={"alliance_id": chosen}, errors=domain_errors(exc), error=INVALID,
                       form="assign")  # fmt: skip
    return page.redirect(f"/mentors/{mentor_id}", "已分派指导联盟")


@router.post("/mentors/{mentor_id}/assignments/{alliance_id}/end")
def unassign(mentor_id: uuid.UUID, alliance_id: uuid.UUID, page: UserPage) -> Response:
    service.end_assignment(session=page.db, viewer=page.viewer, mentor_id=mentor_id, alliance_id=alliance_id)
    return page.redirect(f"/mentors/{mentor_id}", "已结束对该联盟的指导（记录保留）")


@router.post("/mentors/{mentor_id}/events/{event}")
def review(mentor_id: uuid.UUID, event: str, page: UserPage, form: FormDep) -> Response:
    values: dict[str, Any] = {name: text(form, name) for name in REVIEW_FIELDS}
    values["alliance_ids"] = [a for a in form.getlist("alliance_ids") if isinstance(a, str)]
    data: dict[str, Any] = {k: v for k, v in values.items() if v not in ("", []) and k != "alliance_ids"}
    if event == "rotate" and values["alliance_ids"]:
        data["alliance_ids"] = values["alliance_ids"]
    try:
        body = ReviewEventBody(**(data | {"version": values["version"] or "0"}))
        events.fire_review_event(session=page.db, viewer=page.viewer, mentor_id=mentor_id, event=event, body=body)
    except ValidationError as exc:
        return _detail(page, mentor_id, values=values, errors=pydantic_errors(exc), error=INVALID, form=event)
    except ValidationFailed as exc:
        page.db.rollback()
        return _detail(page, mentor_id, values=values, errors=domain_errors(exc), error=INVALID, form=event)
    return page.redirect(f"/mentors/{mentor_id}", f"已记录{MENTOR_WORKFLOW.rules[event].label}")


@router.post("/mentors/{mentor_id}/guidance")
def record_guidance(mentor_id: uuid.UUID, page: UserPage, form: FormDep) -> Response:
    values = {name: text(form, name) for name in GUIDANCE_FIELDS}
    data = {k: v for k, v in values.items() if v}
    if values["kind"] == "plan_review":
        data.pop("activity_id", None)
    else:
        data.pop("plan_id", None)
    try:
        body = GuidanceCreate(mentor_id=mentor_id, **data)
        workload.record_guidance(session=page.db, viewer=page.viewer, body=body)
    except ValidationError as exc:
        return _detail(page, mentor_id, values=values, errors=pydantic_errors(exc), error=INVALID, form="guidance")
    except ValidationFailed as exc:
        page.db.rollback()
        return _detail(page, mentor_id, values=values, errors=domain_errors(exc), error=INVALID, form="guidance")
    return page.redirect(f"/mentors/{mentor_id}", "已登记导师指导")


@router.get("/mentors/{mentor_id}/workload.xlsx")
def workload_xlsx(mentor_id: uuid.UUID, page: UserPage, year: int | None = None) -> Response:
    filename, content = workload.workload_xlsx(session=page.db, viewer=page.viewer, mentor_id=mentor_id, year=year)
    return Response(content, media_type=XLSX, headers={"Content-Disposition": content_disposition(filename)})
