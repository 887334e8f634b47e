"""Turning news reports and photo consents into what the API returns."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from workflows.access import Viewer
from workflows.activities.models import Material
from workflows.library.extraction import TEXT_STATE_LABELS, TextState
from workflows.presenters import Presented
from workflows.publishing.machine import NEWS_WORKFLOW
from workflows.publishing.models import MediaConsent, NewsReport
from workflows.publishing.schemas import ConsentOut, ReportMediaOut, ReportOut
from workflows.publishing.service import consents_for, photos


def report_out(session: Session, viewer: Viewer, report: NewsReport, *, base_url: str) -> ReportOut:
    """A report with its chosen photos and whether each goes out (or went out) with it."""
    by_id = {m.id: m for m in photos(report.activity)}
    chosen = [by_id[uuid.UUID(i)] for i in report.media_ids if uuid.UUID(i) in by_id]
    consents = consents_for(session, [m.id for m in chosen])
    published = set(report.published_media)

    def publishable(m: Material) -> bool:
        consent = consents.get(m.id)
        consented = consent is not None and consent.consent
        return consented and (report.state != "published" or str(m.id) in published)

    return ReportOut.model_validate(
        Presented(
            report,
            activity_topic=report.activity.topic,
            alliance_name=report.activity.alliance.name,
            state_label=NEWS_WORKFLOW.label(report.state),
            body_state_label=TEXT_STATE_LABELS[TextState(report.body_state)] if report.body_state != "none" else "",
            public_url=f"{base_url.rstrip('/')}/news/{report.id}"
            if report.state == "published" and report.body_state == TextState.READY
            else None,
            media=[
                ReportMediaOut(
                    material_id=m.id,
                    filename=m.filename,
                    consent=None if (c := consents.get(m.id)) is None else c.consent,
                    publishable=publishable(m),
                )
                for m in chosen
            ],
            allowed_events=NEWS_WORKFLOW.allowed_events(report, viewer.role),
        )
    )


def consent_out(material: Material, consent: MediaConsent | None) -> ConsentOut:
    return ConsentOut(
        material_id=material.id,
        filename=material.filename,
        content_type=material.content_type,
        consent=None if consent is None else consent.consent,
        note="" if consent is None else consent.note,
        recorder_name="" if consent is None else consent.recorder_name,
        recorded_at=None if consent is None else consent.recorded_at,
    )
