"""The general tasks; each declares the outbox topics that start it (``workers.registry.TOPICS``).

Each task takes ids and JSON values as keyword arguments, reloads from the database and is
idempotent (``workers.registry``). The same functions run in a Celery worker (full mode) and on the
embedded runner's thread (``workers.inline``).
"""

from __future__ import annotations

import uuid

from workers.registry import task
from workers.runtime import get_runtime
from workflows import clock
from workflows.activities.archive import build_activity_bundle
from workflows.activities.compliance import send_reminders
from workflows.certificates import service as certificates


@task(name="kinderflow.ping")
def ping(token: str) -> str:
    """Answer ``pong:<token>``; proves a worker consumes tasks (writes nothing)."""
    return f"pong:{token}"


@task(name="kinderflow.activities.build_bundle", topics=["activity.archive_requested"])
def build_activity_bundle_task(activity_id: str) -> str:
    """Build the archive bundle of an archived activity; a redelivery finds it built and changes nothing."""
    runtime = get_runtime()
    return build_activity_bundle(db=runtime.db, objects=runtime.objects, activity_id=uuid.UUID(activity_id))


@task(name="kinderflow.remind_deadlines")
def remind_deadlines() -> int:
    """Today's deadline reminders (plans, summaries, materials); a second run the same day sends none."""
    with get_runtime().db.session() as session:
        return send_reminders(session=session, today=clock.today())


@task(name=certificates.TASK)
def countersign_certificates(job_id: str) -> None:
    """Countersign and render the certificates of a job; resumes after the last finished item."""
    certificates.run_countersign(runtime=get_runtime(), job_id=uuid.UUID(job_id))
