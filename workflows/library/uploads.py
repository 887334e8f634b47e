"""Documents added to the library on their own (管理制度、课程), not promoted from an activity.

The file is someone's upload and is treated as such: its type is judged by content (a .docx is opened
as an untrusted package and refused when it is a zip bomb, carries macros or is encrypted), it is
held to the general upload limit, its name is made safe (no folders, control or bidi characters),
and its text is read for search by the same sandboxed task as a promoted material's.
"""

from __future__ import annotations

from typing import BinaryIO

from sqlalchemy.orm import Session

from storage.objects import ObjectStore, ObjectTooLarge
from storage.settings import Settings
from workflows import audit, clock
from workflows.access import Viewer
from workflows.activities.upload_checks import DOCX, EXTENSIONS, sniff_material
from workflows.errors import Forbidden, ValidationFailed
from workflows.library.models import LibraryItem
from workflows.library.schemas import DOCUMENT_KINDS, DocumentBody
from workflows.library.service import CURATORS, require_reader
from workflows.library.text import index, request_text
from workflows.registry.models import Alliance
from workflows.uploads import PDF, safe_filename

UPLOAD_TYPES = frozenset({DOCX, PDF})


def may_add(viewer: Viewer) -> bool:
    """The teaching-research office and the section add documents for every alliance."""
    return viewer.role in CURATORS


def _size_label(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MB"


def add_document(
    *,
    session: Session,
    viewer: Viewer,
    objects: ObjectStore,
    settings: Settings,
    body: DocumentBody,
    stream: BinaryIO,
    filename: str,
) -> LibraryItem:
    """Check and store an uploaded 管理制度 or 课程 document and put it into the library, indexed by title
    and tags at once and by its text once the task has read it."""
    require_reader(viewer)
    if not may_add(viewer):
        raise Forbidden("只有教研室和成幼科可以向资源库添加资料")
    if body.alliance_id is not None and session.get(Alliance, body.alliance_id) is None:
        raise ValidationFailed.single("alliance_id", "unknown_alliance", "请从列表中选择联盟")
    mime = sniff_material(stream, allowed=UPLOAD_TYPES)
    name = safe_filename(filename, default=body.title, extension=EXTENSIONS[mime])
    try:
        stored = objects.put(stream, filename=name, content_type=mime, max_size=settings.max_upload_bytes)
    except ObjectTooLarge:
        raise ValidationFailed.single(
            "file", "file_too_large", f"文件超过 {_size_label(settings.max_upload_bytes)}，请压缩后再上传"
        ) from None
    item = LibraryItem(
        material_id=None,
        activity_id=None,
        alliance_id=body.alliance_id,
        title=body.title,
        category=body.kind,
        domain=body.domain,
        age_group=body.age_group,
        format=None,
        year=body.year or clock.today().year,
        keywords=body.keywords,
        object_key=stored.key,
        filename=name,
        content_type=mime,
        size=stored.size,
        sha256=stored.sha256,
        promoted_by=viewer.user_id,
        promoter_name=viewer.display_name,
    )
    index(item)
    session.add(item)
    request_text(session, item)
    session.flush()
    audit.append(
        session,
        entity_type="library_item",
        entity_id=item.id,
        event="upload",
        actor=viewer.actor,
        data={
            "kind": body.kind,
            "kind_label": DOCUMENT_KINDS[body.kind],
            "alliance_id": str(body.alliance_id) if body.alliance_id else None,
            "filename": name,
            "sha256": stored.sha256,
            "size": stored.size,
        },
    )
    return item
