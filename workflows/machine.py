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
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from statemachine import StateMachine
from statemachine.exceptions import TransitionNotAllowed as MachineRefused

from storage.objects import ObjectStore
from storage.settings import Settings
from workflows import audit, clock
from workflows.access import Viewer
from workflows.errors import FieldError, Forbidden, StaleVersion, TransitionNotAllowed, ValidationFailed
from workflows.roles import Role


class Stateful(Protocol):
    id: Any
    state: str
    version: int


R = TypeVar("R")  # a mapped record with id, state and version (see Stateful)
T = TypeVar("T")


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


@dataclass
class Ctx(Generic[R]):
    """What an event's hooks see and share: the locked record, who fires what, and what they brought.

    ``data`` is the audit entry's data (hooks may add to it until the move is written); ``keep`` and
    ``value`` carry what a validator found (the chosen alliance, say) on to the consequence;
    ``after_commit`` asks for work after the commit (an outbox row written in this transaction).
    """

    session: Session
    viewer: Viewer
    record: R
    event: str
    version: int
    comment: str = ""
    fields: Mapping[str, Any] = field(default_factory=dict)
    body: object = None  # the request body, for areas whose events take one
    today: date = field(default_factory=clock.today)
    address: str = ""  # the caller's network address, for events that record it
    settings: Settings | None = None
    objects: ObjectStore | None = None
    data: dict[str, Any] = field(default_factory=dict)
    moved: Moved | None = None
    values: dict[str, object] = field(default_factory=dict)
    outbox: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def moved_from(self) -> str:
        if self.moved is None:
            raise RuntimeError("moved_from is known once the record has moved")
        return self.moved.from_state

    @property
    def moved_to(self) -> str:
        if self.moved is None:
            raise RuntimeError("moved_to is known once the record has moved")
        return self.moved.to_state

    def need_settings(self) -> Settings:
        if self.settings is None:
            raise RuntimeError(f"event {self.event!r} needs the settings; the caller passed none")
        return self.settings

    def need_objects(self) -> ObjectStore:
        if self.objects is None:
            raise RuntimeError(f"event {self.event!r} needs the object store; the caller passed none")
        return self.objects

    def keep(self, name: str, value: object) -> None:
        """Keep a validated value (the chosen alliance, say) for the consequence."""
        self.values[name] = value

    def value(self, name: str, kind: type[T]) -> T | None:
        """A value a validator kept, checked to be a ``kind``; None if none was kept."""
        found = self.values.get(name)
        if found is None:
            return None
        if not isinstance(found, kind):
            raise TypeError(f"{name} is a {type(found).__name__}, not a {kind.__name__}")
        return found

    def body_as(self, kind: type[T]) -> T:
        """The request body, checked to be a ``kind``."""
        if not isinstance(self.body, kind):
            raise TypeError(f"event {self.event!r} needs a {kind.__name__} body")
        return self.body

    def after_commit(self, topic: str, **payload: Any) -> None:
        """Ask for work after the commit: an outbox row in this transaction, published once it commits."""
        self.outbox.append((topic, payload))


Validator = Callable[[Ctx[Any]], list[FieldError]]
Consequence = Callable[[Ctx[Any]], None]


def chain(*steps: Callable[[Ctx[R]], None]) -> Callable[[Ctx[R]], None]:
    """One hook running ``steps`` in order (bookkeeping of its own before a named consequence, say)."""

    def run(ctx: Ctx[R]) -> None:
        for step in steps:
            step(ctx)

    return run


@dataclass(frozen=True)
class Hooks(Generic[R]):
    """What an event does besides moving: typed against the area's record.

    ``prepare`` runs before any check (a refusal of its own, values to snapshot, audit data);
    ``validate`` after the role, version and state checks, its problems refusing the move as one 422;
    ``then`` after the move, in the transaction; ``after`` names outbox topics recorded after ``then``
    (payload ``{"<entity_type>_id": "<id>"}``), published once the transaction commits.
    """

    prepare: Callable[[Ctx[R]], None] | None = None
    validate: Callable[[Ctx[R]], list[FieldError]] | None = None
    then: Callable[[Ctx[R]], None] | None = None
    after: tuple[str, ...] = ()


@dataclass(frozen=True)
class EventRule:
    """Who may fire an event and what it needs, and (attached by the area's events module) its hooks."""

    roles: frozenset[Role]
    label: str
    comment_required: bool = False
    comment_label: str = "意见"
    prepare: Consequence | None = None
    validate: Validator | None = None
    then: Consequence | None = None
    after: tuple[str, ...] = ()


@dataclass(frozen=True)
class Workflow:
    entity_type: str
    machine: type[StateMachine]
    rules: Mapping[str, EventRule]
    state_labels: Mapping[str, str] = field(default_factory=dict)

    def with_hooks(self, hooks: Mapping[str, Hooks[Any]]) -> Workflow:
        """This workflow with each named event's hooks attached (every name must be a rule)."""
        unknown = set(hooks) - set(self.rules)
        if unknown:
            raise ValueError(f"{self.entity_type}: hooks for events without a rule: {sorted(unknown)}")
        rules = {
            name: replace(rule, prepare=h.prepare, validate=h.validate, then=h.then, after=h.after)
            if (h := hooks.get(name)) is not None
            else rule
            for name, rule in self.rules.items()
        }
        return replace(self, rules=rules)

    def label(self, state: str) -> str:
        return self.state_labels.get(state, state)

    @cached_property
    def _events_by_state(self) -> Mapping[str, frozenset[str]]:
        # What python-statemachine's ``allowed_events`` lists for a state: its outgoing events, guards
        # aside. The graph is static, so it is read once rather than from a machine per record.
        return {
            state.value: frozenset(event.id for event in state.transitions.unique_events)
            for state in self.machine.states
        }

    def possible_events(self, state: str) -> frozenset[str]:
        """The events leaving ``state`` in the graph (a guard may still refuse one)."""
        return self._events_by_state.get(state, frozenset())

    def allowed_events(self, record: Stateful, role: Role) -> list[str]:
        """The events this role could fire on the record now (for UIs and the API)."""
        possible = self.possible_events(record.state)
        return [name for name, rule in self.rules.items() if name in possible and role in rule.roles]


def flush_versioned(session: Session) -> None:
    """Flush; a versioned UPDATE that found another version is the caller's stale version (409)."""
    try:
        # The mapper's version_id_col turns the UPDATE into "... WHERE version = :seen".
        session.flush()
    except StaleDataError:
        raise StaleVersion() from None


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
    flush: bool = True,
) -> Moved:
    """Move ``record`` by ``event`` for ``actor`` who saw ``version``; raise on anything illegal.

    The versioned UPDATE is flushed here unless ``flush=False``: then the caller flushes once its
    consequences have changed the record too (one UPDATE, not two) and turns ``StaleDataError`` into
    ``StaleVersion`` itself (``transitions.run`` does)."""
    rule = workflow.rules.get(event)
    if rule is None:
        raise TransitionNotAllowed(f"没有名为「{event}」的操作", code="unknown_event")
    if role not in rule.roles:
        raise Forbidden(f"您的角色不能执行「{rule.label}」")
    if version != record.version:
        raise StaleVersion()
    from_state = record.state
    if event not in workflow.possible_events(from_state):
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
        workflow.machine(model=record, state_field="state").send(event)
    except MachineRefused:  # a guard inside the machine said no
        raise TransitionNotAllowed(f"当前状态为「{workflow.label(from_state)}」，不能执行「{rule.label}」") from None
    if flush:
        flush_versioned(session)
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
