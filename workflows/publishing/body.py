"""Reading a published report's text: a task, never the publish request.

Publishing fixes the photos and marks the body 「处理中」; the task ``news.read_body`` (through the
outbox) reads the report's .docx in a bounded child process, outside any transaction, and stores it
as escaped HTML in a short one. Until then the report is not on the public page; a file that cannot
be read is recorded with the reason, for the authors to withdraw the report and publish a better file.
"""

from __future__ import annotations

import uuid

from sqlalchemy import update
from sqlalchemy.orm import Session

from storage.db import Database
from storage.objects import ObjectStore
from workflows import outbox
from workflows.library.extraction import TextState, read_blocks
from workflows.publishing.models import NewsReport
from workflows.publishing.report_html import blocks_to_html
from workflows.sandbox import SandboxFailed

TASK = "news.read_body"


def request_body(session: Session, report: NewsReport) -> None:
    """At publication: the body is read by a task; 「处理中」 until then."""
    report.body_html, report.body_state, report.body_problem = "", TextState.PENDING, ""
    session.flush()
    outbox.record(session, TASK, report_id=str(report.id))


def read_body(*, db: Database, objects: ObjectStore, report_id: uuid.UUID) -> str:
    """Read a published report's text into its HTML body; a redelivery finds it done and changes nothing."""
    with db.session() as session:
        report = session.get(NewsReport, report_id)
        if report is None or report.body_state != TextState.PENDING:
            return "skipped"
        key = report.material.object_key
    try:
        html, problem = blocks_to_html([(b.text, b.heading) for b in read_blocks(objects, key=key)]), ""
    except SandboxFailed as exc:
        html, problem = "", exc.message
    with db.session() as session:
        # A system step, not an edit: the row's version (what editors hold) is left alone.
        session.execute(
            update(NewsReport)
            .where(NewsReport.id == report_id, NewsReport.body_state == TextState.PENDING)
            .values(
                body_html=html,
                body_state=TextState.FAILED if problem else TextState.READY,
                body_problem=problem[:200],
            )
        )
    return "failed" if problem else "ready"
