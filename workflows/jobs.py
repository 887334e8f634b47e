"""Background jobs that work through a list of items (bulk actions): progress and per-item errors.

A job row is written in the request that asks for the work, next to an outbox row that starts the
task; the task reports each item as it finishes, in its own transaction, so progress is visible
while it runs and a redelivered task skips the items already done.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.db import Base, UUIDPrimaryKey, utcnow
from storage.runtime import Runtime
from workflows.access import Viewer
from workflows.errors import DomainError, NotFound, ValidationFailed
from workflows.presenters import Presented

logger = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
STATE_LABELS = {QUEUED: "排队中", RUNNING: "进行中", DONE: "已完成", FAILED: "失败"}


class Job(UUIDPrimaryKey, Base):
    __tablename__ = "jobs"

    kind: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default=QUEUED)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The items to work through, fixed when the job is created: [{"id": ..., "label": ...}].
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    # One entry per item that failed: {"item": id, "label": ..., "code": ..., "message": ...}.
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Ids of the items finished so far (succeeded or failed).
    finished_items: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class JobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    state: str
    state_label: str
    total: int
    done: int
    errors: list[dict[str, Any]]
    params: dict[str, Any]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, job: Job) -> JobOut:
        return cls.model_validate(Presented(job, state_label=STATE_LABELS.get(job.state, job.state)))


def create_job(
    *, session: Session, kind: str, items: list[dict[str, Any]], created_by: uuid.UUID | None, params: dict[str, Any]
) -> Job:
    """A queued job over ``items`` (each a dict with at least an ``id``)."""
    job = Job(kind=kind, params=params, items=items, total=len(items), created_by=created_by)
    session.add(job)
    session.flush()
    return job


def get_visible(*, session: Session, viewer: Viewer, job_id: uuid.UUID) -> Job:
    """A job its creator or the bureau may see; NotFound otherwise."""
    job = session.get(Job, job_id)
    if job is None or not (viewer.is_bureau or job.created_by == viewer.user_id):
        raise NotFound("任务不存在")
    return job


def pending_items(job: Job) -> list[dict[str, Any]]:
    """The items not finished yet, in their order."""
    finished = set(job.finished_items)
    return [item for item in job.items if str(item["id"]) not in finished]


def start(job: Job) -> None:
    """Mark the job running (again, after a redelivery)."""
    job.state = RUNNING
    job.started_at = job.started_at or utcnow()


def item_finished(job: Job, item: dict[str, Any], *, error: tuple[str, str] | None = None) -> None:
    """Count one item as done; ``error`` is its (code, message) when it failed."""
    if str(item["id"]) in job.finished_items:
        return
    job.finished_items = [*job.finished_items, str(item["id"])]
    job.done = len(job.finished_items)
    if error is not None:
        code, message = error
        job.errors = [
            *job.errors,
            {"item": str(item["id"]), "label": item.get("label", ""), "code": code, "message": message},
        ]


def finish(job: Job, *, failed: bool = False) -> None:
    """Mark the job finished."""
    job.state = FAILED if failed else DONE
    job.finished_at = utcnow()


def describe(exc: DomainError) -> tuple[str, str]:
    """An item's error as the job records it: its code and every message a person needs."""
    if isinstance(exc, ValidationFailed):
        return exc.code, "；".join(e.message for e in exc.errors) or exc.message
    return exc.code, exc.message


# Handles one item in a transaction of its own: (runtime, the job's creator, the item).
ItemHandler = Callable[[Runtime, uuid.UUID, dict[str, Any]], None]


def run_items(*, runtime: Runtime, job_id: uuid.UUID, handle: ItemHandler) -> None:
    """Work through the job's remaining items, recording each one's result; a finished job is left alone.

    A domain error is that item's result and the job goes on; a lost database connection is
    transient and raised, so the task is retried and resumes after the last finished item."""
    with runtime.db.session() as session:
        job = session.get(Job, job_id)
        if job is None or job.state in (DONE, FAILED):
            return
        start(job)
        pending, creator = pending_items(job), job.created_by
    if creator is None:
        raise RuntimeError("expected creator is not None")
    for item in pending:
        error: tuple[str, str] | None = None
        try:
            handle(runtime, creator, item)
        except DomainError as exc:
            error = describe(exc)
        except (OperationalError, ConnectionError, TimeoutError):
            raise
        except Exception as exc:  # a bug must not hide the other items' results
            logger.exception("job %s: item %s failed", job_id, item["id"])
            error = ("internal_error", f"处理失败（{type(exc).__name__}），请联系管理员")
        with runtime.db.session() as session:
            job = session.get(Job, job_id, with_for_update=True)
            if job is None:
                raise RuntimeError("expected job is not None")
            item_finished(job, item, error=error)
    with runtime.db.session() as session:
        job = session.get(Job, job_id, with_for_update=True)
        if job is None:
            raise RuntimeError("expected job is not None")
        finish(job)
