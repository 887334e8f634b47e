"""The agreement area's tasks: drafting the agreement of an approved application, bulk sending,
generating the agreements of members that have none, expiry.

Recorded by importing this module (``workers.catalog`` does); each task takes ids and is idempotent.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date

from workers.registry import task
from workers.runtime import get_runtime
from workflows import clock
from workflows.agreements import bulk, events, generation, service

logger = logging.getLogger(__name__)


@task(name="agreements.create_from_application", topics=["application.approved"])
def create_from_application(application_id: str, **_: str) -> str | None:
    """Draft the agreement of an approved application (``application.approved``); at most one each."""
    runtime = get_runtime()
    try:
        with runtime.db.session() as session:
            agreement = service.create_from_application(
                session=session, settings=runtime.settings, objects=runtime.objects,
                application_id=uuid.UUID(application_id),
            )  # fmt: skip
            return str(agreement.id)
    except service.CannotCreate as exc:
        # Not transient: retrying cannot help; the officer's bulk action reports it per member.
        logger.warning("no agreement for application %s: %s", application_id, exc)
        return None


@task(name=bulk.TASK)
def bulk_send(job_id: str) -> None:
    """Generate and send the agreements of a bulk-send job; resumes after the last finished item."""
    bulk.run_bulk_send(runtime=get_runtime(), job_id=uuid.UUID(job_id))


@task(name=generation.TASK)
def generate(job_id: str) -> None:
    """Generate the agreements of a generation job's members (and lead–pillar agreements); resumes
    after the last finished item, and never makes an agreement twice."""
    generation.run_generation(runtime=get_runtime(), job_id=uuid.UUID(job_id))


@task(name="agreements.expire_due")
def expire_due(today: str | None = None) -> int:
    """Expire the effective agreements whose term has ended; returns how many."""
    day = date.fromisoformat(today) if today else clock.today()
    with get_runtime().db.session() as session:
        return len(events.expire_due(session=session, today=day))
