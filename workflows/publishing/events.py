"""Moving a news report through its workflow: approve, return, publish, withdraw."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from storage.db import utcnow
from workflows import transitions
from workflows.access import Viewer
from workflows.activities.machine import TOOK_PLACE
from workflows.errors import FieldError
from workflows.machine import Ctx, Hooks
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
    return transitions.fire_event(
        NEWS, session=session, viewer=viewer, id=report_id, event=event, version=body.version, comment=body.comment,
        body=body,
    )  # fmt: skip


def _material_problems(ctx: Ctx[NewsReport]) -> list[FieldError]:
    report = ctx.record
    if report.material.removed_at is not None or report.activity.state not in TOOK_PLACE:
        return [FieldError("material_id", "gone", "活动报道资料已撤回或活动已取消，不能发布")]
    return []


def _record_media(ctx: Ctx[NewsReport]) -> None:
    ctx.data["media"] = ctx.record.media_ids


def _keep_comment(ctx: Ctx[NewsReport]) -> None:
    ctx.record.last_comment = ctx.comment.strip()


def _on_approve(ctx: Ctx[NewsReport]) -> None:
    report, viewer = ctx.record, ctx.viewer
    report.approved_at, report.approver_name = utcnow(), viewer.display_name


def _on_return(ctx: Ctx[NewsReport]) -> None:
    session, report = ctx.session, ctx.record
    report.approved_at, report.approver_name = None, ""
    notices.returned(session, report, report.last_comment)


def _on_publish(ctx: Ctx[NewsReport]) -> None:
    session, report = ctx.session, ctx.record
    # The text is fixed at publication (read by a task: the file is someone's upload); photos are
    # checked for consent now and again when served.
    report.published_media = publishable_photos(session, report)
    report.published_at = utcnow()
    request_body(session, report)


def _on_withdraw(ctx: Ctx[NewsReport]) -> None:
    ctx.record.withdrawn_at = utcnow()


def _load(session: Session, viewer: Viewer, id: uuid.UUID, *, lock: bool = True) -> NewsReport:
    return get_visible(session=session, viewer=viewer, report_id=id, lock=lock)


NEWS = transitions.register(
    transitions.Area(
        workflow=NEWS_WORKFLOW.with_hooks(
            {
                "approve": Hooks[NewsReport](validate=_material_problems, then=_on_approve),
                "return": Hooks[NewsReport](then=_on_return),
                "publish": Hooks[NewsReport](prepare=_record_media, validate=_material_problems, then=_on_publish),
                "withdraw": Hooks[NewsReport](then=_on_withdraw),
            }
        ),
        load=_load,
        moved=_keep_comment,
    )
)
