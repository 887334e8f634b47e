"""One event path for every document kind: load the record visibly and locked, run the event's hooks
around ``machine.fire``, flush, return the record.

An area declares its graph and roles once (``machine.Workflow``), attaches each event's hooks in its
events module (``Workflow.with_hooks``: pure validators and named consequences) and registers an
``Area`` here with the function that loads a record the viewer may see. ``fire_event`` does the rest:

    prepare → fire (role, version, state, comment, validate; move; versioned UPDATE; audit)
            → area.moved → then → outbox rows (rule.after, ctx.after_commit) → flush

A refusal anywhere raises and the caller's transaction takes every change back.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, Protocol, TypeVar, cast

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from storage.objects import ObjectStore
from storage.settings import Settings
from workflows import clock, outbox
from workflows.access import Viewer
from workflows.errors import FieldError, StaleVersion
from workflows.machine import Ctx, Stateful, Workflow, fire, flush_versioned

R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)


class Loader(Protocol[R_co]):
    """A record the viewer may see (NotFound otherwise), with its row locked when ``lock``."""

    def __call__(self, session: Session, viewer: Viewer, id: uuid.UUID, *, lock: bool = True) -> R_co: ...


@dataclass(frozen=True)
class Area(Generic[R]):
    """A registered document kind: its workflow (with hooks), how to load one, and area-wide hooks.

    ``before`` runs for every event before the checks; ``moved`` for every event after the move and
    before the event's own ``then``; ``today`` is the area's calendar day when the caller gives none.
    """

    workflow: Workflow
    load: Loader[R]
    before: Callable[[Ctx[R]], None] | None = None
    moved: Callable[[Ctx[R]], None] | None = None
    today: Callable[[], date] = field(default=clock.today)

    @property
    def entity_type(self) -> str:
        return self.workflow.entity_type


AREAS: dict[str, Area[Any]] = {}


def register(area: Area[R]) -> Area[R]:
    """Make an area's events reachable by its entity type (the one line an area adds)."""
    if area.entity_type in AREAS and AREAS[area.entity_type] is not area:
        raise ValueError(f"an area for {area.entity_type!r} is already registered")
    AREAS[area.entity_type] = area
    return area


def area_of(entity_type: str) -> Area[Any]:
    return AREAS[entity_type]


def fire_event(
    area: Area[R],
    *,
    session: Session,
    viewer: Viewer,
    id: uuid.UUID,
    event: str,
    version: int,
    comment: str = "",
    fields: Mapping[str, Any] | None = None,
    body: object = None,
    today: date | None = None,
    settings: Settings | None = None,
    objects: ObjectStore | None = None,
    address: str = "",
) -> R:
    """Fire one workflow event on a record the viewer can see; return the record, flushed."""
    # Lock the row so a concurrent event on the same record waits and then sees the new version.
    record = area.load(session, viewer, id, lock=True)
    ctx = Ctx(
        session=session, viewer=viewer, record=record, event=event, version=version, comment=comment,
        fields=fields or {}, body=body, today=today or area.today(), address=address, settings=settings,
        objects=objects,
    )  # fmt: skip
    return run(area, ctx)


def run(area: Area[R], ctx: Ctx[R]) -> R:
    """The event path for a record already loaded (and locked) into ``ctx``."""
    rule = area.workflow.rules.get(ctx.event)
    if area.before is not None:
        area.before(ctx)
    if rule is not None and rule.prepare is not None:
        rule.prepare(ctx)
    validate: Callable[[], list[FieldError]] | None = None
    if rule is not None and rule.validate is not None:
        check = rule.validate
        validate = lambda: check(ctx)  # noqa: E731
    # A mapped model's Mapped[...] columns do not match the Stateful protocol for mypy; they are the columns.
    record = cast(Stateful, ctx.record)
    ctx.moved = fire(
        session=ctx.session,
        workflow=area.workflow,
        record=record,
        event=ctx.event,
        actor=ctx.viewer.actor,
        role=ctx.viewer.role,
        version=ctx.version,
        comment=ctx.comment,
        data=ctx.data,  # the same dict: validators may still add to it
        validate=validate,
        flush=False,  # one UPDATE for the move and what the consequences change, flushed below
    )
    if rule is None:  # fire refuses an unknown event before this
        raise RuntimeError(f"no rule for {ctx.event!r}")
    try:
        if area.moved is not None:
            area.moved(ctx)
        if rule.then is not None:
            rule.then(ctx)
    except StaleDataError:  # a consequence's query flushed the move first (autoflush)
        raise StaleVersion() from None
    for topic in rule.after:
        outbox.record(ctx.session, topic, **{f"{area.entity_type}_id": str(record.id)})
    for topic, payload in ctx.outbox:
        outbox.record(ctx.session, topic, **payload)
    flush_versioned(ctx.session)
    return ctx.record
