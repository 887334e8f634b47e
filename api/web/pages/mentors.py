"""Mentor nominations (导师推荐), read-only: the list and one nomination — what was nominated, by whom,
where it stands, and the appointment it led to. Officers decide through the API for now; their
notifications and the nominating kindergarten's open these pages (no menu entry until nominating and
deciding have pages too)."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.responses import Response

from api.web.deps import UserPage
from api.web.routing import web_router
from workflows import audit
from workflows.documents.service import list_for_owner
from workflows.mentors import service
from workflows.mentors.events import mentor_of
from workflows.mentors.machine import NOMINATION_WORKFLOW
from workflows.mentors.views import mentor_out, nomination_out
from workflows.mentors.vocabulary import TEAM_LABELS

router = web_router()

# The nomination form as the kindergarten filled it, in the order of the printed 推荐表.
FORM_LABELS = (
    ("professional_title", "职称"),
    ("teaching_years", "教龄（年）"),
    ("phone", "联系电话"),
    ("research_topics", "参与课题"),
    ("achievements", "主要业绩"),
    ("reasons", "推荐理由"),
)
HISTORY_LABELS = {"create": "提交推荐"} | {name: rule.label for name, rule in NOMINATION_WORKFLOW.rules.items()}


@router.get("/mentors/nominations")
def nomination_list(page: UserPage, state: str = "") -> Response:
    rows = service.list_nominations(session=page.db, viewer=page.viewer, state=state or None)
    return page.render(
        "mentors/nominations.html",
        rows=[nomination_out(page.db, page.viewer, n) for n in rows],
        team_labels=TEAM_LABELS,
        state=state,
        states=list(NOMINATION_WORKFLOW.state_labels.items()),
    )


@router.get("/mentors/nominations/{nomination_id}")
def nomination_detail(nomination_id: uuid.UUID, page: UserPage) -> Response:
    nomination = service.get_nomination(session=page.db, viewer=page.viewer, nomination_id=nomination_id)
    out = nomination_out(page.db, page.viewer, nomination)
    mentor = mentor_of(page.db, nomination)
    documents = list_for_owner(session=page.db, owner_type="mentor_nomination", owner_id=nomination.id)
    if mentor is not None and service.may_see_workload(page.viewer, mentor):
        documents += list_for_owner(session=page.db, owner_type="mentor", owner_id=mentor.id)
    history = audit.history(page.db, entity_type="mentor_nomination", entity_id=nomination.id)
    return page.render(
        "mentors/nomination.html",
        n=out,
        team_label=TEAM_LABELS.get(out.team, out.team),
        form=_form_pairs(out.form),
        mentor=mentor_out(page.viewer, mentor) if mentor is not None else None,
        nominated_by=history[0].actor_name if history else "",
        documents=documents,
        history=history,
        history_labels=HISTORY_LABELS,
        state_labels=NOMINATION_WORKFLOW.state_labels,
    )


def _form_pairs(form: dict[str, Any]) -> list[tuple[str, str]]:
    return [(label, "" if form.get(name) in (None, "") else str(form[name])) for name, label in FORM_LABELS]
