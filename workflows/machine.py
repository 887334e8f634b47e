"""The shared transition core: every document kind moves through here.

A workflow is declared once (a python-statemachine ``StateMachine`` for the graph, plus who may fire
each event and what it requires). ``fire`` checks the caller's role, the version the caller saw and
the event's required fields, moves the state through the machine (an illegal event raises, never a
silent no-op), bumps the row version under an optimistic check, and queues the audit entry — all in
the caller's transaction. The entry is chained just before commit (``audit.settle``), so the event's
consequences run before the transaction takes the audit head, the one row every transition shares.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from statemachine import StateMachine
from statemachine.exceptions import TransitionNotAllowed as MachineRefused

from workflows import audit
from workflows.accounts.models import Role
from workflows.errors import FieldError, Forbidden, StaleVersion, TransitionNotAllowed, ValidationFailed


class Stateful(Protocol):
    id: Any
    state: str
    version: int


@dataclass(frozen=True)
class EventRule:
    """Who may fire an event and what it needs."""

    roles: frozenset[Role]
    label: str
    comment_required: bool = False
    comment_label: str = "意见"


@dataclass(frozen=True)
class Workflow:
    entity_type: str
    machine: type[StateMachine]
    rules: Mapping[str, EventRule]
    state_labels: Mapping[str, str] = field(default_factory=dict)

    def label(self, state: str) -> str:
        return self.state_labels.get(state, state)

    def allowed_events(self, record: Stateful, role: Role) -> list[str]:
        """The events this role could fire on the record now (for UIs and the API)."""
        machine = self.machine(model=record, state_field="state")
        possible = {e.id for e in machine.allowed_events}
        return [name for name, rule in self.rules.items() if name in possible and role in rule.roles]


@dataclass(frozen=True)
class Moved:
    from_state: str
    to_state: str
    queued: audit.AuditEntry
    session: Session = field(repr=False, compare=False)

    @property
    def entry(self) -> audit.AuditEntry:
        """The audit entry, chained: asking for it takes the audit head now rather than at commit."""
        if self.queued.seq is None:
            audit.settle(self.session)
        return self.queued


def fire(
    *,
    session: Session,
    workflow: Workflow,
    record: Stateful,
    event: str,
    actor: audit.Actor,
    role: Role,
    version: int,
    comment: str = "",
    data: dict[str, Any] | None = None,
    validate: Callable[[], list[FieldError]] | None = None,
) -> Moved:
    """Move ``record`` by ``event`` for ``actor`` who saw ``version``; raise on anything illegal."""
    rule = workflow.rules.get(event)
    if rule is None:
        raise TransitionNotAllowed(f"没有名为「{event}」的操作", code="unknown_event")
    if role not in rule.roles:
        raise Forbidden(f"您的角色不能执行「{rule.label}」")
    if version != record.version:
        raise StaleVersion()
    from_state = record.state
    machine = workflow.machine(model=record, state_field="state")
    if event not in {e.id for e in machine.allowed_events}:
        raise TransitionNotAllowed(f"当前状态为「{workflow.label(from_state)}」，不能执行「{rule.label}」")
    # Field checks come after the state check: a wrong move is a 409 whatever its fields.
    problems = []
    if rule.comment_required and not comment.strip():
        problems.append(FieldError("comment", "required", f"{rule.label}时必须填写{rule.comment_label}"))
    if validate is not None:
        problems += validate()
    if problems:
        raise ValidationFailed(problems, summary=None if len(problems) == 1 else f"还有 {len(problems)} 项需要处理")
    try:
        machine.send(event)
    except MachineRefused:  # a guard inside the machine said no
        raise TransitionNotAllowed(f"当前状态为「{workflow.label(from_state)}」，不能执行「{rule.label}」") from None
    try:
        # The mapper's version_id_col turns this UPDATE into "... WHERE version = :seen".
        session.flush()
    except StaleDataError:
        raise StaleVersion() from None
    entry = audit.append(
        session,
        entity_type=workflow.entity_type,
        entity_id=record.id,
        event=event,
        actor=actor,
        from_state=from_state,
        to_state=record.state,
        comment=comment.strip(),
        data=data,
    )
    return Moved(from_state, record.state, entry, session)
