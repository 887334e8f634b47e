"""The orphan sweep: delete stored objects that no row points at, once they are old enough.

An upload stores its object first and writes the row that points at it afterwards; a failure in
between (the database refused, the request died) leaves an object nothing references. The sweep
lists the content-addressed keys (``sha256/…``), subtracts every key a row points at
(``workflows.objects_index``), and deletes what is left once older than the grace period, which
must comfortably exceed the longest request. Just before deleting, each key is checked again
against the database and its age re-read: an upload deduplicated onto an old orphan refreshes its
time (``ObjectStore._touch``) and commits its row, so it is kept. On S3 the bucket is versioned,
so even a deletion that lost that race leaves the previous version recoverable.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from storage.db import Database, utcnow
from storage.objects import ObjectStore
from workflows.objects_index import is_referenced, referenced_keys

logger = logging.getLogger(__name__)

PREFIX = "sha256/"
_LISTED_KEYS = 50


@dataclass
class SweepReport:
    scanned: int = 0
    referenced: int = 0
    young: int = 0
    deleted: int = 0
    deleted_bytes: int = 0
    dry_run: bool = False
    # The first few keys deleted (or that would be), for the operator's log.
    keys: list[str] = field(default_factory=list)


def sweep_orphans(
    *, db: Database, objects: ObjectStore, grace: timedelta, dry_run: bool = False, now: datetime | None = None
) -> SweepReport:
    """Delete objects under ``sha256/`` that no row references and that are older than ``grace``."""
    now = now or utcnow()
    cutoff = now - grace
    report = SweepReport(dry_run=dry_run)
    with db.session() as session:
        referenced = referenced_keys(session, PREFIX)
    for listed in objects.list_objects(PREFIX):
        report.scanned += 1
        if listed.key in referenced:
            report.referenced += 1
            continue
        if listed.modified > cutoff:
            report.young += 1
            continue
        if _still_referenced_or_young(db, objects, listed.key, cutoff):
            report.referenced += 1
            continue
        if not dry_run:
            objects.delete(listed.key)
            logger.info("orphan sweep deleted %s (%d bytes, written %s)", listed.key, listed.size, listed.modified)
        report.deleted += 1
        report.deleted_bytes += listed.size
        if len(report.keys) < _LISTED_KEYS:
            report.keys.append(listed.key)
    return report


def _still_referenced_or_young(db: Database, objects: ObjectStore, key: str, cutoff: datetime) -> bool:
    with db.session() as session:
        if is_referenced(session, key):
            return True
    fresh = next(iter(objects.list_objects(key)), None)
    return fresh is None or fresh.key != key or fresh.modified > cutoff
