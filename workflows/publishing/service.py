"""Activity news drafts and the guardians' consent for photos: write them and read them with visibility."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from storage.db import utcnow
from workflows import audit
from workflows.access import Viewer
from workflows.activities.machine import TOOK_PLACE
from workflows.activities.models import Activity, Material
from workflows.activities.service import get_visible as get_activity
from workflows.activities.service import is_organiser
from workflows.activities.vocabulary import MaterialCategory
from workflows.errors import Conflict, Forbidden, NotFound, StaleVersion, TransitionNotAllowed, ValidationFailed
from workflows.library.extraction import DOCX
from workflows.publishing import notices
from workflows.publishing.machine import EDITABLE_STATES, NEWS_WORKFLOW
from workflows.publishing.models import MediaConsent, NewsReport
from workflows.publishing.schemas import ConsentBody, ReportCreate, ReportFields, ReportUpdate
from workflows.roles import Role
from workflows.uploads import JPEG, PNG

IMAGE_TYPES = frozenset({JPEG, PNG})


def get_visible(*, session: Session, viewer: Viewer, report_id: uuid.UUID, lock: bool = False) -> NewsReport:
    """A report the bureau or its activity's alliance may see; NotFound otherwise."""
    stmt = select(NewsReport).where(NewsReport.id == report_id)
    if lock:
        stmt = stmt.with_for_update()
    report = session.scalar(stmt)
    if report is None or not viewer.may_see_alliance_private(report.activity.alliance_id):
        raise NotFound("活动报道不存在")
    return report


def list_visible(
    *, session: Session, viewer: Viewer, state: str | None = None, activity_id: uuid.UUID | None = None
) -> list[NewsReport]:
    """The reports the viewer may see, newest first."""
    stmt = select(NewsReport).join(Activity).options(selectinload(NewsReport.activity))
    if not viewer.is_bureau:
        if viewer.alliance_id is None:
            return []
        stmt = stmt.where(Activity.alliance_id == viewer.alliance_id)
    if state:
        stmt = stmt.where(NewsReport.state == state)
    if activity_id:
        stmt = stmt.where(NewsReport.activity_id == activity_id)
    return list(session.scalars(stmt.order_by(NewsReport.created_at.desc())))


def may_write(viewer: Viewer, activity: Activity) -> bool:
    """The alliance's lead, who runs the activity, the kindergarten that hosted it, and the
    teaching-research office (信息支持)."""
    return (
        viewer.role == Role.RESEARCHER
        or is_organiser(viewer, activity)
        or (viewer.kindergarten_id is not None and viewer.kindergarten_id == activity.host_kindergarten_id)
    )


def photos(activity: Activity) -> list[Material]:
    """The activity's current photos (JPEG/PNG media); videos are never published."""
    return [
        m for m in activity.current_materials if m.category == MaterialCategory.MEDIA and m.content_type in IMAGE_TYPES
    ]


def _report_material(activity: Activity, material_id: uuid.UUID) -> Material:
    material = next((m for m in activity.current_materials if m.id == material_id), None)
    if material is None or material.category != MaterialCategory.REPORT:
        raise ValidationFailed.single("material_id", "not_found", "请选择本次活动的「活动报道」资料")
    if material.content_type != DOCX:
        raise ValidationFailed.single("material_id", "not_docx", "发布的活动报道须为 Word (.docx) 文档")
    return material


def _chosen_photos(activity: Activity, media_ids: list[uuid.UUID] | None) -> list[str]:
    available = {m.id: m for m in photos(activity)}
    if media_ids is None:
        return [str(i) for i in available]
    wrong = [str(i) for i in media_ids if i not in available]
    if wrong:
        raise ValidationFailed.single("media_ids", "not_found", "所选照片不是本次活动的影像资料")
    return [str(i) for i in dict.fromkeys(media_ids)]


def _apply(report: NewsReport, activity: Activity, fields: ReportFields, material: Material) -> None:
    report.material_id = material.id
    report.title = fields.title or activity.topic
    report.summary = fields.summary
    report.media_ids = _chosen_photos(activity, fields.media_ids)


def create(*, session: Session, viewer: Viewer, body: ReportCreate) -> NewsReport:
    """Start a news draft from an activity's 活动报道 once the activity has taken place."""
    activity = get_activity(session=session, viewer=viewer, activity_id=body.activity_id)
    if not may_write(viewer, activity):
        raise Forbidden("只有龙头园、承办园和教研室可以撰写活动报道")
    if activity.state not in TOOK_PLACE:
        raise TransitionNotAllowed("活动举行后才能发布报道")
    report = NewsReport(activity_id=activity.id, author_name=viewer.display_name, created_by=viewer.user_id)
    _apply(report, activity, body, _report_material(activity, body.material_id))
    try:
        with session.begin_nested():
            session.add(report)
    except IntegrityError:
        raise Conflict("本次活动已有一篇报道在办理中", code="report_exists") from None
    audit.append(
        session,
        entity_type="news_report",
        entity_id=report.id,
        event="create",
        actor=viewer.actor,
        to_state=report.state,
        data={"activity_id": str(activity.id), "material_id": str(report.material_id)},
    )
    notices.drafted(session, report)
    return report


def update(*, session: Session, viewer: Viewer, report_id: uuid.UUID, body: ReportUpdate) -> NewsReport:
    """Edit a draft: title, summary, photos, or another 活动报道 file."""
    report = get_visible(session=session, viewer=viewer, report_id=report_id, lock=True)
    activity = report.activity
    if not may_write(viewer, activity):
        raise Forbidden("只有龙头园、承办园和教研室可以修改活动报道")
    if body.version != report.version:
        raise StaleVersion()
    if report.state not in EDITABLE_STATES:
        raise TransitionNotAllowed(f"报道当前为「{NEWS_WORKFLOW.label(report.state)}」，不能修改")
    _apply(report, activity, body, _report_material(activity, body.material_id or report.material_id))
    session.flush()
    audit.append(
        session,
        entity_type="news_report",
        entity_id=report.id,
        event="edit",
        actor=viewer.actor,
        from_state=report.state,
        to_state=report.state,
    )
    return report


def consents_for(session: Session, material_ids: list[uuid.UUID]) -> dict[uuid.UUID, MediaConsent]:
    if not material_ids:
        return {}
    rows = session.scalars(select(MediaConsent).where(MediaConsent.material_id.in_(material_ids)))
    return {c.material_id: c for c in rows}


def list_consents(
    *, session: Session, viewer: Viewer, activity_id: uuid.UUID
) -> tuple[list[Material], dict[uuid.UUID, MediaConsent]]:
    """The photos of a visible activity and the consent recorded for each (none: not published)."""
    activity = get_activity(session=session, viewer=viewer, activity_id=activity_id)
    found = photos(activity)
    return found, consents_for(session, [m.id for m in found])


def may_record_consent(viewer: Viewer, activity: Activity) -> bool:
    """The alliance's lead, who keeps the guardians' consent forms, and the section."""
    return is_organiser(viewer, activity) or viewer.role == Role.OFFICER


def set_consent(
    *, session: Session, viewer: Viewer, activity_id: uuid.UUID, material_id: uuid.UUID, body: ConsentBody
) -> MediaConsent:
    """Record whether the guardians consented to publishing one photo (the alliance's lead)."""
    activity = get_activity(session=session, viewer=viewer, activity_id=activity_id)
    if not may_record_consent(viewer, activity):
        raise Forbidden("只有龙头园可以登记监护人同意情况")
    material = next((m for m in photos(activity) if m.id == material_id), None)
    if material is None:
        raise NotFound("照片不存在")
    row = session.get(MediaConsent, material.id, with_for_update=True)
    if row is None:
        row = MediaConsent(material_id=material.id)
        session.add(row)
    previous = None if row.recorded_at is None else row.consent
    row.consent, row.note = body.consent, body.note
    row.recorded_by, row.recorder_name, row.recorded_at = viewer.user_id, viewer.display_name, utcnow()
    session.flush()
    audit.append(
        session,
        entity_type="media_consent",
        entity_id=material.id,
        event="consent" if body.consent else "no_consent",
        actor=viewer.actor,
        comment=body.note,
        data={"activity_id": str(activity.id), "previous": previous, "consent": body.consent},
    )
    return row
