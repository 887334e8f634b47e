"""The application form (申请表) as a Word document, rendered anew on every submission and decision.

The render runs after the transition commits (the outbox topic ``application.render_form``, task
``workers.document_tasks``): it reads the application in one short transaction, renders and stores
the file with no transaction open, and writes the document row in another short one. Until then the
application shows its form as 「生成中」 (``form_status``).
"""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session, joinedload

from storage.db import Database
from storage.objects import ObjectStore
from templates.district import BUREAU_SHORT
from templates.docx import render_docx
from workflows import clock, outbox
from workflows.access import Viewer
from workflows.applications import decisions
from workflows.applications.eligibility import RESULT_LABELS
from workflows.applications.models import Application, Decision
from workflows.applications.schemas import (
    ATTACHMENT_LABELS,
    INSPECTION_LABELS,
    OWNERSHIP_LABELS,
    ApplicationForm,
    AttachmentKind,
    InspectionResult,
    Ownership,
)
from workflows.documents.models import Document
from workflows.documents.service import DOCX, next_version_no, record_stored, store_generated
from workflows.registry.models import Alliance

logger = logging.getLogger(__name__)

TEMPLATE = "application_form.docx"
KIND = "application_form"
RENDER_TOPIC = "application.render_form"
GENERATING, READY, NONE = "generating", "ready", "none"
FORM_STATUS_LABELS = {GENERATING: "生成中", READY: "已生成", NONE: "未生成"}
# A render whose application moved on while it ran starts again, a few times at most.
_RENDER_ATTEMPTS = 3
COMMITMENTS = (
    "本园承诺：按时参加联盟组织的各项教研活动；按要求提交活动资料并及时归档；如实填报各项信息；"
    f"接受联盟和{BUREAU_SHORT}的指导与年度考核评价。"
)


def _size_label(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{max(1, round(size / 1024))} KB"


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def form_context(
    session: Session, application: Application, version_no: int, decision: Decision | None = None
) -> dict[str, Any]:
    """Every template variable of the application form, as plain text values; ``decision`` fills the
    审核意见 block (blank lines to write on while there is none)."""
    form = ApplicationForm.model_validate(application.form)
    alliance = session.get(Alliance, form.preferred_alliance_id) if form.preferred_alliance_id else None
    rate = (
        f"{form.certified_teachers / form.teachers:.0%}"
        if form.teachers and form.certified_teachers is not None
        else ""
    )
    plain = {
        name: _text(getattr(form, name))
        for name in (
            "name",
            "credit_code",
            "licence_no",
            "sponsor",
            "legal_representative",
            "head_name",
            "head_phone",
            "contact_name",
            "contact_phone",
            "address",
            "town",
            "classes",
            "children",
            "staff",
            "teachers",
            "certified_teachers",
            "site_area_m2",
            "building_area_m2",
            "last_inspection_year",
            "penalties_last_3_years",
            "safety_incidents_last_3_years",
            "reasons",
        )
    }
    return {
        **plain,
        "licence_issued_on": form.licence_issued_on.isoformat() if form.licence_issued_on else "",
        "ownership_label": OWNERSHIP_LABELS[Ownership(form.ownership)] if form.ownership else "",
        "inclusive_label": "" if form.inclusive is None else ("是" if form.inclusive else "否"),
        "certification_rate": rate,
        "last_inspection_result": INSPECTION_LABELS[InspectionResult(form.last_inspection_result)]
        if form.last_inspection_result
        else "",
        "preferred_alliance_name": alliance.name if alliance else "",
        "needs_label": "、".join(form.needs or []),
        "commitments": COMMITMENTS if form.commitments_accepted else "（未确认）",
        "attachments": [
            {
                "kind_label": ATTACHMENT_LABELS[AttachmentKind(a.kind)],
                "filename": a.filename,
                "size_label": _size_label(a.size),
                "sha256_short": a.sha256[:16],
            }
            for a in sorted(
                application.current_attachments, key=lambda a: list(AttachmentKind).index(AttachmentKind(a.kind))
            )
        ],
        "eligibility": [
            {"label": c["label"], "result": RESULT_LABELS[c["result"]], "detail": c["detail"]}
            for c in application.eligibility
        ],
        "application_no": application.number,
        "version_no": str(version_no),
        "generated_on": clock.chinese_date(application.submitted_at or clock.now()),
        "submitted_on": clock.chinese_date(application.submitted_at) if application.submitted_at else "",
        **decisions.review_block(decision),
    }


def render_application_form(
    *, session: Session, objects: ObjectStore, application: Application, actor: Viewer
) -> Document:
    """Render the form as it stands and store it as the application's next 申请表 version."""
    version_no = next_version_no(session, owner_type="application", owner_id=application.id, kind="application_form")
    decision = decisions.find(session, application.id)
    content = render_docx(TEMPLATE, form_context(session, application, version_no, decision))
    return store_generated(
        session=session,
        objects=objects,
        owner_type="application",
        owner_id=application.id,
        kind="application_form",
        title=f"加入联盟申请表（第 {version_no} 版）",
        filename=f"{application.number}_申请表_v{version_no}.docx",
        content=content,
        created_by=str(actor.user_id),
    )


def request_render(session: Session, application: Application, actor: Viewer) -> None:
    """Ask for the 申请表 as the application stands at this submission or decision, rendered after
    this transaction commits; ``due`` (the submission's or decision's time) names that version."""
    due = _render_due(application)
    if due is None:
        raise RuntimeError("a 申请表 is rendered for a submission or a decision")
    outbox.record(
        session, RENDER_TOPIC, application_id=str(application.id), actor_id=str(actor.user_id), due=due.isoformat()
    )


def _render_due(application: Application) -> datetime | None:
    """The moment of the last submission or decision, whose 申请表 is due."""
    stamps = [t for t in (application.submitted_at, application.decided_at) if t is not None]
    return max(stamps) if stamps else None


def _versions_due(application: Application) -> int:
    """How many 申请表 versions the current submission calls for: its own, and one with the decision."""
    if application.submitted_at is None:
        return 0
    decided = application.decided_at is not None and application.decided_at >= application.submitted_at
    return 2 if decided else 1


@dataclass(frozen=True)
class _Stored:
    since_submission: int  # 申请表 versions stored since the current submission
    latest: int  # the highest version number stored (0: none yet)


def _stored(session: Session, application: Application) -> _Stored:
    """What 申请表 versions the application has, from one statement."""
    since_submission = (
        func.count().filter(Document.created_at >= application.submitted_at)
        if application.submitted_at is not None
        else literal(0)
    )
    since, latest = session.execute(
        select(since_submission, func.max(Document.version_no)).where(
            Document.owner_type == "application", Document.owner_id == application.id, Document.kind == KIND
        )
    ).one()
    return _Stored(int(since), int(latest or 0))


def form_status(session: Session, application: Application) -> str:
    """``generating`` while a 申请表 of the current submission or its decision is not stored yet."""
    return form_statuses(session, [application])[application.id]


def form_statuses(session: Session, applications: list[Application]) -> dict[uuid.UUID, str]:
    """``form_status`` of each application, from one statement whatever the length of the list."""
    stamps: dict[uuid.UUID, list[datetime]] = {a.id: [] for a in applications}
    # A 申请表 is rendered for a submission or a decision, so one never submitted has none to look for.
    if any(a.submitted_at is not None for a in applications):
        rows = session.execute(
            select(Document.owner_id, Document.created_at).where(
                Document.owner_type == "application", Document.owner_id.in_(stamps), Document.kind == KIND
            )
        )
        for owner_id, created_at in rows:
            stamps[owner_id].append(created_at)
    statuses = {}
    for a in applications:
        stored = stamps[a.id]
        since = sum(1 for t in stored if a.submitted_at is not None and t >= a.submitted_at)
        statuses[a.id] = GENERATING if since < _versions_due(a) else READY if stored else NONE
    return statuses


@dataclass(frozen=True)
class _Due:
    """The 申请表 due, as read in one transaction: what it shows, and what it was computed from."""

    context: dict[str, Any]
    # What the context is made of, cheaper to read again than the context is to build: the form and
    # its checks, the submission and decision stamps, the current attachments, the preferred
    # alliance's name, the versions stored so far. (Not the row version: a move such as 开始审核
    # while the file renders changes nothing the file shows.)
    basis: tuple[object, ...]

    @property
    def version_no(self) -> int:
        return int(self.context["version_no"])


def _due_basis(session: Session, application_id: uuid.UUID, due: datetime) -> tuple[Application, _Stored, bool] | None:
    """The application, its stored versions and whether the form due carries the decision; None when
    nothing is due: stored already (a redelivery), or ``due`` belongs to a later-replaced submission."""
    application = session.get(Application, application_id, options=[joinedload(Application.attachments)])
    if application is None or application.submitted_at is None or due < application.submitted_at:
        return None
    # The submission's own version is the 1st since it, the decision's the 2nd.
    with_decision = application.decided_at is not None and application.submitted_at <= application.decided_at <= due
    stored = _stored(session, application)
    if stored.since_submission >= (2 if with_decision else 1):
        return None
    return application, stored, with_decision


def _basis(session: Session, application: Application, stored: _Stored) -> tuple[object, ...]:
    alliance_id = application.preferred_alliance_id
    alliance_name = session.scalar(select(Alliance.name).where(Alliance.id == alliance_id)) if alliance_id else None
    attachments = tuple(sorted(str(a.id) for a in application.current_attachments))
    return (
        application.form, application.eligibility, application.number, application.submitted_at,
        application.decided_at, attachments, alliance_name, stored.latest,
    )  # fmt: skip


def _context_due(session: Session, application_id: uuid.UUID, due: datetime) -> _Due | None:
    """What the 申请表 due at ``due`` shows (None when there is nothing to store)."""
    found = _due_basis(session, application_id, due)
    if found is None:
        return None
    application, stored, with_decision = found
    decision = decisions.find(session, application.id) if with_decision else None
    context = form_context(session, application, stored.latest + 1, decision)
    return _Due(context, _basis(session, application, stored))


def render_pending_form(
    *,
    db: Database,
    objects: ObjectStore,
    application_id: uuid.UUID,
    actor_id: str,
    due: datetime,
    finish: Callable[[Session], None] | None = None,
) -> str | None:
    """Render and store the 申请表 due at ``due`` unless it is stored already; idempotent.

    Returns the new document's id, or None when there was nothing to do. No transaction is open while
    the file renders and uploads (it reads a snapshot first, taking no lock); the row is written only
    if what the file shows is still what is due, and ``finish`` (a worker's receipt) in the same
    transaction."""
    for _ in range(_RENDER_ATTEMPTS):
        with db.reading_session() as session:
            pending = _context_due(session, application_id, due)
        if pending is None:
            return None
        content = render_docx(TEMPLATE, pending.context)
        filename = f"{pending.context['application_no']}_申请表_v{pending.version_no}.docx"
        # Content-addressed, before the row: if the row never commits, the orphan sweep removes it.
        stored = objects.put(io.BytesIO(content), filename=filename, content_type=DOCX)
        with db.session() as session:
            found = _due_basis(session, application_id, due)
            if found is None:
                return None
            application, versions, _ = found
            if _basis(session, application, versions) != pending.basis:
                logger.info("application %s changed while its form rendered; rendering again", application_id)
                continue
            document = record_stored(
                session=session, stored=stored, owner_type="application", owner_id=application_id, kind=KIND,
                title=f"加入联盟申请表（第 {pending.version_no} 版）", created_by=actor_id,
                version_no=pending.version_no,
            )  # fmt: skip
            if finish is not None:
                finish(session)
            return str(document.id)
    raise RuntimeError(f"application {application_id}: its form kept changing while it rendered")
