"""Turning activities, semesters and their records into what the API returns."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from workflows.access import Viewer
from workflows.activities.archive import BUNDLE_LABELS
from workflows.activities.compliance import AllianceCompliance, activity_counting
from workflows.activities.compliance_schemas import ComplianceOut, CountingOut, LedgerRow, WorkStatusOut
from workflows.activities.documents import headcount, sorted_participants
from workflows.activities.ledger import LedgerEntry
from workflows.activities.machine import ACTIVITY_WORKFLOW
from workflows.activities.materials import completeness
from workflows.activities.models import Activity, ActivityBundle, ActivityComment, Material, Semester, SemesterWork
from workflows.activities.notice import notice_due_on
from workflows.activities.schemas import (
    ActivityOut,
    AttendanceCounts,
    BundleStatusOut,
    CategoryStatus,
    CommentOut,
    CompletenessOut,
    MaterialOut,
    ParticipantOut,
    SemesterOut,
    WorkOut,
)
from workflows.activities.semester_work import Standing, current_document, standing
from workflows.activities.vocabulary import (
    ATTENDANCE_LABELS,
    CATEGORY_LABELS,
    WORK_LABELS,
    WORK_STATUS_LABELS,
    Attendance,
    MaterialCategory,
    WorkKind,
    semester_name,
)
from workflows.documents.schemas import DocumentOut
from workflows.registry.models import Alliance


def semester_out(s: Semester) -> SemesterOut:
    return SemesterOut(
        id=s.id, code=s.code, name=s.name, starts_on=s.starts_on, ends_on=s.ends_on, plan_due_on=s.plan_due_on,
        summary_due_on=s.summary_due_on, materials_due_days=s.materials_due_days, min_centralised=s.min_centralised,
        notice_days=s.notice_days,
    )  # fmt: skip


def activity_out(viewer: Viewer, a: Activity) -> ActivityOut:
    """The activity as this viewer sees it, with the events the viewer could fire now."""
    counts = headcount(a)
    counted = activity_counting(a)
    return ActivityOut(
        id=a.id,
        number=a.number,
        seq=a.seq,
        alliance_id=a.alliance_id,
        alliance_name=a.alliance.name,
        semester=a.semester.code,
        semester_name=semester_name(a.semester.code),
        topic=a.topic,
        domain=a.domain,
        format=a.format,
        centralised=counted.counts,
        counting_reason=counted.reason,
        starts_at=a.starts_at,
        ends_at=a.ends_at,
        place=a.place,
        meeting_no=a.meeting_no,
        host_kindergarten_id=a.host_kindergarten_id,
        host_name=a.host.name,
        chair=a.chair,
        goal=a.goal,
        credit_hours=a.credit_hours,
        state=a.state,
        state_label=ACTIVITY_WORKFLOW.label(a.state),
        version=a.version,
        cancel_reason=a.cancel_reason,
        announced_at=a.announced_at,
        announced_in_advance=None if a.announced_at is None else a.announced_at < a.starts_at,
        announced_late=a.announced_late,
        notice_due_on=notice_due_on(a),
        late_notice_allowed=a.late_notice_allowed_at is not None,
        late_notice_reason=a.late_notice_reason,
        late_notice_allowed_by=a.late_notice_allowed_by,
        held_at=a.held_at,
        archived_at=a.archived_at,
        cancelled_at=a.cancelled_at,
        participants=[
            ParticipantOut(
                id=p.id,
                teacher_id=p.teacher_id,
                guest=p.teacher_id is None and p.user_id is None,
                walk_in=p.walk_in,
                name=p.name,
                post=p.post,
                kindergarten_id=p.kindergarten_id,
                kindergarten_name=p.kindergarten_name,
                role=p.role,
                user_id=p.user_id,
                attendance=p.attendance,
                attendance_label=ATTENDANCE_LABELS[Attendance(p.attendance)],
                signed_at=p.signed_at,
                self_signed_at=p.self_signed_at,
                note=p.note,
            )  # fmt: skip
            for p in sorted_participants(a)
        ],
        attendance=AttendanceCounts(**counts),
        materials=len(a.current_materials),
        allowed_events=[
            e for e in ACTIVITY_WORKFLOW.allowed_events(a, viewer.role) if viewer.alliance_id == a.alliance_id
        ],
    )


def material_out(m: Material) -> MaterialOut:
    return MaterialOut(
        id=m.id, category=m.category, category_label=CATEGORY_LABELS[MaterialCategory(m.category)],
        filename=m.filename, content_type=m.content_type, size=m.size, sha256=m.sha256,
        uploader_name=m.uploader_name, uploaded_at=m.uploaded_at, withdrawn_at=m.removed_at,
        withdrawn_by=m.removed_by_name, withdraw_reason=m.removed_reason,
    )  # fmt: skip


def completeness_out(a: Activity, *, today: date) -> CompletenessOut:
    state = completeness(a, today=today)
    return CompletenessOut(
        activity_id=a.id,
        due_on=state.due_on,
        overdue=state.overdue,
        complete=state.complete,
        missing=[c.value for c in state.missing],
        categories=[
            CategoryStatus(category=c.value, label=CATEGORY_LABELS[c], files=n) for c, n in state.counts.items()
        ],
    )


def comment_out(c: ActivityComment) -> CommentOut:
    return CommentOut(
        id=c.id, author_name=c.author_name, author_role=c.author_role, body=c.body, created_at=c.created_at
    )


def bundle_out(b: ActivityBundle) -> BundleStatusOut:
    if b.state == "ready":
        percent = 100
    elif b.phase == "checking":
        percent = 20 * b.done // max(b.total, 1)
    elif b.phase == "packing":
        percent = 20 + 80 * b.done // max(b.total, 1)
    else:
        percent = 0
    return BundleStatusOut(
        activity_id=b.activity_id, state=b.state, state_label=BUNDLE_LABELS.get(b.state, b.state), phase=b.phase,
        done=b.done, total=b.total, percent=min(percent, 100), filename=b.filename, size=b.size, sha256=b.sha256,
        manifest_sha256=b.manifest_sha256, error=b.error, requested_at=b.requested_at, finished_at=b.finished_at,
    )  # fmt: skip


def standing_out(s: Standing) -> WorkStatusOut:
    return WorkStatusOut(
        status=s.status.value, status_label=WORK_STATUS_LABELS[s.status], overdue=s.overdue, due_on=s.due_on,
        submitted_at=s.submitted_at,
    )  # fmt: skip


def work_out(
    session: Session, *, semester: Semester, alliance: Alliance, kind: WorkKind, work: SemesterWork | None, today: date
) -> WorkOut:
    s = standing(semester, kind, work, today=today)
    document = current_document(session, work)
    return WorkOut(
        alliance_id=alliance.id, alliance_name=alliance.name, semester=semester.code,
        semester_name=semester_name(semester.code), kind=kind.value,
        kind_label=WORK_LABELS[kind], status=s.status.value, status_label=WORK_STATUS_LABELS[s.status],
        overdue=s.overdue, due_on=s.due_on, source=work.source if work and work.first_submitted_at else None,
        form=work.form if work else {}, document=DocumentOut.of(document) if document else None,
        first_submitted_at=work.first_submitted_at if work else None, submitted_at=s.submitted_at,
        version=work.version if work else None, shared_at=work.shared_at if work else None,
        unshared_at=work.unshared_at if work else None, unshare_reason=work.unshare_reason if work else "",
    )  # fmt: skip


def compliance_out(c: AllianceCompliance) -> ComplianceOut:
    return ComplianceOut(
        alliance_id=c.alliance.id, alliance_code=c.alliance.code, alliance_name=c.alliance.name,
        semester=c.semester.code, semester_name=semester_name(c.semester.code), centralised_held=c.centralised_held, minimum=c.semester.min_centralised,
        meets_minimum=c.meets_minimum, behind=c.behind, activities_by_state=c.by_state, plan=standing_out(c.plan),
        activities=[
            CountingOut(activity_id=a.id, number=a.number, topic=a.topic, format=a.format, state=a.state,
                        counts=n.counts, reason=n.reason, announced_late=a.announced_late)
            for a, n in c.activities
        ],
        summary=standing_out(c.summary), materials_overdue=c.materials_overdue,
    )  # fmt: skip


def ledger_row(e: LedgerEntry) -> LedgerRow:
    t = e.teacher
    return LedgerRow(
        teacher_id=t.id, teacher_code=t.code, teacher_name=t.name, kindergarten_id=t.kindergarten_id,
        kindergarten_name=t.kindergarten.name, activities_attended=e.attended, presented=e.presented,
        participated=e.participated, leave=e.leave, absent=e.absent, hours=e.hours,
    )  # fmt: skip
