"""The activity workflow (DESIGN §3): states, events and who may fire them, declared once."""

from __future__ import annotations

from statemachine import State, StateMachine

from workflows.machine import EventRule, Workflow
from workflows.roles import Role


class ActivityMachine(StateMachine):
    planned = State("计划中", initial=True, value="planned")
    announced = State("已通报", value="announced")
    held = State("已举行", value="held")
    archived = State("已归档", final=True, value="archived")
    cancelled = State("已取消", final=True, value="cancelled")

    announce = planned.to(announced)
    hold = announced.to(held)
    archive = held.to(archived)
    cancel = planned.to(cancelled) | announced.to(cancelled)


# The lead kindergarten's 业务园长 leads the alliance's research group and runs its activities.
LEAD = frozenset({Role.LEAD})

ACTIVITY_WORKFLOW = Workflow(
    entity_type="activity",
    machine=ActivityMachine,
    rules={
        "announce": EventRule(LEAD, "通报"),
        "hold": EventRule(LEAD, "确认已举行"),
        "archive": EventRule(LEAD, "归档"),
        "cancel": EventRule(LEAD, "取消", comment_required=True, comment_label="取消原因"),
    },
    state_labels={s.value: s.name for s in ActivityMachine.states},
)

# Details, participants and materials may change until the activity is archived or cancelled.
EDITABLE_STATES = frozenset({"planned", "announced"})
MATERIAL_STATES = frozenset({"planned", "announced", "held"})
ATTENDANCE_STATES = frozenset({"announced", "held"})
# Activities that took place: they count for compliance, hours and the ledger.
TOOK_PLACE = frozenset({"held", "archived"})
