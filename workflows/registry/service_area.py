"""An alliance's service area (服务区域): the 乡镇/街道 whose private kindergartens it takes in.

方案: 「各民办园结合乡镇、街道区域划分……申请，经批复即可加入」. The office keeps the list on the alliance
page or in the arrangement table; the application review suggests the alliance that serves the
applicant's town. A town is served by one alliance at a time, so the suggestion is never a guess.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from workflows import audit
from workflows.access import Viewer
from workflows.errors import FieldError, NotFound, ValidationFailed
from workflows.registry.models import Alliance, AllianceRole, Kindergarten, Membership
from workflows.roles import Role

MAX_TOWN_CHARS = 50  # Kindergarten.town
MAX_TOWNS = 30
EDITORS = frozenset({Role.OFFICER, Role.ADMIN})
_SEPARATORS = re.compile(r"[、，,；;/\s]+")


def parse_towns(text: str) -> list[str]:
    """「湖坊镇、上海路街道」 as a list, in the order written, each once; ValueError says what is wrong."""
    towns = list(dict.fromkeys(t for t in _SEPARATORS.split(text.strip()) if t))
    too_long = [t for t in towns if len(t) > MAX_TOWN_CHARS]
    if too_long:
        raise ValueError(f"「{too_long[0]}」超过 {MAX_TOWN_CHARS} 个字，乡镇/街道之间请用顿号分隔")
    if len(towns) > MAX_TOWNS:
        raise ValueError(f"最多填写 {MAX_TOWNS} 个乡镇/街道")
    return towns


def area_label(towns: Iterable[str]) -> str:
    """The list as the table and the pages print it: 「湖坊镇、上海路街道」."""
    return "、".join(towns)


def taken_towns(alliances: Iterable[Alliance], *, but: uuid.UUID | None = None) -> dict[str, Alliance]:
    """Which alliance serves each town (leaving out ``but``)."""
    return {town: a for a in alliances if a.id != but for town in a.service_area or []}


def all_towns(*, session: Session) -> list[str]:
    """Every town a kindergarten of the registry sits in, and every town an alliance serves, sorted."""
    towns = set(session.scalars(select(Kindergarten.town).distinct()))
    for area in session.scalars(select(Alliance.service_area)):
        towns.update(area or [])
    return sorted(t for t in towns if t)


def set_service_area(*, session: Session, viewer: Viewer, alliance_id: uuid.UUID, towns: list[str]) -> Alliance:
    """Replace an alliance's service area (officer, admin); a town another alliance serves is refused."""
    viewer.require_role(*EDITORS)
    alliances = list(session.scalars(select(Alliance).with_for_update()))
    alliance = next((a for a in alliances if a.id == alliance_id), None)
    if alliance is None:
        raise NotFound("联盟不存在")
    try:
        wanted = parse_towns("、".join(towns))
    except ValueError as exc:
        raise ValidationFailed.single("service_area", "invalid", str(exc)) from None
    taken = taken_towns(alliances, but=alliance.id)
    clashes = [
        FieldError("service_area", "taken", f"「{town}」已是{taken[town].name}（{taken[town].code}）的服务区域")
        for town in wanted
        if town in taken
    ]
    if clashes:
        raise ValidationFailed(clashes)
    before = list(alliance.service_area or [])
    if before != wanted:
        alliance.service_area = wanted
        session.flush()
        audit.append(
            session,
            entity_type="alliance",
            entity_id=alliance.id,
            event="service_area_changed",
            actor=viewer.actor,
            data={"before": before, "after": wanted},
        )
    return alliance


@dataclass(frozen=True)
class Suggestion:
    alliance: Alliance
    reason: str


def _active_alliances(session: Session) -> list[Alliance]:
    return list(
        session.scalars(
            select(Alliance)
            .where(Alliance.active)
            .options(selectinload(Alliance.memberships).selectinload(Membership.kindergarten))
            .order_by(Alliance.code)
        )
    )


def suggest_alliance(*, session: Session, town: str) -> Suggestion | None:
    """The active alliance that serves ``town``; failing that, one whose pillar or lead sits there."""
    return _suggest(_active_alliances(session), town)


def suggest_alliances(*, session: Session, towns: Iterable[str]) -> dict[str, Suggestion | None]:
    """``suggest_alliance`` for each of ``towns``, the alliances read once for all of them (a list)."""
    wanted = set(towns)
    if not wanted:
        return {}
    alliances = _active_alliances(session)
    return {town: _suggest(alliances, town) for town in wanted}


def _suggest(alliances: list[Alliance], town: str) -> Suggestion | None:
    serving = taken_towns(alliances).get(town)
    if serving is not None:
        return Suggestion(serving, f"「{town}」在该联盟的服务区域内")
    for role in (AllianceRole.PILLAR, AllianceRole.LEAD):
        for alliance in alliances:
            holder = alliance.pillar if role is AllianceRole.PILLAR else alliance.lead
            if holder is not None and holder.town == town:
                return Suggestion(alliance, f"尚无联盟以「{town}」为服务区域，该联盟的{_ROLE[role]}同在此地")
    return None


_ROLE = {AllianceRole.PILLAR: "支柱园", AllianceRole.LEAD: "龙头园"}


def sheet_area_problems(
    rows: Iterable[tuple[int, str, list[str]]], outside: Mapping[str, Iterable[str]]
) -> list[tuple[int, str]]:
    """Towns of the arrangement table's 联盟 sheet served twice: (row number, message) per clash.

    ``rows`` are (row, alliance code, towns) in sheet order; ``outside`` the areas of alliances the
    sheet does not list, which keep them."""
    holders = {town: f"不在本表中的联盟 {code}" for code, towns in outside.items() for town in towns}
    problems = []
    for number, code, towns in rows:
        for town in towns:
            if town in holders:
                problems.append(
                    (number, f"「服务区域」{town} 已是{holders[town]}的服务区域，一个乡镇/街道只由一个联盟服务")
                )
            else:
                holders[town] = f"第{number}行联盟 {code}"
    return problems
