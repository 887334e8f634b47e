"""动态管理: the review flags a published evaluation raised, each with its evidence, for the bureau.

Read-only for now: the flag, why it was raised (the year's grade, or the activities the alliance held
that none of the member's teachers attended), and the decision once the officer has recorded one.
The officers' ``evaluation.review_flags`` notification opens this page.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from starlette.responses import Response

from api.web import nav
from api.web.deps import UserPage
from api.web.routing import web_router
from workflows.accounts.models import Role
from workflows.activities.vocabulary import CST
from workflows.evaluations import records, review, service
from workflows.evaluations.machine import EVALUATION_WORKFLOW
from workflows.evaluations.models import Evaluation
from workflows.evaluations.records import ActivityFact, MemberFact
from workflows.evaluations.schemas import ReviewFlagOut
from workflows.evaluations.views import review_flag_out

router = web_router()

BUREAU = frozenset({Role.OFFICER, Role.RESEARCHER, Role.ADMIN})
nav.register(nav.NavItem("review_flags", "动态管理", "/review-flags", roles=frozenset({Role.OFFICER}), order=42))


@dataclass
class FlagEvidence:
    flag: ReviewFlagOut
    member: MemberFact | None = None


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
        group.flags.append(FlagEvidence(review_flag_out(flag), member))
    all_years = sorted({f.year for f in review.list_flags(session=page.db, viewer=page.viewer)}, reverse=True)
    return page.render(
        "evaluations/review_flags.html",
        groups=list(groups.values()),
        years=all_years,
        year=year,
        open_only=bool(open_only),
        open_count=sum(f.decision is None for f in flags),
    )


def _today() -> date:
    return datetime.now(CST).date()
