"""The withdrawal workflow: states, events and who may fire them, declared once."""

from __future__ import annotations

from statemachine import State, StateMachine

from workflows.machine import EventRule, Workflow
from workflows.roles import Role


class WithdrawalMachine(StateMachine):
    requested = State("待审核", initial=True, value="requested")
    approved = State("已同意退出", final=True, value="approved")
    refused = State("不同意退出", final=True, value="refused")
    cancelled = State("已撤回", final=True, value="cancelled")

    approve = requested.to(approved)
    refuse = requested.to(refused)
    cancel = requested.to(cancelled)


WITHDRAWAL_WORKFLOW = Workflow(
    entity_type="withdrawal",
    machine=WithdrawalMachine,
    rules={
        "approve": EventRule(frozenset({Role.OFFICER}), "同意退出", comment_label="审核意见"),
        "refuse": EventRule(
            frozenset({Role.OFFICER}), "不同意退出", comment_required=True, comment_label="不同意的理由"
        ),
        # The member itself may take its request back while it waits.
        "cancel": EventRule(frozenset({Role.APPLICANT}), "撤回申请"),
    },
    state_labels={s.value: s.name for s in WithdrawalMachine.states},
)
