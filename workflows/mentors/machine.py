"""The nomination and mentor workflows (policy §三(3)2, 动态管理), declared once."""

from __future__ import annotations

from statemachine import State, StateMachine

from workflows.machine import EventRule, Workflow
from workflows.roles import Role

OFFICER = frozenset({Role.OFFICER})
RESEARCHER = frozenset({Role.RESEARCHER})


class NominationMachine(StateMachine):
    """The researcher (教研室) reviews each nomination first; the section then appoints or declines."""

    nominated = State("待审核", initial=True, value="nominated")
    reviewed = State("待聘任", value="reviewed")
    appointed = State("已聘任", final=True, value="appointed")
    declined = State("未入选", final=True, value="declined")

    review = nominated.to(reviewed)
    appoint = reviewed.to(appointed)
    decline = nominated.to(declined) | reviewed.to(declined)


NOMINATION_WORKFLOW = Workflow(
    entity_type="mentor_nomination",
    machine=NominationMachine,
    rules={
        "review": EventRule(RESEARCHER, "审核通过", comment_required=True, comment_label="审核意见"),
        "appoint": EventRule(OFFICER, "聘任"),
        "decline": EventRule(OFFICER | RESEARCHER, "不予聘任", comment_required=True, comment_label="理由"),
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
