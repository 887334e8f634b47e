"""Activity materials: who may upload what, names made safe and unique, and what is still missing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import BinaryIO

from sqlalchemy.orm import Session

from storage.db import utcnow
from storage.objects import ObjectStore
from storage.settings import Settings
from workflows import audit
from workflows.access import Viewer
from workflows.activities.machine import ACTIVITY_WORKFLOW, MATERIAL_STATES, TOOK_PLACE
from workflows.activities.models import Activity, Material
from workflows.activities.service import get_visible, is_organiser
from workflows.activities.upload_checks import DOCX, EXTENSIONS, MEDIA_TYPES, MP4, sniff_material
from workflows.activities.vocabulary import CATEGORY_LABELS, MaterialCategory
from workflows.clock import BEIJING
from workflows.errors import Forbidden, NotFound, TransitionNotAllowed, ValidationFailed
from workflows.uploads import JPEG, MAX_NAME_CHARS, PDF, PNG, safe_filename

DOCUMENT_TYPES = frozenset({DOCX, PDF})
REASON_MAX = 500
# What each category accepts, judged by content. A sign-in sheet is often a photo or scan of the
# signed paper, so it also takes images.
ALLOWED_TYPES: dict[MaterialCategory, frozenset[str]] = {
    MaterialCategory.SIGN_IN: DOCUMENT_TYPES | {JPEG, PNG},
    MaterialCategory.LESSON_PLAN: DOCUMENT_TYPES,
    MaterialCategory.REFLECTION: DOCUMENT_TYPES,
    MaterialCategory.LESSON_CASE: DOCUMENT_TYPES,
    MaterialCategory.DISCUSSION: DOCUMENT_TYPES,
    MaterialCategory.MEDIA: frozenset({JPEG, PNG, MP4}),
    MaterialCategory.REPORT: DOCUMENT_TYPES,
}


def may_upload(viewer: Viewer, activity: Activity) -> bool:
    """The organiser, the host kindergarten and the presenters' kindergartens hand in materials."""
    if is_organiser(viewer, activity):
        return True
    if viewer.kindergarten_id is None:
        return False
    presenters = {p.kindergarten_id for p in activity.participants if p.role == "presenter"}
    return viewer.kindergarten_id == activity.host_kindergarten_id or viewer.kindergarten_id in presenters


def unique_name(name: str, taken: set[str]) -> str:
    """``name``, or ``stem (2).ext``, ``stem (3).ext`` … when a file of that name is already there."""
    if name.casefold() not in taken:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    n = 2
    while True:
        suffix = f" ({n})" + (f".{ext}" if ext else "")
        candidate = stem[: MAX_NAME_CHARS - len(suffix)] + suffix
        if candidate.casefold() not in taken:
            return candidate
        n += 1


def add_material(
    *,
    session: Session,
    viewer: Viewer,
    objects: ObjectStore,
    settings: Settings,
    activity_id: uuid.UUID,
    category: MaterialCategory,
    stream: BinaryIO,
    filename: str,
) -> Material:
    """Check a material by content, store it, and list it under its category with a unique safe name."""
    activity = get_visible(session=session, viewer=viewer, activity_id=activity_id, lock=True)
    if not may_upload(viewer, activity):
        raise Forbidden("只有龙头园、承办园和主讲教师所在园可以上传活动资料")
    if activity.state not in MATERIAL_STATES:
        label = ACTIVITY_WORKFLOW.label(activity.state)
        raise TransitionNotAllowed(f"活动当前为「{label}」，不能再上传资料")
    mime = sniff_material(stream, allowed=ALLOWED_TYPES[category])
    limit = settings.max_media_bytes if mime in MEDIA_TYPES else settings.max_upload_bytes
    # The object is stored first (streamed through a spool file); the row follows only on success.
    safe = safe_filename(filename, default=CATEGORY_LABELS[category], extension=EXTENSIONS[mime])
    stored = objects.put(stream, filename=safe, content_type=mime, max_size=limit)
    taken = {m.filename.casefold() for m in activity.current_materials if m.category == category.value}
    name = unique_name(safe, taken)
    material = Material(
        activity_id=activity.id,
        category=category.value,
        filename=name,
        content_type=mime,
        size=stored.size,
        sha256=stored.sha256,
        object_key=stored.key,
        uploaded_by=viewer.user_id,
        uploader_name=viewer.display_name,
        uploaded_at=utcnow(),
    )
    session.add(material)
    session.flush()
    audit.append(
        session,
        entity_type="activity",
        entity_id=activity.id,
        event="material_added",
        actor=viewer.actor,
        from_state=activity.state,
        to_state=activity.state,
        data={"category": category.value, "filename": name, "sha256": stored.sha256, "size": stored.size},
    )
    return material


def list_materials(*, session: Session, viewer: Viewer, activity_id: uuid.UUID) -> list[Material]:
    """The current materials of a visible activity, by category and name."""
    return list_materials_of(get_visible(session=session, viewer=viewer, activity_id=activity_id))


def list_materials_of(activity: Activity) -> list[Material]:
    """The activity's current materials, by category and name."""
    order = list(MaterialCategory)
    return sorted(activity.current_materials, key=lambda m: (order.index(MaterialCategory(m.category)), m.filename))


def get_material(*, session: Session, viewer: Viewer, activity_id: uuid.UUID, material_id: uuid.UUID) -> Material:
    """One current material of a visible activity."""
    activity = get_visible(session=session, viewer=viewer, activity_id=activity_id)
    found = next((m for m in activity.current_materials if m.id == material_id), None)
    if found is None:
        raise NotFound("资料不存在")
    return found


def may_withdraw(viewer: Viewer, activity: Activity, material: Material) -> bool:
    """The uploader, and the lead who runs the activity, may take a material back."""
    return is_organiser(viewer, activity) or material.uploaded_by == viewer.user_id


def withdraw_material(
    *, session: Session, viewer: Viewer, activity_id: uuid.UUID, material_id: uuid.UUID, reason: str
) -> Material:
    """Take back a material uploaded by mistake, saying why (kept, marked withdrawn) before the activity is archived."""
    activity = get_visible(session=session, viewer=viewer, activity_id=activity_id, lock=True)
    material = next((m for m in activity.current_materials if m.id == material_id), None)
    if material is None:
        raise NotFound("资料不存在")
    if not may_withdraw(viewer, activity, material):
        raise Forbidden("只有上传者或龙头园可以撤回资料")
    if activity.state not in MATERIAL_STATES:
        raise TransitionNotAllowed(f"活动当前为「{ACTIVITY_WORKFLOW.label(activity.state)}」，资料不能再撤回")
    reason = reason.strip()
    if not reason:
        raise ValidationFailed.single("reason", "required", "请填写撤回原因")
    if len(reason) > REASON_MAX:
        raise ValidationFailed.single("reason", "too_long", f"撤回原因不能超过 {REASON_MAX} 字")
    material.removed_at = utcnow()
    material.removed_by = viewer.user_id
    material.removed_by_name = viewer.display_name
    material.removed_reason = reason
    session.flush()
    audit.append(
        session,
        entity_type="activity",
        entity_id=activity.id,
        event="material_withdrawn",
        actor=viewer.actor,
        from_state=activity.state,
        to_state=activity.state,
        data={
            "category": material.category,
            "filename": material.filename,
            "sha256": material.sha256,
            "reason": reason,
        },
        comment=reason,
    )
    return material


def withdrawn_materials(activity: Activity) -> list[Material]:
    """The materials taken back, latest first (kept for the record, never in the bundle)."""
    removed = [(m.removed_at, m) for m in activity.materials if m.removed_at is not None]
    return [m for _, m in sorted(removed, key=lambda pair: pair[0], reverse=True)]


@dataclass(frozen=True)
class Completeness:
    due_on: date
    overdue: bool
    counts: dict[MaterialCategory, int]

    @property
    def missing(self) -> list[MaterialCategory]:
        return [c for c, n in self.counts.items() if n == 0]

    @property
    def complete(self) -> bool:
        return not self.missing


def materials_due_on(activity: Activity) -> date:
    """Materials are due ``materials_due_days`` after the day of the activity."""
    return activity.starts_at.astimezone(BEIJING).date() + timedelta(days=activity.semester.materials_due_days)


def completeness(activity: Activity, *, today: date) -> Completeness:
    """Which of the seven categories have files, and whether the missing ones are overdue."""
    counts = dict.fromkeys(MaterialCategory, 0)
    for m in activity.current_materials:
        counts[MaterialCategory(m.category)] += 1
    due_on = materials_due_on(activity)
    missing = any(n == 0 for n in counts.values())
    overdue = missing and activity.state in TOOK_PLACE and today > due_on
    return Completeness(due_on=due_on, overdue=overdue, counts=counts)
