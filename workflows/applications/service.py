"""Applications: create and edit the form, upload attachments, list and read with visibility."""

from __future__ import annotations

import uuid
from typing import BinaryIO

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload, selectinload

from storage.db import utcnow
from storage.objects import ObjectStore
from storage.settings import Settings
from workflows import audit, clock
from workflows.access import Viewer
from workflows.applications.machine import APPLICATION_WORKFLOW, EDITABLE_STATES, OPEN_STATES
from workflows.applications.models import Application, Attachment
from workflows.applications.schemas import ApplicationForm, AttachmentKind
from workflows.documents import service as documents
from workflows.errors import Conflict, FieldError, NotFound, StaleVersion, TransitionNotAllowed, ValidationFailed
from workflows.numbering import next_value
from workflows.registry.models import Alliance, Kindergarten
from workflows.roles import Role
from workflows.uploads import SCAN_TYPES, safe_filename, sniff


def _may_see(viewer: Viewer, application: Application) -> bool:
    if viewer.is_bureau or application.kindergarten_id == viewer.kindergarten_id:
        return True
    # The lead and pillar give an opinion on submitted applications to their alliance.
    return (
        viewer.role in (Role.LEAD, Role.PILLAR)
        and application.state != "draft"
        and viewer.alliance_id is not None
        and viewer.alliance_id in (application.preferred_alliance_id, application.approved_alliance_id)
    )


# One statement for an application with its kindergarten and attachments (what every use of it reads),
# built once; the lock, where asked for, is on the application's row alone.
_VISIBLE = (
    select(Application)
    .where(Application.id == bindparam("application_id"))
    .options(joinedload(Application.kindergarten, innerjoin=True), joinedload(Application.attachments))
)
_VISIBLE_LOCKED = _VISIBLE.with_for_update(of=Application)


def get_visible(*, session: Session, viewer: Viewer, application_id: uuid.UUID, lock: bool = False) -> Application:
    """The application if the viewer may see it; NotFound otherwise."""
    found = session.execute(_VISIBLE_LOCKED if lock else _VISIBLE, {"application_id": application_id})
    application = found.unique().scalar_one_or_none()
    if application is None or not _may_see(viewer, application):
        raise NotFound("申请不存在")
    return application


def _document_owner_check(session: Session, viewer: Viewer, owner_id: uuid.UUID) -> None:
    get_visible(session=session, viewer=viewer, application_id=owner_id)


documents.register_owner("application", _document_owner_check)


def list_visible(
    *,
    session: Session,
    viewer: Viewer,
    state: str | None = None,
    town: str | None = None,
    alliance_id: uuid.UUID | None = None,
) -> list[Application]:
    """The applications the viewer may see, newest first, with the review queue's filters."""
    stmt = select(Application).options(selectinload(Application.attachments), selectinload(Application.kindergarten))
    if not viewer.is_bureau:
        if viewer.role == Role.APPLICANT:
            stmt = stmt.where(Application.kindergarten_id == viewer.kindergarten_id)
        elif viewer.alliance_id is not None:
            stmt = stmt.where(
                (Application.kindergarten_id == viewer.kindergarten_id)
                | (
                    (Application.state != "draft")
                    & (
                        (Application.preferred_alliance_id == viewer.alliance_id)
                        | (Application.approved_alliance_id == viewer.alliance_id)
                    )
                )
            )
        else:
            stmt = stmt.where(Application.kindergarten_id == viewer.kindergarten_id)
    if state:
        stmt = stmt.where(Application.state == state)
    if town:
        stmt = stmt.where(Application.town == town)
    if alliance_id:
        stmt = stmt.where(Application.preferred_alliance_id == alliance_id)
    return list(session.scalars(stmt.order_by(Application.created_at.desc())))


def _denormalise(application: Application, form: ApplicationForm) -> None:
    application.form = form.model_dump(mode="json", exclude_none=True)
    application.town = form.town or ""
    application.preferred_alliance_id = form.preferred_alliance_id


def _check_alliance(session: Session, form: ApplicationForm) -> None:
    if form.preferred_alliance_id is not None:
        alliance = session.get(Alliance, form.preferred_alliance_id)
        if alliance is None or not alliance.active:
            raise ValidationFailed([FieldError("preferred_alliance_id", "not_found", "所选联盟不存在或已停用")])


def create(*, session: Session, viewer: Viewer, form: ApplicationForm) -> Application:
    """Start a draft application for the viewer's own kindergarten (one open application at a time)."""
    if viewer.role != Role.APPLICANT or viewer.kindergarten_id is None:
        raise NotFound()
    _check_alliance(session, form)
    # The kindergarten (the answer names it) and its open application, if any, in one statement.
    open_number = (
        select(Application.number)
        .where(Application.kindergarten_id == viewer.kindergarten_id, Application.state.in_(OPEN_STATES))
        .limit(1)
        .scalar_subquery()
    )
    kindergarten, open_one = session.execute(
        select(Kindergarten, open_number).where(Kindergarten.id == viewer.kindergarten_id)
    ).one()
    if open_one:
        raise Conflict(f"本园已有办理中的申请 {open_one}，请在该申请上继续", code="open_application_exists")
    year = clock.today().year  # the number carries the Beijing year
    number = f"SQ{year}-{next_value(session, f'application:{year}'):04d}"
    # attachments=[]: a new application has none, and the answer need not ask the database so.
    application = Application(number=number, kindergarten=kindergarten, created_by=viewer.user_id, attachments=[])
    _denormalise(application, form)
    session.add(application)
    session.flush()
    audit.append(
        session,
        entity_type="application",
        entity_id=application.id,
        event="create",
        actor=viewer.actor,
        to_state=application.state,
        data={"number": number},
    )
    return application


def update_form(
    *, session: Session, viewer: Viewer, application_id: uuid.UUID, version: int, form: ApplicationForm
) -> Application:
    """Replace the form of a draft or returned application (optimistic version check)."""
    application = get_visible(session=session, viewer=viewer, application_id=application_id)
    _require_own_editable(viewer, application)
    if version != application.version:
        raise StaleVersion()
    _check_alliance(session, form)
    _denormalise(application, form)
    application.updated_at = utcnow()
    session.flush()
    audit.append(
        session,
        entity_type="application",
        entity_id=application.id,
        event="edit",
        actor=viewer.actor,
        from_state=application.state,
        to_state=application.state,
    )
    return application


def _require_own_editable(viewer: Viewer, application: Application) -> None:
    if viewer.role != Role.APPLICANT or application.kindergarten_id != viewer.kindergarten_id:
        raise NotFound("申请不存在") if not viewer.is_bureau else TransitionNotAllowed("只有申请园可以修改申请")
    if application.state not in EDITABLE_STATES:
        label = APPLICATION_WORKFLOW.label(application.state)
        raise TransitionNotAllowed(f"申请当前为「{label}」，不能修改；退回修改后才可再次编辑")


def add_attachment(
    *,
    session: Session,
    viewer: Viewer,
    objects: ObjectStore,
    settings: Settings,
    application_id: uuid.UUID,
    kind: AttachmentKind,
    stream: BinaryIO,
    filename: str,
) -> Attachment:
    """Store a scan (PDF/JPEG/PNG by content) and make it the current one of its kind."""
    application = get_visible(session=session, viewer=viewer, application_id=application_id)
    _require_own_editable(viewer, application)
    mime = sniff(stream, allowed=SCAN_TYPES)
    # The object is stored first; the row that points at it is written only after that succeeded.
    stored = objects.put(stream, filename=filename, content_type=mime, max_size=settings.max_upload_bytes)
    now = utcnow()
    for old in application.current_attachments:
        if old.kind == kind.value:
            old.replaced_at = now
    attachment = Attachment(
        application_id=application.id,
        kind=kind.value,
        filename=safe_filename(filename, default=kind.value, extension=SCAN_TYPES[mime]),
        content_type=mime,
        size=stored.size,
        sha256=stored.sha256,
        object_key=stored.key,
        uploaded_by=viewer.user_id,
        uploaded_at=now,
    )
    session.add(attachment)
    session.flush()
    audit.append(
        session,
        entity_type="application",
        entity_id=application.id,
        event="attach",
        actor=viewer.actor,
        from_state=application.state,
        to_state=application.state,
        data={"kind": kind.value, "sha256": stored.sha256, "size": stored.size},
    )
    return attachment


def get_attachment(
    *, session: Session, viewer: Viewer, application_id: uuid.UUID, attachment_id: uuid.UUID
) -> Attachment:
    """One attachment of a visible application."""
    application = get_visible(session=session, viewer=viewer, application_id=application_id)
    found = next((a for a in application.attachments if a.id == attachment_id), None)
    if found is None:
        raise NotFound("附件不存在")
    return found
