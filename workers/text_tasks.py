"""Reading the text of uploaded Word files (library items, published news reports): never in a request.

Recorded by importing this module (``workers.catalog`` does); each task takes an id and is idempotent.
The reading itself runs in a bounded child process (``workflows.sandbox``: memory, processor time
and a wall-clock deadline), so the bound holds on the embedded runner's thread as in a Celery
worker; the Celery limits below are a second fence around the whole task.
"""

from __future__ import annotations

import uuid

from workers.registry import task
from workers.runtime import get_runtime
from workflows.library import text
from workflows.publishing import body

TIME_LIMIT_SECONDS = 180
SOFT_TIME_LIMIT_SECONDS = 150


@task(name=text.TASK, time_limit=TIME_LIMIT_SECONDS, soft_time_limit=SOFT_TIME_LIMIT_SECONDS)
def read_library_text(item_id: str) -> str:
    """Read a promoted library item's text and index it (「处理中」 until then)."""
    runtime = get_runtime()
    return text.read_text(db=runtime.db, objects=runtime.objects, item_id=uuid.UUID(item_id))


@task(name=body.TASK, time_limit=TIME_LIMIT_SECONDS, soft_time_limit=SOFT_TIME_LIMIT_SECONDS)
def read_news_body(report_id: str) -> str:
    """Read a published report's text into its public page (「处理中」 until then)."""
    runtime = get_runtime()
    return body.read_body(db=runtime.db, objects=runtime.objects, report_id=uuid.UUID(report_id))
