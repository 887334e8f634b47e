"""The application workflow (DESIGN §3): states, events and who may fire them, declared once."""

from __future__ import annotations

from statemachine import State, StateMachine

from workflows.machine import EventRule, Workflow
from workflows.roles import Role


class ApplicationMachine(StateMachine):
    draft = State("草稿", initial=True, value="draft")
    submitted = State("已提交", value="submitted")
    under_review = State("审核中", value="under_review")
    returned = State("退回修改", value="returned")
    approved = State("已批准", final=True, value="approved")
    rejected = State("未批准", final=True, value="rejected")
    withdrawn = State("已撤回", final=True, value="withdrawn")

    submit = draft.to(submitted) | returned.to(submitted)
    withdraw = submitted.to(withdrawn)
    start_review = submitted.to(under_review)
    send_back = under_review.to(returned, event="return")
    approve = under_review.to(approved)
    reject = under_review.to(rejected)


APPLICANT = frozenset({Role.APPLICANT})
OFFICER = frozenset({Role.OFFICER})

APPLICATION_WORKFLOW = Workflow(
    entity_type="application",
    machine=ApplicationMachine,
    rules={
        "submit": EventRule(APPLICANT, "提交"),
        "withdraw": EventRule(APPLICANT, "撤回"),
        "start_review": EventRule(OFFICER, "开始审核"),
        "return": EventRule(OFFICER, "退回修改", comment_required=True, comment_label="退回意见"),
        "approve": EventRule(OFFICER, "批准"),
        "reject": EventRule(OFFICER, "不予批准", comment_required=True, comment_label="理由"),
    },
    state_labels={s.value: s.name for s in ApplicationMachine.states},
)

EDITABLE_STATES = frozenset({"draft", "returned"})
OPEN_STATES = frozenset({"draft", "submitted", "under_review", "returned"})
