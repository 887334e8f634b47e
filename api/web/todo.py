"""待办: what waits for the signed-in person, gathered from one provider per area.

A provider takes the database session and the viewer and returns that area's items, using the
area's own services (so the same object-level rules apply). A later area registers its provider
when its page module is imported::

    todo.register("agreements", agreements_to_sign, roles={Role.APPLICANT, Role.LEAD, Role.PILLAR, Role.OFFICER})
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from workflows.access import Viewer
from workflows.roles import Role


@dataclass(frozen=True)
class TodoItem:
    area: str  # the area's Chinese name, e.g. 入盟申请
    title: str
    link: str
    detail: str = ""
    # True when the person is the one holding the work up (returned, to sign, overdue).
    urgent: bool = False


Provider = Callable[[Session, Viewer], list[TodoItem]]


@dataclass(frozen=True)
class _Registered:
    key: str
    provider: Provider
    roles: frozenset[Role]
    order: int


_providers: dict[str, _Registered] = {}


def register(key: str, provider: Provider, *, roles: Iterable[Role], order: int = 50) -> None:
    """Add (or replace, by key) the provider of one area, for the roles it serves."""
    _providers[key] = _Registered(key, provider, frozenset(roles), order)


def registered() -> list[tuple[str, Provider, frozenset[Role]]]:
    """Every provider by key, with the roles it serves (tests walk each one's links)."""
    return [(e.key, e.provider, e.roles) for e in sorted(_providers.values(), key=lambda e: (e.order, e.key))]


def collect(session: Session, viewer: Viewer) -> list[TodoItem]:
    """Every provider's items for this viewer: urgent first, then in area order."""
    items: list[tuple[int, TodoItem]] = []
    for entry in sorted(_providers.values(), key=lambda e: (e.order, e.key)):
        if viewer.role in entry.roles:
            items += [(entry.order, item) for item in entry.provider(session, viewer)]
    return [item for _, item in sorted(items, key=lambda pair: (not pair[1].urgent, pair[0]))]
