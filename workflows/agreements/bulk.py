"""Generating and sending the agreements of an alliance that are still to send, as one job.

The request creates the job (its items fixed: the approved applications whose agreement is missing
or still a draft, and the drafts made without an application: founding members', the lead–pillar
agreement) and an outbox row; a worker then handles each item in a transaction of its own,
recording progress and per-item errors on the job, so one member's missing seal does not stop the
others, and a redelivered task goes on where the last one stopped.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from storage.runtime import Runtime
from workflows import jobs, outbox
from workflows.access import Viewer, viewer_for
from workflows.accounts.models import User
from workflows.agreements import events, service
from workflows.agreements.documents import subject_of
from workflows.agreements.models import Agreement
from workflows.applications.models import Application
from workflows.errors import NotFound
from workflows.registry.models import Alliance, Kindergarten, Membership
from workflows.roles import Role

JOB_KIND = "agreements.bulk_send"
TASK = "agreements.bulk_send"
DRAFT_ITEM = "agreement:"  # an item that names a draft agreement rather than an application


def candidates(session: Any, alliance_id: uuid.UUID) -> list[Application]:
    """Approved applications into the alliance, still members, whose agreement is missing or a draft."""
    stmt = (
        select(Application)
        .join(
            Membership,
            (Membership.kindergarten_id == Application.kindergarten_id)
            & (Membership.alliance_id == alliance_id)
            & Membership.ended_on.is_(None),
        )
        .outerjoin(Agreement, Agreement.application_id == Application.id)
        .where(
            Application.state == "approved",
            Application.approved_alliance_id == alliance_id,
            (Agreement.id.is_(None)) | (Agreement.state == "draft"),
        )
        .order_by(Application.number)
    )
    return list(session.scalars(stmt))


def drafts_without_application(session: Any, alliance_id: uuid.UUID) -> list[Agreement]:
    """The alliance's drafts that no application started (founding members', lead–pillar, renewals)."""
    stmt = select(Agreement).where(
        Agreement.alliance_id == alliance_id, Agreement.state == "draft", Agreement.application_id.is_(None)
    )
    return list(session.scalars(stmt.order_by(Agreement.number)))


def waiting(session: Any, alliance_id: uuid.UUID) -> int:
    """How many agreements of the alliance a bulk send would generate or send."""
    return len(candidates(session, alliance_id)) + len(drafts_without_application(session, alliance_id))


def start_bulk_send(*, session: Any, viewer: Viewer, alliance_id: uuid.UUID) -> jobs.Job:
    """Queue the job that generates and sends the alliance's agreements still to send."""
    viewer.require_role(Role.OFFICER)
    alliance = session.get(Alliance, alliance_id)
    if alliance is None:
        raise NotFound("联盟不存在")
    items = []
    for application in candidates(session, alliance_id):
        kindergarten = session.get(Kindergarten, application.kindergarten_id)
        items.append({"id": str(application.id), "label": f"{application.number} {kindergarten.name}"})
    items += [
        {"id": f"{DRAFT_ITEM}{a.id}", "label": f"{a.number} {subject_of(a)}"}
        for a in drafts_without_application(session, alliance_id)
    ]
    job = jobs.create_job(
        session=session, kind=JOB_KIND, items=items, created_by=viewer.user_id, params={"alliance_id": str(alliance_id)}
    )
    outbox.record(session, TASK, job_id=str(job.id))
    return job


def _send_one(runtime: Runtime, creator: uuid.UUID, item: dict[str, Any]) -> None:
    with runtime.db.session() as session:
        user = session.get(User, creator)
        if user is None or not user.is_active:
            raise NotFound("发起任务的账号已停用")
        viewer = viewer_for(session, user)
        ref = str(item["id"])
        if ref.startswith(DRAFT_ITEM):
            agreement = service.get_visible(
                session=session, viewer=viewer, agreement_id=uuid.UUID(ref[len(DRAFT_ITEM) :])
            )
        else:
            agreement = service.create_from_application(
                session=session, settings=runtime.settings, objects=runtime.objects, application_id=uuid.UUID(ref)
            )
        if agreement.state == "draft":
            events.fire_event(
                session=session, viewer=viewer, settings=runtime.settings, objects=runtime.objects,
                agreement_id=agreement.id, event="send", version=agreement.version,
            )  # fmt: skip


def run_bulk_send(*, runtime: Runtime, job_id: uuid.UUID) -> None:
    """Work through the job's remaining items, one transaction each; a finished job is left alone."""
    jobs.run_items(runtime=runtime, job_id=job_id, handle=_send_one)
