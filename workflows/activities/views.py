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
from workflows.presenters import Presented
from workflows.registry.models import Alliance


def semester_out(s: Semester) -> SemesterOut:
    return SemesterOut.model_validate(s)


def activity_out(viewer: Viewer, a: Activity) -> ActivityOut:
    """The activity as this viewer sees it, with the events the viewer could fire now."""
    counts = headcount(a)
    counted = activity_counting(a)
    return ActivityOut.model_validate(
        Presented(
            a,
            alliance_name=a.alliance.name,
            semester=a.semester.code,
            semester_name=semester_name(a.semester.code),
            centralised=counted.counts,
            counting_reason=counted.reason,
            host_name=a.host.name,
            state_label=ACTIVITY_WORKFLOW.label(a.state),
            announced_in_advance=None if a.announced_at is None else a.announced_at < a.starts_at,
            notice_due_on=notice_due_on(a),
            late_notice_allowed=a.late_notice_allowed_at is not None,
            participants=[
                Presented(
                    p,
                    guest=p.teacher_id is None and p.user_id is None,
                    attendance_label=ATTENDANCE_LABELS[Attendance(p.attendance)],
                )
                for p in sorted_participants(a)
            ],
            attendance=AttendanceCounts(**counts),
            materials=len(a.current_materials),
            allowed_events=[
                e for e in ACTIVITY_WORKFLOW.allowed_events(a, viewer.role) if viewer.alliance_id == a.alliance_id
            ],
        )
    )


def material_out(m: Material) -> MaterialOut:
    return MaterialOut.model_validate(
        Presented(
            m,
            category_label=CATEGORY_LABELS[MaterialCategory(m.category)],
            withdrawn_at=m.removed_at,
            withdrawn_by=m.removed_by_name,
            withdraw_reason=m.removed_reason,
        )
    )


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
    return CommentOut.model_validate(c)


def bundle_out(b: ActivityBundle) -> BundleStatusOut:
    if b.state == "ready":
        percent = 100
    elif b.phase == "checking":
        percent = 20 * b.done // max(b.total, 1)
    elif b.phase == "packing":
        percent = 20 + 80 * b.done // max(b.total, 1)
    else:
        percent = 0
    return BundleStatusOut.model_validate(
        Presented(b, state_label=BUNDLE_LABELS.get(b.state, b.state), percent=min(percent, 100))
    )


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
            CountingOut.model_validate(Presented(a, activity_id=a.id, counts=n.counts, reason=n.reason))
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
