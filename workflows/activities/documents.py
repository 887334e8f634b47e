"""Documents of an activity and of semester work: the sign-in sheet, the plan and the summary."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.objects import ObjectStore
from templates.build_activity_files import QR_PICTURE
from templates.docx import render_docx
from templates.pictures import replace_picture
from workflows.access import Viewer
from workflows.activities.models import Activity, Participant, Semester, SemesterWork
from workflows.activities.schemas import PlanForm, SummaryForm
from workflows.activities.self_sign_in import sign_in_url
from workflows.activities.service import alliance_role_of
from workflows.activities.vocabulary import (
    ALLIANCE_ROLE_SHORT,
    ATTENDANCE_LABELS,
    WORK_LABELS,
    Attendance,
    ParticipantRole,
    WorkKind,
    semester_name,
)
from workflows.clock import BEIJING
from workflows.documents.models import Document
from workflows.documents.service import store_generated
from workflows.registry.models import Alliance, AllianceRole

SIGN_IN_TEMPLATE = "sign_in_sheet.docx"
WORK_TEMPLATE = "semester_work.docx"
ROLE_ORDER = {AllianceRole.LEAD: 0, AllianceRole.PILLAR: 1, AllianceRole.MEMBER: 2, None: 3}
DOCUMENT_KINDS = {WorkKind.PLAN: "alliance_plan", WorkKind.SUMMARY: "research_summary"}
PLAN_SECTIONS: tuple[tuple[str, str], ...] = (
    ("guiding_idea", "一、指导思想"),
    ("goals", "二、工作目标"),
    ("measures", "三、主要内容与措施"),
    ("safeguards", "四、保障措施"),
)
SUMMARY_SECTIONS: tuple[tuple[str, str], ...] = (
    ("overview", "一、基本情况"),
    ("practices", "二、主要做法"),
    ("outcomes", "三、取得的成效"),
    ("reflection", "四、经验与反思"),
    ("improvements", "五、存在问题与改进措施"),
)


def qr_png(text: str) -> bytes:
    """A QR code of ``text`` as PNG bytes (the same text, the same bytes)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=8, border=2)
    code.add_data(text)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    return buffer.getvalue()


def when_label(activity: Activity) -> str:
    start = activity.starts_at.astimezone(BEIJING)
    text = start.strftime("%Y-%m-%d %H:%M")
    if activity.ends_at is not None:
        text += "—" + activity.ends_at.astimezone(BEIJING).strftime("%H:%M")
    return text


def place_label(activity: Activity) -> str:
    if activity.meeting_no:
        return (
            f"{activity.place}（线上会议号 {activity.meeting_no}）"
            if activity.place
            else f"线上会议号 {activity.meeting_no}"
        )
    return activity.place


def sorted_participants(activity: Activity) -> list[Participant]:
    """Those who came to guide (指导) first; then lead, pillar, members, by kindergarten, then as the organiser
    listed them; guests last."""

    def key(p: Participant) -> tuple[int, int, str, int]:
        guiding = p.role == ParticipantRole.GUIDANCE
        role = alliance_role_of(activity, p.kindergarten_id) if p.kindergarten_id is not None else None
        code = p.kindergarten.code if p.kindergarten is not None else ""
        return (0 if guiding else 1, ROLE_ORDER[None] if guiding else ROLE_ORDER[role], code, p.position)

    return sorted(activity.participants, key=key)


def headcount(activity: Activity) -> dict[str, int]:
    """应到/实到/迟到/请假/缺席, and how many are not recorded yet."""
    count = {a: sum(p.attendance == a for p in activity.participants) for a in Attendance}
    return {
        "expected": len(activity.participants),
        "present": count[Attendance.PRESENT] + count[Attendance.LATE],
        "late": count[Attendance.LATE],
        "leave": count[Attendance.LEAVE],
        "absent": count[Attendance.ABSENT],
        "unrecorded": count[Attendance.EXPECTED],
    }


def activity_header(activity: Activity) -> dict[str, str]:
    """The header fields the sign-in sheet and the archive cover share."""
    presenters = [p.name for p in activity.participants if p.role == "presenter"]
    return {
        "number": activity.number,
        "semester_name": activity.semester.name,
        "alliance_name": activity.alliance.name,
        "topic": activity.topic,
        "domain": activity.domain,
        "format": activity.format,
        "when": when_label(activity),
        "place": place_label(activity),
        "host_name": activity.host.name,
        "chair": activity.chair,
        "presenters": "、".join(presenters),
    }


def sign_in_context(activity: Activity, *, base_url: str) -> dict[str, Any]:
    """Every variable of the sign-in sheet; totals stay blank until attendance is recorded."""
    counts = headcount(activity)
    recorded = counts["unrecorded"] < counts["expected"]
    rows = []
    for n, p in enumerate(sorted_participants(activity), start=1):
        status = Attendance(p.attendance)
        note = ATTENDANCE_LABELS[status] if status not in (Attendance.EXPECTED, Attendance.PRESENT) else ""
        role = alliance_role_of(activity, p.kindergarten_id) if p.kindergarten_id is not None else None
        walk_in = ("来宾" if p.teacher_id is None else "临时参加") if p.walk_in else ""
        if p.role == ParticipantRole.GUIDANCE:
            walk_in = ""
        suffix = {"presenter": "（主讲）", ParticipantRole.GUIDANCE.value: "（指导）"}.get(p.role, "")
        rows.append(
            {
                "no": str(n),
                "name": p.name + suffix,
                "kindergarten": p.kindergarten_name,
                "role": ALLIANCE_ROLE_SHORT.get(role.value if role else "", ""),
                "post": p.post,
                "signature": "",
                "signed_at": p.signed_at.astimezone(BEIJING).strftime("%H:%M") if p.signed_at else "",
                "note": "；".join(x for x in (walk_in, note, p.note) if x),
            }
        )
    blank = "____"
    return {
        **activity_header(activity),
        "sign_in_url": sign_in_url(base_url, activity),
        "participants": rows,
        "expected": str(counts["expected"]),
        **{k: str(counts[k]) if recorded else blank for k in ("present", "late", "leave", "absent")},
    }


def render_sign_in_sheet(activity: Activity, *, base_url: str) -> tuple[str, bytes]:
    """The sign-in sheet as it stands, to print: its file name and bytes, its QR code opening the phone
    sign-in page (扫码签到). Printing stores nothing (a GET changes nothing); the signed sheet comes back
    as a 签到表 material, the archive original."""
    context = sign_in_context(activity, base_url=base_url)
    content = replace_picture(
        render_docx(SIGN_IN_TEMPLATE, context), name=QR_PICTURE, content=qr_png(context["sign_in_url"])
    )
    return f"{activity.number}_签到表.docx", content


def _store_if_changed(
    *, session: Session, objects: ObjectStore, owner_type: str, owner_id: Any, kind: str, title: str,
    filename: str, content: bytes, actor: Viewer,
) -> Document:  # fmt: skip
    latest = session.scalars(
        select(Document)
        .where(Document.owner_type == owner_type, Document.owner_id == owner_id, Document.kind == kind)
        .order_by(Document.version_no.desc())
    ).first()
    if latest is not None and latest.sha256 == hashlib.sha256(content).hexdigest():
        return latest
    return store_generated(
        session=session, objects=objects, owner_type=owner_type, owner_id=owner_id, kind=kind, title=title,
        filename=filename, content=content, created_by=str(actor.user_id),
    )  # fmt: skip


def semester_work_context(*, work: SemesterWork, semester: Semester, alliance: Alliance, author: str) -> dict[str, Any]:
    """Every variable of the plan/summary template."""
    kind = WorkKind(work.kind)
    if kind == WorkKind.PLAN:
        plan = PlanForm.model_validate(work.form)
        sections, schedule = (
            PLAN_SECTIONS,
            [
                {"when": r.when, "topic": r.topic, "format": r.format or "", "domain": r.domain or "", "host": r.host}
                for r in plan.schedule
            ],
        )
        values = plan.model_dump()
    else:
        values, sections, schedule = SummaryForm.model_validate(work.form).model_dump(), SUMMARY_SECTIONS, []
    lead = alliance.lead
    submitted = work.submitted_at.astimezone(BEIJING).date().isoformat() if work.submitted_at else ""
    return {
        "title": WORK_LABELS[kind],
        "alliance_name": alliance.name,
        "semester_name": semester.name,
        "lead_name": lead.name if lead else "",
        "author": author,
        "submitted_on": submitted,
        "sections": [{"heading": h, "body": values[name] or "（未填写）"} for name, h in sections],
        "schedule": schedule,
    }


def render_semester_work(
    *, session: Session, objects: ObjectStore, work: SemesterWork, alliance: Alliance, actor: Viewer
) -> Document:
    """Render the plan or summary as it was saved and store it as that work's next version."""
    kind = WorkKind(work.kind)
    semester = session.get(Semester, work.semester_id)
    if semester is None:
        raise RuntimeError("expected semester is not None")
    context = semester_work_context(work=work, semester=semester, alliance=alliance, author=actor.display_name)
    return _store_if_changed(
        session=session, objects=objects, owner_type="semester_work", owner_id=work.id, kind=DOCUMENT_KINDS[kind],
        title=f"{semester.name}{WORK_LABELS[kind]}（{alliance.name}）",
        filename=f"{alliance.code}_{semester_name(semester.code)}_{WORK_LABELS[kind]}.docx", content=render_docx(WORK_TEMPLATE, context),
        actor=actor,
    )  # fmt: skip
