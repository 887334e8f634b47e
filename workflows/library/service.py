"""The resource library: promote archived materials with tags, read them, retag and remove them.

Who reads: the bureau, and every kindergarten that is in an alliance today (lead, pillar, member).
A kindergarten outside every alliance (one that has applied and not yet joined) does not: the
library is the alliances' shared work, and joining is what gives access to it (policy §三(2)3).
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.db import utcnow
from workflows import audit
from workflows.access import Viewer
from workflows.activities.models import Activity, Material
from workflows.activities.service import get_visible as get_activity
from workflows.activities.service import list_visible as list_activities
from workflows.activities.vocabulary import CATEGORY_LABELS
from workflows.clock import BEIJING
from workflows.errors import Conflict, Forbidden, NotFound, StaleVersion, TransitionNotAllowed, ValidationFailed
from workflows.library.models import LibraryItem
from workflows.library.schemas import PROMOTABLE, ItemUpdate, PromoteBody, Tags
from workflows.library.text import index, request_text
from workflows.roles import Role

CURATORS = frozenset({Role.OFFICER, Role.RESEARCHER})


def may_read(viewer: Viewer) -> bool:
    """The bureau and every kindergarten currently in an alliance."""
    return viewer.is_bureau or viewer.alliance_id is not None


def require_reader(viewer: Viewer) -> None:
    if not may_read(viewer):
        raise NotFound("资源库仅向联盟成员园开放")


def may_curate(viewer: Viewer, alliance_id: uuid.UUID | None) -> bool:
    """The teaching-research office, the section, and the lead of the item's alliance."""
    return viewer.role in CURATORS or (
        viewer.role == Role.LEAD and alliance_id is not None and viewer.alliance_id == alliance_id
    )


def get_visible(*, session: Session, viewer: Viewer, item_id: uuid.UUID, lock: bool = False) -> LibraryItem:
    """A library item (not removed) the viewer may read; NotFound otherwise."""
    require_reader(viewer)
    stmt = select(LibraryItem).where(LibraryItem.id == item_id, LibraryItem.removed_at.is_(None))
    if lock:
        stmt = stmt.with_for_update()
    item = session.scalar(stmt)
    if item is None:
        raise NotFound("资源不存在")
    return item


def _apply_tags(item: LibraryItem, tags: Tags) -> None:
    if tags.title is not None:
        item.title = tags.title
    if tags.domain is not None:
        item.domain = tags.domain
    item.age_group = tags.age_group
    item.keywords = tags.keywords


def promote(*, session: Session, viewer: Viewer, body: PromoteBody) -> LibraryItem:
    """Put a material of an archived activity into the library, tagged and indexed by title and tags;
    its text is read by a task (「处理中」 until then)."""
    require_reader(viewer)
    if viewer.role not in CURATORS | {Role.LEAD}:
        raise Forbidden("只有龙头园、成幼科和教研室可以把资料收入资源库")
    material = session.get(Material, body.material_id)
    if material is None or material.removed_at is not None:
        raise NotFound("资料不存在")
    activity = get_activity(session=session, viewer=viewer, activity_id=material.activity_id)
    if not may_curate(viewer, activity.alliance_id):
        raise NotFound("资料不存在")
    if activity.state != "archived":
        raise TransitionNotAllowed("只有已归档活动的资料可以收入资源库")
    if material.category not in PROMOTABLE:
        allowed = "、".join(CATEGORY_LABELS[c] for c in PROMOTABLE)
        raise ValidationFailed.single("material_id", "not_promotable", f"只有{allowed}可以收入资源库")
    if session.scalar(select(LibraryItem.id).where(LibraryItem.material_id == material.id)):
        raise Conflict("这份资料已在资源库中", code="already_in_library")
    item = LibraryItem(
        material_id=material.id,
        activity_id=activity.id,
        alliance_id=activity.alliance_id,
        title=material.filename.rsplit(".", 1)[0],
        category=material.category,
        domain=activity.domain,
        format=activity.format,
        year=activity.starts_at.astimezone(BEIJING).year,
        object_key=material.object_key,
        filename=material.filename,
        content_type=material.content_type,
        size=material.size,
        sha256=material.sha256,
        promoted_by=viewer.user_id,
        promoter_name=viewer.display_name,
    )
    _apply_tags(item, body)
    index(item)
    session.add(item)
    request_text(session, item)
    session.flush()
    audit.append(
        session,
        entity_type="library_item",
        entity_id=item.id,
        event="promote",
        actor=viewer.actor,
        data={"material_id": str(material.id), "activity_id": str(activity.id), "sha256": material.sha256},
    )
    return item


def update_tags(*, session: Session, viewer: Viewer, item_id: uuid.UUID, body: ItemUpdate) -> LibraryItem:
    """Change an item's title and tags and index them again with the text read (optimistic version check)."""
    item = get_visible(session=session, viewer=viewer, item_id=item_id, lock=True)
    if not may_curate(viewer, item.alliance_id):
        raise Forbidden("只有龙头园、成幼科和教研室可以修改资源标签")
    if body.version != item.version:
        raise StaleVersion()
    _apply_tags(item, body)
    index(item)
    session.flush()
    audit.append(
        session,
        entity_type="library_item",
        entity_id=item.id,
        event="retag",
        actor=viewer.actor,
        data=body.model_dump(mode="json", exclude={"version"}),
    )
    return item


def remove(*, session: Session, viewer: Viewer, item_id: uuid.UUID, version: int) -> LibraryItem:
    """Take an item out of the library (kept, marked removed); the material stays in its archive."""
    item = get_visible(session=session, viewer=viewer, item_id=item_id, lock=True)
    if not may_curate(viewer, item.alliance_id):
        raise Forbidden("只有龙头园、成幼科和教研室可以移出资源")
    if version != item.version:
        raise StaleVersion()
    item.removed_at = utcnow()
    session.flush()
    audit.append(session, entity_type="library_item", entity_id=item.id, event="remove", actor=viewer.actor)
    return item


def promotable(*, session: Session, viewer: Viewer) -> list[tuple[Activity, Material]]:
    """What the viewer could put into the library now: research materials of archived activities of the
    alliances it curates that are not in the library yet, newest activity first."""
    require_reader(viewer)
    if viewer.role not in CURATORS | {Role.LEAD}:
        return []
    taken = set(session.scalars(select(LibraryItem.material_id)))
    activities = list_activities(session=session, viewer=viewer, state="archived")
    found = [
        (activity, material)
        for activity in activities
        if may_curate(viewer, activity.alliance_id)
        for material in activity.current_materials
        if material.category in PROMOTABLE and material.id not in taken
    ]
    return sorted(found, key=lambda pair: pair[0].starts_at, reverse=True)
