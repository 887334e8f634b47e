"""The agreement workflow (DESIGN §3): states, events and who may fire them, declared once."""

from __future__ import annotations

from typing import Any

from statemachine import State, StateMachine

from workflows.machine import EventRule, Workflow
from workflows.roles import Role


class AgreementMachine(StateMachine):
    draft = State("草稿", initial=True, value="draft")
    signing = State("签署中", value="signing")
    returned = State("已退回", value="returned")
    effective = State("已生效", value="effective")
    expired = State("已到期", final=True, value="expired")
    terminated = State("已终止", final=True, value="terminated")
    voided = State("已作废", final=True, value="voided")

    send = draft.to(signing)
    # The last signature of the route makes the agreement effective; any other keeps it signing.
    sign = signing.to(effective, cond="route_complete") | signing.to.itself(internal=True)
    decline = signing.to(returned)
    revise = returned.to(draft)
    void = draft.to(voided) | signing.to(voided) | returned.to(voided)
    terminate = effective.to(terminated)
    expire = effective.to(expired)


def _send_by_name(self: StateMachine, event: str, *args: Any, **kwargs: Any) -> Any:
    return StateMachine.send(self, event, *args, **kwargs)


# The event "send" (发出签署) takes the attribute StateMachine.send(), which ``workflows.machine.fire``
# uses to fire events by name; put the method back. The library reads .id, .name, .delay and
# .internal from whatever the attribute holds (allowed_events, send), so the function carries them.
_send_by_name.id = "send"  # type: ignore[attr-defined]
_send_by_name.name = "send"  # type: ignore[attr-defined]
_send_by_name.delay = 0  # type: ignore[attr-defined]
_send_by_name.internal = False  # type: ignore[attr-defined]
AgreementMachine.send = _send_by_name

OFFICER = frozenset({Role.OFFICER})
SIGNERS = frozenset({Role.APPLICANT, Role.LEAD, Role.PILLAR, Role.OFFICER})

AGREEMENT_WORKFLOW = Workflow(
    entity_type="agreement",
    machine=AgreementMachine,
    rules={
        "send": EventRule(OFFICER, "发出签署"),
        "sign": EventRule(SIGNERS, "签署"),
        "decline": EventRule(SIGNERS, "拒签退回", comment_required=True, comment_label="拒签理由"),
        "revise": EventRule(OFFICER, "修改协议"),
        "void": EventRule(OFFICER, "作废", comment_required=True, comment_label="作废理由"),
        "terminate": EventRule(OFFICER, "终止协议", comment_required=True, comment_label="终止理由"),
        # Fired by the system at the end of the term (``events.expire_due``), never through the API.
        "expire": EventRule(OFFICER, "到期"),
    },
    state_labels={s.value: s.name for s in AgreementMachine.states},
)

SYSTEM_EVENTS = frozenset({"expire"})
# Events only a party of the agreement (its signer) may fire, whatever the role allows.
PARTY_EVENTS = frozenset({"sign", "decline"})
EDITABLE_STATES = frozenset({"draft", "returned"})
