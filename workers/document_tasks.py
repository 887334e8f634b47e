"""Documents rendered after the transition that asks for them commits (rendering, uploads and PDF
conversion never run inside a transaction that holds the audit head or SQLite's write lock).

Registered by importing this module from ``workers.tasks``; each task takes ids and is idempotent.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from workers.registry import receipt_in, task
from workers.runtime import get_runtime
from workflows import audit
from workflows.agreements import completion, freezing
from workflows.applications import decisions
from workflows.applications import documents as application_documents


@task(name=application_documents.RENDER_TOPIC)
def render_application_form(application_id: str, actor_id: str, due: str) -> str | None:
    """Render the 申请表 of a submission or decision; a redelivery finds it stored and does nothing."""
    runtime = get_runtime()
    return application_documents.render_pending_form(
        db=runtime.db, objects=runtime.objects, application_id=uuid.UUID(application_id), actor_id=actor_id,
        due=datetime.fromisoformat(due), finish=receipt_in,
    )  # fmt: skip


@task(name=freezing.TASK)
def freeze_agreement(job_id: str) -> None:
    """Make the final .docx and PDF of a sent agreement's round (a one-item job, with progress); a
    redelivery finds the round frozen and changes nothing."""
    freezing.run_freeze(runtime=get_runtime(), job_id=uuid.UUID(job_id))


@task(name=completion.ARCHIVE_TOPIC)
def complete_agreement(agreement_id: str, round: int) -> str | None:
    """Make the certificate of completion (.docx, PDF, the installation's signature) and the write-once
    archive of an agreement that just became effective; a redelivery finds them made and does nothing."""
    runtime = get_runtime()
    return completion.run_completion(
        db=runtime.db, settings=runtime.settings, objects=runtime.objects, agreement_id=uuid.UUID(agreement_id),
        round_no=round, finish=receipt_in,
    )  # fmt: skip


@task(name=decisions.LETTER_TOPIC)
def render_decision_letter(decision_id: str, actor: dict[str, str | None]) -> str | None:
    """Render the 批复 (.docx and PDF) of a decision; a redelivery finds it stored and does nothing."""
    runtime = get_runtime()
    return decisions.render_pending_letter(
        db=runtime.db, settings=runtime.settings, objects=runtime.objects, decision_id=uuid.UUID(decision_id),
        actor=audit.Actor(id=actor["id"], name=actor["name"] or "", role=actor["role"] or ""),
    )  # fmt: skip
