"""What the public news page and feed show: published reports and their consented photos only.

No sign-in: everything here is public. A photo is served only while it belongs to a published
report and its guardians' consent is still on record; withdrawing the report or the consent takes it
off the page, the feed and the media URL at once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from workflows.activities.models import Activity, Material
from workflows.clock import BEIJING
from workflows.errors import NotFound
from workflows.library.extraction import TextState
from workflows.publishing.models import NewsReport
from workflows.publishing.service import consents_for

FEED_SIZE = 50


# Uploaded file names often carry children's names: the public side never shows them.
PUBLIC_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png"}


def public_filename(material: Material) -> str:
    return f"photo-{material.id}.{PUBLIC_EXTENSIONS.get(material.content_type, 'bin')}"


@dataclass(frozen=True)
class PublicPhoto:
    id: uuid.UUID
    content_type: str
    size: int


@dataclass(frozen=True)
class NewsEntry:
    id: uuid.UUID
    title: str
    summary: str
    body_html: str
    published_at: datetime
    updated_at: datetime
    alliance_name: str
    host_name: str
    topic: str
    held_on: date
    place: str
    photos: list[PublicPhoto]


def _entry(report: NewsReport, photos: list[PublicPhoto], consent_times: list[datetime]) -> NewsEntry:
    activity = report.activity
    if report.published_at is None:
        raise RuntimeError("expected report.published_at is not None")
    return NewsEntry(
        id=report.id,
        title=report.title,
        summary=report.summary,
        body_html=report.body_html,
        published_at=report.published_at,
        # A consent recorded (or revoked) after publication changes what the entry shows.
        updated_at=max([report.published_at, *consent_times]),
        alliance_name=activity.alliance.name,
        host_name=activity.host.name,
        topic=activity.topic,
        held_on=activity.starts_at.astimezone(BEIJING).date(),
        place=activity.place,
        photos=photos,
    )


def published_entries(
    *, session: Session, report_id: uuid.UUID | None = None, limit: int = FEED_SIZE
) -> list[NewsEntry]:
    """The published reports, newest first, each with the photos that may be shown today."""
    stmt = (
        select(NewsReport)
        # A report whose text is still being read (or could not be) is not on the public page.
        .where(NewsReport.state == "published", NewsReport.body_state == TextState.READY)
        .options(
            selectinload(NewsReport.activity).selectinload(Activity.alliance),
            selectinload(NewsReport.activity).selectinload(Activity.host),
        )
        .order_by(NewsReport.published_at.desc(), NewsReport.id)
        .limit(limit)
    )
    if report_id is not None:
        stmt = stmt.where(NewsReport.id == report_id)
    reports = list(session.scalars(stmt))
    wanted = [uuid.UUID(i) for r in reports for i in r.published_media]
    consents = consents_for(session, wanted)
    materials = {m.id: m for m in session.scalars(select(Material).where(Material.id.in_(wanted)))} if wanted else {}
    entries = []
    for report in reports:
        shown, times = [], []
        for raw in report.published_media:
            material, consent = materials.get(uuid.UUID(raw)), consents.get(uuid.UUID(raw))
            if consent is not None:
                times.append(consent.recorded_at)
            if material is not None and material.removed_at is None and consent is not None and consent.consent:
                shown.append(PublicPhoto(material.id, material.content_type, material.size))
        entries.append(_entry(report, shown, times))
    return entries


def public_entry(*, session: Session, report_id: uuid.UUID) -> NewsEntry:
    """One published report; NotFound for anything else (drafts, withdrawn reports)."""
    found = published_entries(session=session, report_id=report_id, limit=1)
    if not found:
        raise NotFound("报道不存在或已撤下")
    return found[0]


def public_photo(*, session: Session, material_id: uuid.UUID) -> Material:
    """A photo of a published report whose consent is on record; NotFound for every other file."""
    material = session.get(Material, material_id)
    if material is None or material.removed_at is not None:
        raise NotFound("图片不存在")
    reports = session.scalars(
        select(NewsReport).where(NewsReport.activity_id == material.activity_id, NewsReport.state == "published")
    )
    if not any(str(material.id) in r.published_media for r in reports):
        raise NotFound("图片不存在")
    consent = consents_for(session, [material.id]).get(material.id)
    if consent is None or not consent.consent:
        raise NotFound("图片不存在")
    return material


def last_withdrawal(*, session: Session) -> datetime | None:
    """When a published report was last taken down: that changes the feed too."""
    return session.scalar(
        select(NewsReport.withdrawn_at)
        .where(NewsReport.published_at.is_not(None), NewsReport.withdrawn_at.is_not(None))
        .order_by(NewsReport.withdrawn_at.desc())
        .limit(1)
    )
