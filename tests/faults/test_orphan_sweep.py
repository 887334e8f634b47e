"""The orphan sweep keeps every object a row points at and deletes old objects nothing references."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta

from sqlalchemy import JSON, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

import workers.maintenance  # noqa: F401 - registers the beat tasks, as a worker's TASK_MODULES does
from storage.db import utcnow
from storage.objects import ObjectStore
from storage.runtime import Runtime
from tests.faults.services import ROOT
from workers.app import TASK_MODULES, celery_config
from workers.registry import TASKS
from workflows.documents.models import Document
from workflows.objects_index import (
    NOT_OBJECT_KEYS,
    marked_columns,
    object_key_column,
    referenced_keys,
    referencing_columns,
    unmarked_key_like_columns,
)
from workflows.orphans import sweep_orphans

DAY = 24 * 3600


def put(objects: ObjectStore, text: str) -> str:
    return objects.put(io.BytesIO(text.encode()), filename=f"{text}.txt", content_type="text/plain").key


def age(runtime: Runtime, key: str, seconds: float) -> None:
    """Backdate a local object (LocalStore keeps the write time as the file's mtime)."""
    path = runtime.objects.root / key  # type: ignore[attr-defined]
    then = time.time() - seconds
    os.utime(path, (then, then))


def point_at(runtime: Runtime, key: str) -> None:
    with runtime.db.session() as session:
        session.add(
            Document(
                kind="test",
                owner_type="orphan-test",
                owner_id=uuid.uuid4(),
                title="t",
                filename="t.txt",
                content_type="text/plain",
                size=1,
                sha256=key.rsplit("/", 1)[-1],
                object_key=key,
            )
        )


def test_every_column_named_like_an_object_key_is_marked():
    unmarked = unmarked_key_like_columns()
    assert not unmarked, (
        f"columns {sorted(unmarked)} look like object-store keys: declare them with "
        "workflows.objects_index.object_key_column(length) (info={'object_key': True}), or add them to "
        "NOT_OBJECT_KEYS if they hold something else, so the orphan sweep knows what they point at"
    )
    # The known key columns are found in the metadata, with nothing registered at import time.
    assert {
        ("documents", "object_key"),
        ("application_attachments", "object_key"),
        ("kindergartens", "seal_key"),
        ("bureau_seals", "seal_key"),
        ("agreements", "archive_key"),
        ("library_items", "object_key"),
        ("activity_materials", "object_key"),
        ("activity_bundles", "object_key"),
    } <= marked_columns()
    assert not marked_columns() & NOT_OBJECT_KEYS


def test_key_columns_are_discovered_from_the_models_not_registered():
    """A model of its own metadata: the marked column is found, an unmarked *_key string column is flagged
    (and still kept by the sweep, as a safety net), the exception and non-string columns are not."""

    class Base(DeclarativeBase):
        metadata = MetaData()

    class Scan(Base):
        __tablename__ = "scans"
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        image: Mapped[str] = object_key_column(200)  # any name, once marked
        thumbnail_key: Mapped[str | None] = mapped_column(String(200))  # forgotten marker
        page_key: Mapped[int] = mapped_column(Integer)  # not a string
        extra: Mapped[dict[str, str]] = mapped_column(JSON)

    class Reminder(Base):
        __tablename__ = "deadline_reminders"
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        deadline_key: Mapped[str] = mapped_column(String(80))  # in NOT_OBJECT_KEYS

    assert marked_columns(Base.metadata) == {("scans", "image")}
    assert unmarked_key_like_columns(Base.metadata) == {("scans", "thumbnail_key")}
    assert [str(c) for c in referencing_columns(Base.metadata)] == ["scans.image", "scans.thumbnail_key"]
    column = Scan.__table__.c.image
    assert isinstance(column.type, String) and column.type.length == 200  # the same VARCHAR: no migration
    assert Reminder.__table__.c.deadline_key.info == {}


def test_sweep_deletes_only_old_objects_that_nothing_references(runtime: Runtime):
    referenced = put(runtime.objects, "referenced")
    orphan = put(runtime.objects, "orphan")
    young = put(runtime.objects, "young orphan")
    revived = put(runtime.objects, "revived")
    point_at(runtime, referenced)
    for key in (referenced, orphan, revived):
        age(runtime, key, 3 * DAY)
    # An upload of identical bytes lands on the old orphan: it must look new again to the sweep.
    assert put(runtime.objects, "revived") == revived
    with runtime.db.session() as session:
        assert referenced_keys(session) == {referenced}

    dry = sweep_orphans(db=runtime.db, objects=runtime.objects, grace=timedelta(hours=24), dry_run=True)
    assert (dry.scanned, dry.referenced, dry.young, dry.deleted, dry.keys) == (4, 1, 2, 1, [orphan])
    assert runtime.objects.exists(orphan)

    report = sweep_orphans(db=runtime.db, objects=runtime.objects, grace=timedelta(hours=24))
    assert (report.deleted, report.keys, report.deleted_bytes) == (1, [orphan], len("orphan"))
    assert not runtime.objects.exists(orphan)
    assert all(runtime.objects.exists(k) for k in (referenced, young, revived))


def test_sweep_on_s3_uses_last_modified(runtime: Runtime, s3_store: ObjectStore):
    referenced = put(s3_store, "kept on s3")
    orphan = put(s3_store, "orphan on s3")
    point_at(runtime, referenced)
    assert sweep_orphans(db=runtime.db, objects=s3_store, grace=timedelta(hours=24)).deleted == 0
    later = utcnow() + timedelta(hours=25)
    report = sweep_orphans(db=runtime.db, objects=s3_store, grace=timedelta(hours=24), now=later)
    assert report.keys == [orphan]
    assert s3_store.exists(referenced) and not s3_store.exists(orphan)


def test_sweep_orphans_command_and_beat_task(runtime: Runtime, tmp_path):
    orphan = put(runtime.objects, "for the command")
    age(runtime, orphan, 2 * DAY)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KINDERFLOW_")} | {
        "KINDERFLOW_DEMO": "true",
        "KINDERFLOW_VAR_DIR": str(tmp_path),
        "KINDERFLOW_DATABASE_URL": runtime.settings.database_url,
        "KINDERFLOW_OBJECT_STORE": runtime.settings.object_store,
    }
    command = [sys.executable, "-m", "api.cli", "sweep-orphans", "--grace-hours", "24"]
    dry = subprocess.run([*command, "--dry-run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert dry.returncode == 0, dry.stderr
    assert "将删除孤立对象 1 个" in dry.stdout and orphan in dry.stdout
    assert runtime.objects.exists(orphan)
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert "已删除孤立对象 1 个" in done.stdout, done.stderr
    assert not runtime.objects.exists(orphan)
    assert "kinderflow.sweep_orphans" in TASKS and "workers.maintenance" in TASK_MODULES
    schedule = celery_config(runtime.settings.model_copy(update={"broker_url": "redis://x"}))["beat_schedule"]
    assert schedule["sweep-orphans"]["task"] == "kinderflow.sweep_orphans"
