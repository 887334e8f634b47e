"""The activity news workflow: draft → approved (lead) → published → withdrawn, declared once."""

from __future__ import annotations

from statemachine import State, StateMachine

from workflows.machine import EventRule, Workflow
from workflows.roles import Role

# The lead approves its alliance's reports; the teaching-research office, which gives the alliances
# their information support (信息支持), writes, approves and publishes reports too.
APPROVERS = frozenset({Role.LEAD, Role.RESEARCHER})
PUBLISHERS = frozenset({Role.LEAD, Role.OFFICER, Role.RESEARCHER})


class NewsMachine(StateMachine):
    draft = State("草稿", initial=True, value="draft")
    approved = State("已审定", value="approved")
    published = State("已发布", value="published")
    withdrawn = State("已撤下", final=True, value="withdrawn")

    approve = draft.to(approved)
    send_back = approved.to(draft, event="return")
    publish = approved.to(published)
    withdraw = published.to(withdrawn) | approved.to(withdrawn) | draft.to(withdrawn)


NEWS_WORKFLOW = Workflow(
    entity_type="news_report",
    machine=NewsMachine,
    rules={
        "approve": EventRule(APPROVERS, "审定"),
        "return": EventRule(APPROVERS, "退回修改", comment_required=True, comment_label="修改意见"),
        "publish": EventRule(PUBLISHERS, "发布"),
        "withdraw": EventRule(PUBLISHERS, "撤下", comment_required=True, comment_label="撤下原因"),
    },
    state_labels={s.value: s.name for s in NewsMachine.states},
)

EDITABLE_STATES = frozenset({"draft"})
