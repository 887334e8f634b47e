"""The parties of an agreement and who signs for each: 甲方 lead, 乙方 pillar, 丙方 member, the bureau."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

# The bureau's name is re-exported: the agreements area has always imported it from here.
from templates.district import BUREAU_NAME as BUREAU_NAME
from templates.district import BUREAU_SHORT, PRESCHOOL_SECTION
from workflows.access import Viewer
from workflows.accounts.models import User
from workflows.agreements.models import Agreement
from workflows.errors import FieldError
from workflows.roles import KINDERGARTEN_ROLES, Role

PARTIES = ("lead", "pillar", "member", "bureau")  # the order of the parties table and signature page
PARTY_LABELS = {"lead": "甲方", "pillar": "乙方", "member": "丙方", "bureau": "监督方"}
PARTY_ROLES = {"lead": "龙头园", "pillar": "支柱园", "member": "成员园", "bureau": BUREAU_SHORT}
BUREAU_SECTION = PRESCHOOL_SECTION
BUREAU_PARTY_NAME = f"{BUREAU_NAME}（{BUREAU_SECTION}）"
BUREAU_SEAL_CODE = "chengyou"


def party_label(party: str) -> str:
    return f"{PARTY_LABELS[party]}（{PARTY_ROLES[party]}）"


def party_of(viewer: Viewer, agreement: Agreement) -> str | None:
    """The party the viewer signs for: its kindergarten's place in the agreement, or the bureau."""
    if viewer.role == Role.OFFICER:
        return "bureau"
    if viewer.role not in KINDERGARTEN_ROLES or viewer.kindergarten_id is None:
        return None
    return next(
        (p for p in agreement.party_keys if p != "bureau" and agreement.kindergarten_of(p) == viewer.kindergarten_id),
        None,
    )


def is_party(viewer: Viewer, agreement: Agreement) -> bool:
    """A kindergarten of the agreement (its lead, pillar or member)."""
    return viewer.kindergarten_id is not None and viewer.kindergarten_id in (
        agreement.lead_kindergarten_id,
        agreement.pillar_kindergarten_id,
        agreement.member_kindergarten_id,
    )


def kindergarten_parties(agreement: Agreement) -> list[str]:
    """The parties that are kindergartens (everyone but the bureau)."""
    return [p for p in agreement.party_keys if p != "bureau"]


def signers_of(session: Session, agreement: Agreement, party: str) -> list[User]:
    """The active accounts that may sign for ``party``."""
    stmt = select(User).where(User.is_active)
    if party == "bureau":
        stmt = stmt.where(User.role == Role.OFFICER)
    else:
        stmt = stmt.where(
            User.kindergarten_id == agreement.kindergarten_of(party), User.role.in_(list(KINDERGARTEN_ROLES))
        )
    return list(session.scalars(stmt.order_by(User.username)))


def route_problems(route: list[list[str]], parties: tuple[str, ...] = PARTIES) -> list[FieldError]:
    """A route must name every party of the agreement exactly once, in non-empty steps."""
    named = [p for step in route for p in step]
    problems = []
    if not route:
        problems.append(FieldError("route", "empty", "请设置签署顺序"))
    if any(not step for step in route):
        problems.append(FieldError("route", "empty_step", "签署顺序中不能有空的步骤"))
    unknown = sorted({p for p in named if p not in parties})
    if unknown:
        names = "、".join(PARTY_LABELS.get(p, p) for p in unknown)
        problems.append(FieldError("route", "unknown_party", f"签署顺序中有本协议没有的当事方：{names}"))
    if route and sorted(named) != sorted(parties) and not unknown:
        every = "、".join(PARTY_LABELS[p] for p in parties)
        problems.append(FieldError("route", "incomplete", f"签署顺序须包含{every}各一次"))
    return problems
