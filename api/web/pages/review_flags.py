"""动态管理: the review flags a published evaluation raised, each with its evidence, for the bureau.

The flag, why it was raised (the year's grade, or the activities the alliance held that none of the
member's teachers attended), and the officer's decision on the page: keep, warn, or remove from the
alliance — a removal is carried out by the service (membership ended, agreements terminated through
their workflow, history kept) and the page shows what was done. The officers' ``evaluation.review_flags``
notification opens this page.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated

from fastapi import Form
from starlette.responses import Response

from api.web import nav
from api.web.deps import SignedInPage, UserPage
from api.web.routing import web_router
from workflows import clock
from workflows.errors import NotFound, ValidationFailed
from workflows.evaluations import records, review, service
from workflows.evaluations.machine import EVALUATION_WORKFLOW
from workflows.evaluations.models import Evaluation
from workflows.evaluations.records import ActivityFact, MemberFact
from workflows.evaluations.review import DECISION_LABELS
from workflows.evaluations.schemas import ReviewFlagOut
from workflows.evaluations.views import review_flag_out
from workflows.roles import Role

router = web_router()

BUREAU = frozenset({Role.OFFICER, Role.RESEARCHER, Role.ADMIN})
nav.register(nav.NavItem("review_flags", "动态管理", "/review-flags", roles=frozenset({Role.OFFICER}), order=42))


@dataclass
class FlagEvidence:
    flag: ReviewFlagOut
    member: MemberFact | None = None
    ended_on: date | None = None


@dataclass
class FlagGroup:
    """The flags one evaluation raised, with what the year's records show."""

    evaluation: Evaluation
    state_label: str
    held: list[ActivityFact]
    members: dict[uuid.UUID, MemberFact]
    flags: list[FlagEvidence] = field(default_factory=list)


@router.get("/review-flags")
def review_flag_list(page: UserPage, year: str = "", open_only: str = "") -> Response:
    return _list(page, year=year, open_only=open_only)


@router.post("/review-flags/{flag_id}/decide")
def decide(
    flag_id: uuid.UUID,
    page: UserPage,
    version: Annotated[str, Form()] = "",
    decision: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
) -> Response:
    try:
        if not version.isdigit():
            raise NotFound("动态管理记录不存在")
        flag = review.decide(
            session=page.db, viewer=page.viewer, settings=page.settings, objects=page.objects, flag_id=flag_id,
            version=int(version), decision=decision, comment=comment[:2000], today=_today(),
        )  # fmt: skip
    except ValidationFailed as exc:  # other refusals: back to the list with the message (WebRoute)
        page.db.rollback()
        errors = {e.field: e.message for e in exc.errors}
        return _list(page, errors={flag_id: errors}, entered={flag_id: {"decision": decision, "comment": comment}})
    if flag.decision is None:
        raise RuntimeError("a decided flag has its decision")
    who = flag.kindergarten.name if flag.kindergarten else flag.alliance.name
    done = "，成员资格已终止、协议已解除" if flag.decision == "remove" else ""
    return page.redirect(f"/review-flags#flag-{flag.id}", f"已决定：{who}「{DECISION_LABELS[flag.decision]}」{done}")


def _list(
    page: SignedInPage,
    *,
    year: str = "",
    open_only: str = "",
    errors: dict[uuid.UUID, dict[str, str]] | None = None,
    entered: dict[uuid.UUID, dict[str, str]] | None = None,
) -> Response:
    page.viewer.require_role(*BUREAU)
    chosen = int(year) if year.isdigit() else None
    flags = review.list_flags(session=page.db, viewer=page.viewer, year=chosen, open_only=bool(open_only))
    groups: dict[uuid.UUID, FlagGroup] = {}
    for flag in flags:
        group = groups.get(flag.evaluation_id)
        if group is None:
            evaluation = service.get_visible(session=page.db, viewer=page.viewer, evaluation_id=flag.evaluation_id)
            record = records.collect(session=page.db, alliance=evaluation.alliance, year=flag.year, today=_today())
            group = groups[flag.evaluation_id] = FlagGroup(
                evaluation=evaluation,
                state_label=EVALUATION_WORKFLOW.label(evaluation.state),
                held=record.held,
                members={m.kindergarten_id: m for m in record.members},
            )
        member = group.members.get(flag.kindergarten_id) if flag.kindergarten_id else None
        ended = review.ended_membership(session=page.db, flag=flag)
        group.flags.append(FlagEvidence(review_flag_out(flag), member, ended.ended_on if ended else None))
    all_years = sorted({f.year for f in review.list_flags(session=page.db, viewer=page.viewer)}, reverse=True)
    return page.render(
        "evaluations/review_flags.html",
        groups=list(groups.values()),
        years=all_years,
        year=year,
        open_only=bool(open_only),
        open_count=sum(f.decision is None for f in flags),
        may_decide=page.viewer.role == Role.OFFICER,
        decisions=DECISION_LABELS,
        errors=errors or {},
        entered=entered or {},
    )


def _today() -> date:
    return clock.today()
