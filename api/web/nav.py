"""The navigation model: each area registers its menu entries once, for the roles that use them.

A later area adds itself with one call at import time of its page module::

    nav.register(NavItem("agreements", "协议签署", "/agreements", roles=KINDERGARTEN_AND_BUREAU, order=30))
"""

from __future__ import annotations

from dataclasses import dataclass

from workflows.roles import Role

ALL_ROLES = frozenset(Role)
BUREAU = frozenset({Role.OFFICER, Role.RESEARCHER, Role.ADMIN})
KINDERGARTENS = frozenset({Role.APPLICANT, Role.LEAD, Role.PILLAR})


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    href: str
    roles: frozenset[Role] = ALL_ROLES
    # Smaller comes first: 0 home, 10 applications, 20 agreements, 30 activities, 40 evaluations,
    # 50 registry, 80 notifications, 90 administration.
    order: int = 50
    # Some entries are named differently per role (申请审核 for officers, 入盟申请 for applicants).
    labels: tuple[tuple[Role, str], ...] = ()
    # Roles that see the entry only while their kindergarten is in an alliance: a member kindergarten's
    # (applicant) account gets the alliance's work once admitted, not while it is still applying.
    alliance_roles: frozenset[Role] = frozenset()

    def label_for(self, role: Role) -> str:
        return dict(self.labels).get(role, self.label)

    def is_current(self, path: str) -> bool:
        return path == self.href if self.href == "/" else path == self.href or path.startswith(self.href + "/")


_items: dict[str, NavItem] = {}


def register(item: NavItem) -> None:
    """Add (or replace, by key) a menu entry."""
    _items[item.key] = item


def items_for(role: Role | None, *, in_alliance: bool = False) -> list[NavItem]:
    """The entries a role sees (``in_alliance``: its kindergarten is in an alliance), in order; nothing
    for a visitor who is not signed in."""
    if role is None:
        return []
    shown = (i for i in _items.values() if role in i.roles or (in_alliance and role in i.alliance_roles))
    return sorted(shown, key=lambda i: (i.order, i.key))
