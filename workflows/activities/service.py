"""Activities: plan and edit them, choose participants, record attendance, comment; with visibility."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from storage.db import utcnow
from workflows import audit
from workflows.access import Viewer
from workflows.activities.machine import ACTIVITY_WORKFLOW, EDITABLE_STATES
from workflows.activities.models import Activity, ActivityComment, Participant, Semester
from workflows.activities.roster import alliance_teachers
from workflows.activities.schemas import ActivityCreate, ActivityFields
from workflows.activities.semesters import get_semester
from workflows.activities.vocabulary import ParticipantRole, semester_name
from workflows.clock import BEIJING
from workflows.documents import service as documents
from workflows.errors import FieldError, Forbidden, NotFound, StaleVersion, TransitionNotAllowed, ValidationFailed
from workflows.notifications import notify_users, users_of_kindergarten
from workflows.numbering import next_value
from workflows.registry.models import Alliance, AllianceRole, Teacher
from workflows.registry.service import research_group
from workflows.roles import Role

COMMENTERS = frozenset({Role.RESEARCHER, Role.OFFICER, Role.LEAD})


def get_visible(*, session: Session, viewer: Viewer, activity_id: uuid.UUID, lock: bool = False) -> Activity:
    """The activity if the viewer may see it (the bureau, the alliance's kindergartens); NotFound otherwise."""
    stmt = select(Activity).where(Activity.id == activity_id)
    if lock:
        stmt = stmt.with_for_update()
    activity = session.scalar(stmt)
    if activity is None or not viewer.may_see_alliance_private(activity.alliance_id):
        raise NotFound("活动不存在")
    return activity


def _document_owner_check(session: Session, viewer: Viewer, owner_id: uuid.UUID) -> None:
    get_visible(session=session, viewer=viewer, activity_id=owner_id)


documents.register_owner("activity", _document_owner_check)


def is_organiser(viewer: Viewer, activity: Activity) -> bool:
    """The lead kindergarten of the activity's alliance runs it."""
    return viewer.role == Role.LEAD and viewer.alliance_id == activity.alliance_id


def list_visible(
    *,
    session: Session,
    viewer: Viewer,
    semester: str | None = None,
    alliance_id: uuid.UUID | None = None,
    state: str | None = None,
) -> list[Activity]:
    """The activities the viewer may see, in time order, with optional filters."""
    # Everything the list's presenter reads, in a bounded number of statements whatever its length.
    stmt = select(Activity).options(
        joinedload(Activity.alliance, innerjoin=True),
        joinedload(Activity.semester, innerjoin=True),
        joinedload(Activity.host, innerjoin=True),
        selectinload(Activity.participants),
        selectinload(Activity.materials),
    )
    if not viewer.is_bureau:
        if viewer.alliance_id is None:
            return []
        stmt = stmt.where(Activity.alliance_id == viewer.alliance_id)
    if semester:
        stmt = stmt.join(Semester, Activity.semester_id == Semester.id).where(Semester.code == semester)
    if alliance_id:
        stmt = stmt.where(Activity.alliance_id == alliance_id)
    if state:
        stmt = stmt.where(Activity.state == state)
    return list(session.scalars(stmt.order_by(Activity.starts_at, Activity.number)))


def _check_fields(session: Session, activity: Activity, fields: dict[str, Any]) -> list[FieldError]:
    """Problems with the activity's details as they would stand after ``fields`` are applied."""
    problems: list[FieldError] = []
    alliance, semester = activity.alliance, activity.semester
    members = {m.kindergarten_id for m in alliance.current_memberships}
    if activity.host_kindergarten_id not in members:
        problems.append(FieldError("host_kindergarten_id", "not_member", "承办园须为本联盟的幼儿园"))
    day = activity.starts_at.astimezone(BEIJING).date()
    if not semester.starts_on <= day <= semester.ends_on:
        problems.append(
            FieldError(
                "starts_at",
                "outside_semester",
                f"活动日期须在{semester.name}（{semester.starts_on}至{semester.ends_on}）内",
            )
        )
    if activity.ends_at is not None and activity.ends_at <= activity.starts_at:
        problems.append(FieldError("ends_at", "before_start", "结束时间须晚于开始时间"))
    if not (activity.place or activity.meeting_no):
        problems.append(FieldError("place", "required", "请填写活动地点（线上活动填写会议号）"))
    for name in ("presenter_teacher_ids", "participant_teacher_ids"):
        ids = fields.get(name) or []
        found = alliance_teachers(session, alliance, ids)
        problems += [
            FieldError(f"{name}.{i}", "not_member", "该教师不在本联盟的幼儿园")
            for i, teacher_id in enumerate(ids)
            if teacher_id not in found
        ]
    return problems


DETAIL_FIELDS = (
    "topic", "domain", "format", "starts_at", "ends_at", "place", "meeting_no", "host_kindergarten_id", "chair",
    "goal", "credit_hours",
)  # fmt: skip


CLEARABLE = frozenset({"ends_at"})


def _apply(activity: Activity, fields: dict[str, Any]) -> None:
    for name in DETAIL_FIELDS:
        if name in fields:
            setattr(activity, name, fields[name])


def _set_participants(
    session: Session, activity: Activity, presenters: list[uuid.UUID], participants: list[uuid.UUID]
) -> None:
    """Presenters first, then participants; a teacher kept on the list keeps the attendance recorded, and
    those who came without being on the list (walk-ins, guests) stay after them."""
    wanted = list(dict.fromkeys([*presenters, *participants]))
    teachers = {t.id: t for t in session.scalars(select(Teacher).where(Teacher.id.in_(wanted)))}
    existing = {p.teacher_id: p for p in activity.participants if p.teacher_id is not None}
    rows = []
    for teacher_id in wanted:
        row = existing.get(teacher_id) or Participant(
            teacher_id=teacher_id, kindergarten_id=teachers[teacher_id].kindergarten_id
        )
        row.role = ParticipantRole.PRESENTER if teacher_id in presenters else ParticipantRole.PARTICIPANT
        row.walk_in = False
        rows.append(row)
    rows += [p for p in activity.participants if p.walk_in and p.teacher_id not in teachers]
    for position, row in enumerate(rows):
        row.position = position
    activity.participants = rows


def create(*, session: Session, viewer: Viewer, body: ActivityCreate) -> Activity:
    """Plan an activity for the viewer's own alliance (lead or pillar); the research group is invited by default."""
    if viewer.role not in (Role.LEAD, Role.PILLAR) or viewer.alliance_id != body.alliance_id:
        raise NotFound("联盟不存在")
    alliance = session.get(Alliance, body.alliance_id)
    if alliance is None or not alliance.active:
        raise NotFound("联盟不存在")
    try:
        semester = get_semester(session=session, code=body.semester)
    except NotFound as exc:
        raise ValidationFailed.single("semester", "not_found", exc.message) from None
    fields = body.model_dump(exclude={"alliance_id", "semester"}, exclude_none=True)
    if body.participant_teacher_ids is None:
        group = research_group(session=session, alliance=alliance)
        fields["participant_teacher_ids"] = [t.id for t in ([group.leader] if group.leader else []) + group.members]
    activity = Activity(
        alliance=alliance,
        semester=semester,
        created_by=viewer.user_id,
        number="",
        seq=0,
        **{k: v for k, v in fields.items() if k not in ("presenter_teacher_ids", "participant_teacher_ids")},
    )
    problems = _check_fields(session, activity, fields)
    if problems:
        raise ValidationFailed(problems, summary=None if len(problems) == 1 else f"有 {len(problems)} 项需要修改")
    activity.seq = next_value(session, f"activity:{alliance.code}:{semester.code}")
    # The number people read names the semester as they do: TA-2026年秋季学期-03.
    activity.number = f"{alliance.code}-{semester_name(semester.code)}-{activity.seq:02d}"
    session.add(activity)
    _set_participants(
        session, activity, fields.get("presenter_teacher_ids", []), fields.get("participant_teacher_ids", [])
    )
    session.flush()
    audit.append(
        session, entity_type="activity", entity_id=activity.id, event="create", actor=viewer.actor,
        to_state=activity.state, data={"number": activity.number, "topic": activity.topic},
    )  # fmt: skip
    return activity


def may_edit(viewer: Viewer, activity: Activity) -> bool:
    """The lead, and a pillar for the activities it planned itself."""
    return is_organiser(viewer, activity) or (viewer.role == Role.PILLAR and activity.created_by == viewer.user_id)


def update(*, session: Session, viewer: Viewer, activity_id: uuid.UUID, version: int, body: ActivityFields) -> Activity:
    """Change the details or the lists of presenters and participants before the activity is held."""
    activity = get_visible(session=session, viewer=viewer, activity_id=activity_id, lock=True)
    if not may_edit(viewer, activity):
        raise Forbidden("只有龙头园（或创建活动的支柱园）可以修改活动")
    if version != activity.version:
        raise StaleVersion()
    if activity.state not in EDITABLE_STATES:
        label = ACTIVITY_WORKFLOW.label(activity.state)
        raise TransitionNotAllowed(f"活动当前为「{label}」，不能再修改")
    # None means "leave as it is", except for the end time, which may be cleared.
    given = body.model_dump(exclude_unset=True, exclude={"version"})
    fields = {k: v for k, v in given.items() if v is not None or k in CLEARABLE}
    # No autoflush until everything is set: one UPDATE and one version step, or nothing on a 422.
    with session.no_autoflush:
        _apply(activity, fields)
        problems = _check_fields(session, activity, fields)
        if problems:
            raise ValidationFailed(problems, summary=None if len(problems) == 1 else f"有 {len(problems)} 项需要修改")
        if "presenter_teacher_ids" in fields or "participant_teacher_ids" in fields:
            current = activity.participants
            listed = [p for p in current if p.teacher_id is not None and not p.walk_in]
            presenters = [p.teacher_id for p in listed if p.role == ParticipantRole.PRESENTER]
            others = [p.teacher_id for p in listed if p.role != ParticipantRole.PRESENTER]
            _set_participants(
                session,
                activity,
                fields.get("presenter_teacher_ids", presenters),
                fields.get("participant_teacher_ids", others),
            )
        # Touch the row so the version check also guards edits that only change the participants.
        activity.updated_at = utcnow()
    try:
        session.flush()
    except StaleDataError:
        raise StaleVersion() from None
    audit.append(
        session, entity_type="activity", entity_id=activity.id, event="edit", actor=viewer.actor,
        from_state=activity.state, to_state=activity.state, data={"fields": sorted(fields)},
    )  # fmt: skip
    return activity


def add_comment(*, session: Session, viewer: Viewer, activity_id: uuid.UUID, body: str) -> ActivityComment:
    """The researcher's guidance on an activity (officers and the lead may add remarks too)."""
    activity = get_visible(session=session, viewer=viewer, activity_id=activity_id)
    if viewer.role not in COMMENTERS:
        raise Forbidden("只有教研员、成幼科和龙头园可以发表评论")
    comment = ActivityComment(
        activity_id=activity.id,
        author_id=viewer.user_id,
        author_name=viewer.display_name,
        author_role=viewer.role.value,
        body=body,
    )
    session.add(comment)
    session.flush()
    lead = activity.alliance.lead
    if viewer.is_bureau and lead is not None:
        notify_users(
            session,
            users_of_kindergarten(session, lead.id),
            kind="activity.commented",
            title=f"教研员对活动「{activity.topic}」发表了意见",
            body=body[:200],
            link=f"/activities/{activity.id}",
        )
    return comment


def list_comments(*, session: Session, viewer: Viewer, activity_id: uuid.UUID) -> list[ActivityComment]:
    """The comments on a visible activity, oldest first."""
    get_visible(session=session, viewer=viewer, activity_id=activity_id)
    stmt = select(ActivityComment).where(ActivityComment.activity_id == activity_id)
    return list(session.scalars(stmt.order_by(ActivityComment.created_at)))


def alliance_role_of(activity: Activity, kindergarten_id: uuid.UUID) -> AllianceRole | None:
    """The kindergarten's place in the activity's alliance today."""
    return next((m.role for m in activity.alliance.current_memberships if m.kindergarten_id == kindergarten_id), None)
