"""推荐发表 on pages: recommending a library item for a journal, the teaching-research office screening
it (入围 → 报送, or 不予推荐), and the recommendation letter (推荐函) to download once it is sent."""

from __future__ import annotations

import uuid

from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from api.web import todo
from api.web.deps import FormDep, SignedInPage, UserPage
from api.web.forms import FieldErrors, domain_errors, pydantic_errors, text
from api.web.pages.library import item_page
from api.web.routing import web_router
from workflows import audit
from workflows.access import Viewer
from workflows.documents.service import list_for_owner
from workflows.errors import ValidationFailed
from workflows.library import recommendations, service
from workflows.library.machine import RECOMMENDATION_WORKFLOW, REVIEWERS
from workflows.library.models import Recommendation
from workflows.library.schemas import RecommendationCreate, RecommendationEventBody
from workflows.library.views import recommendation_out
from workflows.roles import Role

router = web_router()

HISTORY_LABELS = {"create": "推荐"} | {name: rule.label for name, rule in RECOMMENDATION_WORKFLOW.rules.items()}
WAITING = {"recommended": "待审核", "shortlisted": "待报送刊物"}


def _todo(session: Session, viewer: Viewer) -> list[todo.TodoItem]:
    """The teaching-research office and the section: recommendations to screen or to send on."""
    rows = recommendations.list_visible(session=session, viewer=viewer)
    return [
        todo.TodoItem(
            area="资源库",
            title=f"推荐发表{WAITING[r.state]}：{r.item.title}",
            link=recommendations.link(r),
            detail=f"{r.number} · {r.journal} · 推荐人 {r.recommender_name}",
        )
        for r in rows
        if r.state in WAITING
    ]


todo.register("library", _todo, roles=REVIEWERS, order=45)


@router.get("/library/recommendations")
def recommendation_list(page: UserPage, state: str = "") -> Response:
    service.require_reader(page.viewer)
    chosen = state if state in RECOMMENDATION_WORKFLOW.state_labels else ""
    rows = recommendations.list_visible(session=page.db, viewer=page.viewer, state=chosen or None)
    return page.render(
        "library/recommendations.html",
        rows=[recommendation_out(page.viewer, r) for r in rows],
        state=chosen,
        states=list(RECOMMENDATION_WORKFLOW.state_labels.items()),
    )


def _detail(
    page: SignedInPage,
    recommendation: Recommendation,
    *,
    failed_event: str = "",
    errors: FieldErrors | None = None,
    entered: dict[str, str] | None = None,
) -> Response:
    out = recommendation_out(page.viewer, recommendation)
    return page.render(
        "library/recommendation.html",
        r=out,
        item=recommendation.item,
        rules=RECOMMENDATION_WORKFLOW.rules,
        documents=list_for_owner(session=page.db, owner_type="library_recommendation", owner_id=recommendation.id),
        history=audit.history(page.db, entity_type="library_recommendation", entity_id=recommendation.id),
        history_labels=HISTORY_LABELS,
        state_labels=RECOMMENDATION_WORKFLOW.state_labels,
        failed_event=failed_event,
        errors=errors or {},
        entered=entered or {},
    )


@router.get("/library/recommendations/{recommendation_id}")
def recommendation_detail(recommendation_id: uuid.UUID, page: UserPage) -> Response:
    found = recommendations.get_visible(session=page.db, viewer=page.viewer, recommendation_id=recommendation_id)
    return _detail(page, found)


@router.post("/library/recommendations/{recommendation_id}/events/{event}")
def recommendation_event(recommendation_id: uuid.UUID, event: str, page: UserPage, form: FormDep) -> Response:
    comment = text(form, "comment")
    version = text(form, "version")
    body = RecommendationEventBody(version=int(version) if version.isdigit() else 0, comment=comment)
    try:
        moved = recommendations.fire_event(
            session=page.db,
            viewer=page.viewer,
            objects=page.objects,
            recommendation_id=recommendation_id,
            event=event,
            body=body,
        )
    except ValidationFailed as exc:
        page.db.rollback()
        found = recommendations.get_visible(session=page.db, viewer=page.viewer, recommendation_id=recommendation_id)
        return _detail(page, found, failed_event=event, errors=domain_errors(exc), entered={"comment": comment})
    label = RECOMMENDATION_WORKFLOW.rules[event].label
    extra = "，推荐函已生成" if event == "submit" else ""
    return page.redirect(f"/library/recommendations/{moved.id}", f"已{label}{extra}")


@router.post("/library/{item_id}/recommend")
def recommend(item_id: uuid.UUID, page: UserPage, form: FormDep) -> Response:
    entered = {"journal": text(form, "journal"), "reason": text(form, "reason")}
    item = service.get_visible(session=page.db, viewer=page.viewer, item_id=item_id)
    if not entered["reason"]:
        return item_page(page, item, recommend_errors={"reason": "请填写推荐理由"}, entered=entered)
    try:
        body = RecommendationCreate.model_validate({k: v for k, v in entered.items() if v or k == "reason"})
        created = recommendations.recommend(session=page.db, viewer=page.viewer, item_id=item_id, body=body)
    except ValidationError as exc:
        return item_page(page, item, recommend_errors=pydantic_errors(exc), entered=entered)
    except ValidationFailed as exc:
        page.db.rollback()
        item = service.get_visible(session=page.db, viewer=page.viewer, item_id=item_id)
        return item_page(page, item, recommend_errors=domain_errors(exc), entered=entered)
    who = "教研室审核" if page.viewer.role != Role.RESEARCHER else "审核入围"
    return page.redirect(f"/library/recommendations/{created.id}", f"已推荐发表（{created.number}），等待{who}")
