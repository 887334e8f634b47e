"""The nomination and mentor workflows (policy §三(3)2, 动态管理), declared once."""

from __future__ import annotations

from statemachine import State, StateMachine

from workflows.accounts.models import Role
from workflows.machine import EventRule, Workflow

OFFICER = frozenset({Role.OFFICER})


class NominationMachine(StateMachine):
    nominated = State("已推荐", initial=True, value="nominated")
    appointed = State("已聘任", final=True, value="appointed")
    declined = State("未入选", final=True, value="declined")

    appoint = nominated.to(appointed)
    decline = nominated.to(declined)


NOMINATION_WORKFLOW = Workflow(
    entity_type="mentor_nomination",
    machine=NominationMachine,
    rules={
        "appoint": EventRule(OFFICER, "聘任"),
        "decline": EventRule(OFFICER, "不予聘任", comment_required=True, comment_label="理由"),
    },
    state_labels={s.value: s.name for s in NominationMachine.states},
)


class MentorMachine(StateMachine):
    """The yearly review: keep and rotate leave the mentor active; retire ends the appointment."""

    active = State("在任", initial=True, value="active")
    retired = State("已退出", final=True, value="retired")

    keep = active.to.itself(internal=False)
    rotate = active.to.itself(internal=False)
    retire = active.to(retired)


MENTOR_WORKFLOW = Workflow(
    entity_type="mentor",
    machine=MentorMachine,
    rules={
        "keep": EventRule(OFFICER, "年度评议：留任"),
        "rotate": EventRule(OFFICER, "年度评议：轮换", comment_required=True, comment_label="轮换说明"),
        "retire": EventRule(OFFICER, "年度评议：退出", comment_required=True, comment_label="退出理由"),
    },
    state_labels={s.value: s.name for s in MentorMachine.states},
)
