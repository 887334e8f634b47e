"""Moving a news report through its workflow: approve, return, publish, withdraw."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from storage.db import utcnow
from workflows.access import Viewer
from workflows.activities.machine import TOOK_PLACE
from workflows.errors import FieldError
from workflows.machine import fire
from workflows.publishing import notices
from workflows.publishing.body import request_body
from workflows.publishing.machine import NEWS_WORKFLOW
from workflows.publishing.models import NewsReport
from workflows.publishing.schemas import ReportEventBody
from workflows.publishing.service import consents_for, get_visible, photos


def publishable_photos(session: Session, report: NewsReport) -> list[str]:
    """The chosen photos still on record whose guardians consented, in the chosen order."""
    current = {str(m.id): m for m in photos(report.activity)}
    chosen = [current[i] for i in report.media_ids if i in current]
    consents = consents_for(session, [m.id for m in chosen])
    return [str(m.id) for m in chosen if (c := consents.get(m.id)) is not None and c.consent]


def fire_event(
    *,
    session: Session,
    viewer: Viewer,
    report_id: uuid.UUID,
    event: str,
    body: ReportEventBody,
) -> NewsReport:
    """Fire one workflow event on a report the viewer can see."""
    report = get_visible(session=session, viewer=viewer, report_id=report_id, lock=True)

    def validate() -> list[FieldError]:
        material = report.material
        if event in ("approve", "publish") and (
            material.removed_at is not None or report.activity.state not in TOOK_PLACE
        ):
            return [FieldError("material_id", "gone", "活动报道资料已撤回或活动已取消，不能发布")]
        return []

    fire(
        session=session,
        workflow=NEWS_WORKFLOW,
        record=report,
        event=event,
        actor=viewer.actor,
        role=viewer.role,
        version=body.version,
        comment=body.comment,
        data={"media": report.media_ids} if event == "publish" else None,
        validate=validate,
    )
    report.last_comment = body.comment.strip()
    now = utcnow()
    if event == "approve":
        report.approved_at, report.approver_name = now, viewer.display_name
    elif event == "return":
        report.approved_at, report.approver_name = None, ""
        notices.returned(session, report, report.last_comment)
    elif event == "publish":
        # The text is fixed at publication (read by a task: the file is someone's upload); photos are
        # checked for consent now and again when served.
        report.published_media = publishable_photos(session, report)
        report.published_at = now
        request_body(session, report)
    elif event == "withdraw":
        report.withdrawn_at = now
    session.flush()
    return report
