"""Recommending library items for publication (推荐发表): recommended → shortlisted → submitted."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from storage.db import utcnow
from storage.objects import ObjectStore
from templates.district import BUREAU_NAME, RESEARCH_OFFICE
from templates.docx import render_docx
from workflows import audit, clock, transitions
from workflows.access import Viewer
from workflows.accounts.models import User
from workflows.clock import BEIJING
from workflows.documents import service as documents
from workflows.documents.models import Document
from workflows.errors import Conflict, Forbidden, NotFound, ValidationFailed
from workflows.library.machine import DEFAULT_JOURNALS, RECOMMENDATION_WORKFLOW, RECOMMENDERS
from workflows.library.models import LibraryItem, Recommendation
from workflows.library.schemas import RecommendationCreate, RecommendationEventBody, kind_label
from workflows.library.service import get_visible as get_item
from workflows.library.service import may_curate, require_reader
from workflows.library.views import alliance_name
from workflows.machine import Ctx, Hooks, chain
from workflows.notifications import notify_users, users_with_role
from workflows.numbering import next_value
from workflows.roles import Role

LETTER_TEMPLATE = "publication_recommendation.docx"
ISSUER = f"{BUREAU_NAME}{RESEARCH_OFFICE}"


def _may_see(viewer: Viewer, recommendation: Recommendation) -> bool:
    return viewer.is_bureau or viewer.alliance_id == recommendation.item.alliance_id


def get_visible(
    *, session: Session, viewer: Viewer, recommendation_id: uuid.UUID, lock: bool = False
) -> Recommendation:
    """A recommendation the bureau or the item's alliance may see; NotFound otherwise."""
    require_reader(viewer)
    stmt = select(Recommendation).where(Recommendation.id == recommendation_id)
    if lock:
        stmt = stmt.with_for_update()
    recommendation = session.scalar(stmt)
    if recommendation is None or not _may_see(viewer, recommendation):
        raise NotFound("推荐记录不存在")
    return recommendation


def _owner_check(session: Session, viewer: Viewer, owner_id: uuid.UUID) -> None:
    get_visible(session=session, viewer=viewer, recommendation_id=owner_id)


documents.register_owner("library_recommendation", _owner_check)


def list_visible(*, session: Session, viewer: Viewer, state: str | None = None) -> list[Recommendation]:
    """The recommendations the viewer may see, newest first."""
    require_reader(viewer)
    stmt = select(Recommendation).join(LibraryItem).options(selectinload(Recommendation.item))
    if not viewer.is_bureau:
        stmt = stmt.where(LibraryItem.alliance_id == viewer.alliance_id)
    if state:
        stmt = stmt.where(Recommendation.state == state)
    return list(session.scalars(stmt.order_by(Recommendation.created_at.desc())))


def recommend(*, session: Session, viewer: Viewer, item_id: uuid.UUID, body: RecommendationCreate) -> Recommendation:
    """Recommend an item for publication: its alliance's lead, the teaching-research office or the section."""
    item = get_item(session=session, viewer=viewer, item_id=item_id)
    if viewer.role not in RECOMMENDERS or not may_curate(viewer, item.alliance_id):
        raise Forbidden("只有本联盟龙头园、教研室和成幼科可以推荐发表")
    journal = body.journal or DEFAULT_JOURNALS.get(item.category)
    if not journal:
        raise ValidationFailed.single("journal", "required", "请填写推荐发表的刊物")
    year = clock.today().year
    recommendation = Recommendation(
        number=f"TJ{year}-{next_value(session, f'recommendation:{year}'):03d}",
        item_id=item.id,
        journal=journal,
        reason=body.reason,
        recommended_by=viewer.user_id,
        recommender_name=viewer.display_name,
    )
    try:
        with session.begin_nested():
            session.add(recommendation)
    except IntegrityError:
        raise Conflict("这份资源已在推荐中", code="already_recommended") from None
    audit.append(
        session,
        entity_type="library_recommendation",
        entity_id=recommendation.id,
        event="create",
        actor=viewer.actor,
        to_state=recommendation.state,
        data={"item_id": str(item.id), "journal": journal},
    )
    if viewer.role != Role.RESEARCHER:
        notify_users(
            session,
            users_with_role(session, Role.RESEARCHER),
            kind="library.recommended",
            title=f"推荐发表待审核：{item.title}",
            body=f"{viewer.display_name}推荐「{item.title}」发表于{journal}。",
            link=link(recommendation),
        )
    return recommendation


def link(recommendation: Recommendation) -> str:
    return f"/library/recommendations/{recommendation.id}"


def _tell_recommender(session: Session, recommendation: Recommendation, event: str) -> None:
    recommender = session.get(User, recommendation.recommended_by)
    if recommender is None or not recommender.is_active:
        return
    title = recommendation.item.title
    outcome = f"已报送{recommendation.journal}" if event == "submit" else "未入选"
    notify_users(
        session,
        [recommender],
        kind="library.recommendation_decided",
        title=f"推荐发表{outcome}：{title}",
        body=recommendation.last_comment,
        link=link(recommendation),
    )


def fire_event(
    *,
    session: Session,
    viewer: Viewer,
    objects: ObjectStore,
    recommendation_id: uuid.UUID,
    event: str,
    body: RecommendationEventBody,
) -> Recommendation:
    """Shortlist, submit (rendering the recommendation letter) or decline a recommendation."""
    return transitions.fire_event(
        RECOMMENDATIONS, session=session, viewer=viewer, id=recommendation_id, event=event, version=body.version,
        comment=body.comment, body=body, objects=objects,
    )  # fmt: skip


def _keep_comment(ctx: Ctx[Recommendation]) -> None:
    ctx.record.last_comment = ctx.comment.strip()


def _on_shortlist(ctx: Ctx[Recommendation]) -> None:
    ctx.record.shortlisted_at = utcnow()


def _on_submit(ctx: Ctx[Recommendation]) -> None:
    session, objects, recommendation, viewer = ctx.session, ctx.need_objects(), ctx.record, ctx.viewer
    recommendation.submitted_at = utcnow()
    render_letter(session=session, objects=objects, recommendation=recommendation, actor=viewer)


def _tell_if_someone_else(ctx: Ctx[Recommendation]) -> None:
    if ctx.record.recommended_by != ctx.viewer.user_id:
        _tell_recommender(ctx.session, ctx.record, ctx.event)


def _load(session: Session, viewer: Viewer, id: uuid.UUID, *, lock: bool = True) -> Recommendation:
    return get_visible(session=session, viewer=viewer, recommendation_id=id, lock=lock)


def letter_context(recommendation: Recommendation) -> dict[str, Any]:
    """Every variable of the recommendation letter, as plain text."""
    item = recommendation.item
    activity = item.activity
    issued = (recommendation.submitted_at or utcnow()).astimezone(BEIJING).date()
    return {
        "letter_no": recommendation.number,
        "journal": recommendation.journal,
        "title": item.title,
        "category_label": kind_label(item.category),
        "domain": item.domain or "不限",
        "age_group": item.age_group or "不限",
        "alliance_name": alliance_name(item),
        # An uploaded document (管理制度、课程) comes from no activity.
        "kindergarten_name": activity.host.name if activity is not None else "—",
        "activity_topic": activity.topic
        if activity is not None
        else f"无（{item.promoter_name}上传的{kind_label(item.category)}）",
        "activity_date": activity.starts_at.astimezone(BEIJING).date().isoformat() if activity is not None else "—",
        "reason": recommendation.reason,
        "sha256_short": item.sha256[:16],
        "recommender_name": recommendation.recommender_name,
        "issuer": ISSUER,
        "issued_on": f"{issued.year}年{issued.month}月{issued.day}日",
    }


def render_letter(*, session: Session, objects: ObjectStore, recommendation: Recommendation, actor: Viewer) -> Document:
    """Render the recommendation letter (推荐函) and store it with the recommendation."""
    content = render_docx(LETTER_TEMPLATE, letter_context(recommendation))
    return documents.store_generated(
        session=session,
        objects=objects,
        owner_type="library_recommendation",
        owner_id=recommendation.id,
        kind="recommendation_letter",
        title=f"推荐发表函（{recommendation.item.title}）",
        filename=f"{recommendation.number}_推荐发表函.docx",
        content=content,
        created_by=str(actor.user_id),
    )


RECOMMENDATIONS = transitions.register(
    transitions.Area(
        workflow=RECOMMENDATION_WORKFLOW.with_hooks(
            {
                "shortlist": Hooks[Recommendation](then=_on_shortlist),
                "submit": Hooks[Recommendation](then=chain(_on_submit, _tell_if_someone_else)),
                "decline": Hooks[Recommendation](then=_tell_if_someone_else),
            }
        ),
        load=_load,
        moved=_keep_comment,
    )
)
