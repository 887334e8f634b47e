"""Reading a library item's text after it was promoted: a task, never the request.

Promotion indexes the title and tags at once and marks the item 「处理中」; the task
``library.read_text`` (through the outbox) reads the .docx in a bounded child process, outside any
transaction, then indexes title, tags and text in a short one. A file that cannot be read leaves the
item searchable by title and tags, with the reason.
"""

from __future__ import annotations

import uuid

from sqlalchemy import update
from sqlalchemy.orm import Session

from storage.db import Database
from storage.objects import ObjectStore
from workflows import outbox
from workflows.library.extraction import DOCX, MAX_DOCX_BYTES, TextState, read_blocks
from workflows.library.models import LibraryItem
from workflows.library.schemas import kind_label
from workflows.library.segmentation import index_text
from workflows.sandbox import SandboxFailed

TASK = "library.read_text"
EXCERPT_CHARS = 200


def search_tokens(item: LibraryItem, body_text: str) -> str:
    label = kind_label(item.category)
    return index_text(item.title, " ".join(item.keywords), item.domain or "", item.age_group or "", label, body_text)


def index(item: LibraryItem) -> None:
    """Index the item's title, tags and the text read so far."""
    body = item.body_text or ""  # None on a new item, before its first flush
    item.excerpt = body.replace("\n", " ")[:EXCERPT_CHARS]
    item.search_tokens = search_tokens(item, body)


def request_text(session: Session, item: LibraryItem) -> None:
    """Mark a new item's text 「处理中」 and ask for it to be read (a .docx), or say it has none."""
    readable = item.content_type == DOCX and item.size <= MAX_DOCX_BYTES
    item.text_state = TextState.PENDING if readable else TextState.NONE
    item.text_indexed = False
    if readable:
        session.flush()
        outbox.record(session, TASK, item_id=str(item.id))


def read_text(*, db: Database, objects: ObjectStore, item_id: uuid.UUID) -> str:
    """Read a pending item's text and index it; a redelivery finds it done and changes nothing."""
    with db.session() as session:
        item = session.get(LibraryItem, item_id)
        if item is None or item.text_state != TextState.PENDING:
            return "skipped"
        key = item.object_key
    try:
        body, problem = "\n".join(b.text for b in read_blocks(objects, key=key)), ""
    except SandboxFailed as exc:
        body, problem = "", exc.message
    with db.session() as session:
        item = session.get(LibraryItem, item_id, with_for_update=True)
        if item is None or item.text_state != TextState.PENDING:
            return "skipped"
        # A system step, not an edit: the row's version (what editors hold) is left alone.
        session.execute(
            update(LibraryItem)
            .where(LibraryItem.id == item_id)
            .values(
                text_state=TextState.FAILED if problem else TextState.READY,
                text_problem=problem[:200],
                text_indexed=not problem,
                body_text=body,
                excerpt=body.replace("\n", " ")[:EXCERPT_CHARS],
                search_tokens=search_tokens(item, body),
            )
        )
    return "failed" if problem else "ready"
