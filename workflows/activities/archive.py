"""Building an archived activity's bundle (活动档案), idempotently, with progress others can watch.

The task reads what it needs in one short transaction, checks every material and streams the zip
with no transaction open (SQLite allows one writer; a long build must not hold it), then records the
result. The bundle's key is derived from its manifest, so a redelivered task finds the same key
already written and changes nothing; the same materials always give the same bytes.
"""

from __future__ import annotations

import hashlib
import logging
import re
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from storage.bundles import BundleEntry, build_bundle
from storage.db import Database, utcnow
from storage.objects import ObjectNotFound, ObjectStore, StoredObject
from workflows.access import Viewer
from workflows.activities.archive_files import (
    ArchiveRecord,
    FileCheck,
    GeneratedFile,
    MaterialRecord,
    check_report,
    cover,
    index_workbook,
    local_time,
    manifest,
)
from workflows.activities.documents import activity_header, headcount
from workflows.activities.models import Activity, ActivityBundle
from workflows.activities.service import get_visible
from workflows.activities.vocabulary import CATEGORY_FOLDERS, CATEGORY_LABELS, MaterialCategory, semester_name
from workflows.archive_checks import check_file, safe_member_path
from workflows.clock import BEIJING
from workflows.errors import Conflict

logger = logging.getLogger(__name__)

INDEX_FOLDER = "00_目录"
SPOOL_IN_MEMORY = 8 << 20
PROGRESS_EVERY_SECONDS = 0.5
BUNDLE_LABELS = {"requested": "等待生成", "building": "生成中", "ready": "已生成", "failed": "生成失败"}
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"|?*\\/]')


def root_folder(day: date, seq: int, topic: str) -> str:
    """``YYYYMMDD-序号-主题``, safe as one path segment."""
    name = _UNSAFE.sub("_", topic).strip(" .")[:40].rstrip(" .") or "教研活动"
    return f"{day:%Y%m%d}-{seq:02d}-{name}"


def read_record(activity: Activity) -> ArchiveRecord:
    """Everything the bundle needs from the database, as plain values."""
    day = activity.starts_at.astimezone(BEIJING).date()
    order = list(MaterialCategory)
    materials = sorted(
        activity.current_materials, key=lambda m: (order.index(MaterialCategory(m.category)), m.filename)
    )
    return ArchiveRecord(
        activity_id=str(activity.id),
        number=activity.number,
        seq=activity.seq,
        year=day.year,
        day=day,
        topic=activity.topic,
        alliance_code=activity.alliance.code,
        alliance_name=activity.alliance.name,
        semester_name=semester_name(activity.semester.code),
        header=activity_header(activity),
        headcount=headcount(activity),
        archived_on=(activity.archived_at or utcnow()).astimezone(BEIJING).date(),
        archived_by=activity.archived_by,
        materials=tuple(
            MaterialRecord(
                category=MaterialCategory(m.category),
                filename=m.filename,
                size=m.size,
                sha256=m.sha256,
                object_key=m.object_key,
                uploader=m.uploader_name,
                uploaded_at=m.uploaded_at,
            )
            for m in materials
        ),
    )


def material_path(root: str, m: MaterialRecord) -> str:
    return f"{root}/{CATEGORY_FOLDERS[m.category]}/{m.filename}"


def shelf_path(m: MaterialRecord) -> str:
    """Where a material sits inside the bundle's root folder, as the check report names it."""
    return f"{CATEGORY_FOLDERS[m.category]}/{m.filename}"


def check_material(objects: ObjectStore, m: MaterialRecord, path: str) -> FileCheck:
    """Authenticity (the stored bytes hash to what was registered) plus archive_checks' usability and security."""
    digest, size = hashlib.sha256(), 0
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
        try:
            for chunk in objects.iter_chunks(m.object_key):
                digest.update(chunk)
                size += len(chunk)
                spool.write(chunk)
        except ObjectNotFound:
            return FileCheck(path, m.size, False, False, False, False, ("存储中找不到该文件",))
        spool.seek(0)
        result = check_file(spool, filename=m.filename, expected_sha256=None)  # type: ignore[arg-type]
    authentic = digest.hexdigest() == m.sha256 and size == m.size
    problems = ([] if authentic else ["文件校验值（SHA-256）与登记值不符"]) + list(result.problems)
    return FileCheck(path, m.size, True, authentic, result.usable, result.secure, tuple(problems))


@dataclass(frozen=True)
class BundlePlan:
    key: str
    filename: str
    manifest_sha256: str
    entries: list[BundleEntry]


def plan_bundle(record: ArchiveRecord, checks: list[FileCheck]) -> BundlePlan:
    """The bundle's entries in order, with the 00_目录 files generated from the record and the checks."""
    root = root_folder(record.day, record.seq, record.topic)
    index = f"{root}/{INDEX_FOLDER}"
    generated = [
        GeneratedFile(f"{index}/封面.docx", cover(record), "封面"),
        GeneratedFile(f"{index}/四性检测报告.docx", check_report(record, checks), "四性检测报告"),
    ]
    rows = [
        (g.label, g.path.rsplit("/", 1)[-1], g.path, len(g.data), hashlib.sha256(g.data).hexdigest(), "系统",
         local_time(record_time(record)))
        for g in generated
    ]  # fmt: skip
    rows += [
        (CATEGORY_LABELS[m.category], m.filename, material_path(root, m), m.size, m.sha256, m.uploader,
         local_time(m.uploaded_at))
        for m in record.materials
    ]  # fmt: skip
    generated.insert(1, GeneratedFile(f"{index}/归档文件目录.xlsx", index_workbook(record, rows), "归档文件目录"))
    listed = [
        {"path": g.path, "category": None, "size": len(g.data), "sha256": hashlib.sha256(g.data).hexdigest()}
        for g in generated
    ] + [
        {"path": material_path(root, m), "category": m.category.value, "size": m.size, "sha256": m.sha256}
        for m in record.materials
    ]
    manifest_bytes = manifest(record, listed)
    manifest_sha256 = hashlib.sha256(manifest_bytes).hexdigest()
    entries = [BundleEntry(path=g.path, data=g.data) for g in generated]
    entries.append(BundleEntry(path=f"{index}/manifest.json", data=manifest_bytes))
    for category in MaterialCategory:
        entries.append(BundleEntry(path=f"{root}/{CATEGORY_FOLDERS[category]}/"))
        entries += [
            BundleEntry(path=material_path(root, m), object_key=m.object_key, size=m.size, sha256=m.sha256)
            for m in record.materials
            if m.category == category
        ]
    unsafe = [e.path for e in entries if not safe_member_path(e.path)]
    if unsafe:
        raise ValueError(f"unsafe bundle paths: {unsafe}")
    return BundlePlan(
        key=f"bundles/activities/{manifest_sha256}.zip",
        filename=f"{record.number}_活动档案.zip",
        manifest_sha256=manifest_sha256,
        entries=entries,
    )


def record_time(record: ArchiveRecord) -> datetime:
    """Generated files are dated by the archiving day (noon CST), never by when the task ran."""
    return datetime(record.archived_on.year, record.archived_on.month, record.archived_on.day, 12, tzinfo=BEIJING)


def _progress(db: Database, activity_id: uuid.UUID, phase: str) -> Callable[[int, int], None]:
    last = 0.0

    def report(done: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if done < total and now - last < PROGRESS_EVERY_SECONDS:
            return
        last = now
        with db.session() as session:
            bundle = session.get(ActivityBundle, activity_id)
            if bundle is not None:
                bundle.phase, bundle.done, bundle.total = phase, done, total

    return report


def build_activity_bundle(*, db: Database, objects: ObjectStore, activity_id: uuid.UUID) -> str:
    """Build and store the bundle of an archived activity; a second run finds it built and changes nothing."""
    with db.session() as session:
        activity = session.get(Activity, activity_id)
        if activity is None or activity.state != "archived":
            return "skipped"
        bundle = session.get(ActivityBundle, activity_id)
        if bundle is None:
            bundle = ActivityBundle(activity_id=activity_id)
            session.add(bundle)
        elif bundle.state == "ready" and bundle.object_key and objects.exists(bundle.object_key):
            return "done"
        record = read_record(activity)
        bundle.state, bundle.phase, bundle.error = "building", "checking", ""
        bundle.done, bundle.total, bundle.started_at = 0, len(record.materials), utcnow()
    try:
        stored = _build(db, objects, activity_id, record)
    except Exception as exc:
        with db.session() as session:
            bundle = session.get(ActivityBundle, activity_id)
            if bundle is not None:
                bundle.state, bundle.error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
        raise
    return stored


def _build(db: Database, objects: ObjectStore, activity_id: uuid.UUID, record: ArchiveRecord) -> str:
    checking = _progress(db, activity_id, "checking")
    checks = []
    for n, m in enumerate(record.materials, start=1):
        checks.append(check_material(objects, m, shelf_path(m)))
        checking(n, len(record.materials))
    plan = plan_bundle(record, checks)
    if objects.exists(plan.key):
        stored: StoredObject = objects.stat(plan.key)
    else:
        stored = build_bundle(
            objects, plan.entries, key=plan.key, filename=plan.filename, progress=_progress(db, activity_id, "packing")
        )
    with db.session() as session:
        bundle = session.get(ActivityBundle, activity_id)
        if bundle is None:
            raise RuntimeError("expected bundle is not None")
        bundle.state, bundle.phase, bundle.done, bundle.total = "ready", "", bundle.total, bundle.total
        bundle.object_key, bundle.filename, bundle.size, bundle.sha256 = (
            stored.key,
            plan.filename,
            stored.size,
            stored.sha256,
        )
        bundle.manifest_sha256, bundle.finished_at = plan.manifest_sha256, utcnow()
    logger.info("activity %s: bundle %s (%d bytes)", record.number, stored.key, stored.size)
    return "built"


def get_bundle(*, session: Session, viewer: Viewer, activity_id: uuid.UUID) -> ActivityBundle:
    """The bundle status of a visible activity (archiving requests it)."""
    get_visible(session=session, viewer=viewer, activity_id=activity_id)
    bundle = session.get(ActivityBundle, activity_id)
    if bundle is None:
        raise Conflict("活动尚未归档，没有档案包", code="not_archived")
    return bundle


def ready_bundle(*, session: Session, viewer: Viewer, activity_id: uuid.UUID) -> ActivityBundle:
    """The bundle of a visible activity if it has been built; Conflict while it is not ready."""
    bundle = get_bundle(session=session, viewer=viewer, activity_id=activity_id)
    if bundle.state != "ready" or not bundle.object_key:
        raise Conflict(f"档案包{BUNDLE_LABELS.get(bundle.state, bundle.state)}，请稍后再试", code="bundle_not_ready")
    return bundle
