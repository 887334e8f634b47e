"""The arrangement table (附件1 联盟安排表): export the registry to .xlsx and import it back.

The import checks the whole workbook first (``arrangement_rules``) and writes nothing unless every
row holds; then it upserts alliances and kindergartens by code and moves memberships, keeping the
ended ones as history.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from templates.xlsx import save_workbook_deterministic
from workflows import audit, clock
from workflows.registry.arrangement_rules import (
    ACTIVE_LABELS,
    ALLIANCE_HEADERS,
    ALLIANCE_SHEET,
    ARRANGEMENT_HEADERS,
    ARRANGEMENT_SHEET,
    KindergartenRow,
    Registered,
    parse_arrangement,
)
from workflows.registry.models import (
    CATEGORY_LABELS,
    RATING_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
    Alliance,
    AllianceRole,
    Kindergarten,
    Membership,
)
from workflows.registry.service_area import area_label
from workflows.registry.sheets import read_upload, write_table

TITLE = "附件1 联盟安排表"
ROLE_ORDER = {AllianceRole.LEAD: 0, AllianceRole.PILLAR: 1, AllianceRole.MEMBER: 2}
# The district's calendar day, whatever zone the server runs in.
KINDERGARTEN_FIELDS = (
    "name", "credit_code", "category", "rating", "status", "town",
    "address", "head_name", "head_phone", "contact_name", "contact_phone",
)  # fmt: skip


@dataclass(frozen=True)
class ImportReport:
    alliances_created: int = 0
    alliances_updated: int = 0
    kindergartens_created: int = 0
    kindergartens_updated: int = 0
    memberships_started: int = 0
    memberships_ended: int = 0
    # Kindergartens whose record and place were already as the sheet says.
    unchanged: int = 0
    # Registry kindergartens the sheet does not list; they are left as they are.
    not_in_sheet: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return any(
            (
                self.alliances_created,
                self.alliances_updated,
                self.kindergartens_created,
                self.kindergartens_updated,
                self.memberships_started,
                self.memberships_ended,
            )
        )


def _load_registry(session: Session) -> tuple[dict[str, Alliance], dict[str, Kindergarten]]:
    alliances = session.scalars(select(Alliance).options(selectinload(Alliance.memberships))).all()
    kindergartens = session.scalars(
        select(Kindergarten).options(selectinload(Kindergarten.memberships).selectinload(Membership.alliance))
    ).all()
    return {a.code: a for a in alliances}, {k.code: k for k in kindergartens}


def _place(kindergarten: Kindergarten) -> tuple[str, AllianceRole] | None:
    current = kindergarten.current_membership
    return (current.alliance.code, current.role) if current else None


# --- export -------------------------------------------------------------------------------------


def _arrangement_rows(kindergartens: list[Kindergarten]) -> list[list[Any]]:
    def order(k: Kindergarten) -> tuple[int, str, int, str]:
        current = k.current_membership
        if current is None:
            return (1, "", 0, k.code)
        return (0, current.alliance.code, ROLE_ORDER[current.role], k.code)

    rows: list[list[Any]] = []
    for number, k in enumerate(sorted(kindergartens, key=order), start=1):
        m = k.current_membership
        texts = [
            k.code, k.name, k.credit_code, CATEGORY_LABELS[k.category], RATING_LABELS[k.rating],
            STATUS_LABELS[k.status], k.town, k.address, k.head_name, k.head_phone, k.contact_name,
            k.contact_phone, m.alliance.code if m else None, ROLE_LABELS[m.role] if m else None,
        ]  # fmt: skip
        rows.append([number, *(t or None for t in texts), m.started_on if m else None])
    return rows


def export_arrangement(session: Session) -> bytes:
    """The registry as the arrangement table; the same registry always gives the same bytes."""
    alliances, kindergartens = _load_registry(session)
    workbook = Workbook()
    sheet = workbook.active
    if not isinstance(sheet, Worksheet):
        raise TypeError("expected isinstance(sheet, Worksheet)")
    sheet.title = ARRANGEMENT_SHEET
    write_table(sheet, ARRANGEMENT_HEADERS, _arrangement_rows(list(kindergartens.values())))
    alliance_rows: list[list[Any]] = [
        [a.code, a.name, ACTIVE_LABELS[a.active], area_label(a.service_area or []) or None]
        for a in sorted(alliances.values(), key=lambda a: a.code)
    ]
    write_table(workbook.create_sheet(ALLIANCE_SHEET), ALLIANCE_HEADERS, alliance_rows)
    props = workbook.properties
    props.title, props.subject, props.creator = TITLE, "1+1+N 幼教联盟安排", "Kinderflow"
    return save_workbook_deterministic(workbook)


# --- import -------------------------------------------------------------------------------------


def _update(target: object, values: dict[str, Any]) -> bool:
    changed = {key: value for key, value in values.items() if getattr(target, key) != value}
    for key, value in changed.items():
        setattr(target, key, value)
    return bool(changed)


def _kindergarten_values(row: KindergartenRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in KINDERGARTEN_FIELDS}


def import_arrangement(
    session: Session, data: BinaryIO | bytes, *, actor: audit.Actor, today: date | None = None
) -> ImportReport:
    """Check the whole arrangement table, then apply it in the caller's transaction."""
    today = today or clock.today()
    alliances, kindergartens = _load_registry(session)
    registered = {}
    for code, k in kindergartens.items():
        place = _place(k)
        registered[code] = Registered(code, k.name, k.credit_code, *(place if place else (None, None)))
    sheet = parse_arrangement(
        read_upload(data),
        registered=registered,
        alliance_names={c: a.name for c, a in alliances.items()},
        alliance_areas={c: list(a.service_area or []) for c, a in alliances.items()},
    )
    counts = dict.fromkeys(
        ("alliances_created", "alliances_updated", "kindergartens_created", "kindergartens_updated"), 0
    )
    # No query may flush half-applied rows: the unique indexes only hold between the steps below.
    with session.no_autoflush:
        # Renamed rows first take a placeholder, so two rows can swap names without a unique clash.
        renamed = False
        for arow in sheet.alliances:
            if arow.code in alliances and alliances[arow.code].name != arow.name:
                alliances[arow.code].name, renamed = f"#{alliances[arow.code].id.hex}", True
        for krow in sheet.kindergartens:
            held = kindergartens.get(krow.code)
            if held is not None and (held.name, held.credit_code) != (krow.name, krow.credit_code):
                held.name, held.credit_code, renamed = f"#{held.id.hex}", None, True
        if renamed:
            session.flush()

        for arow in sheet.alliances:
            alliance = alliances.get(arow.code)
            values: dict[str, Any] = {"name": arow.name, "active": arow.active}
            if arow.service_area is not None:
                values["service_area"] = list(arow.service_area)
            if alliance is None:
                alliances[arow.code] = Alliance(code=arow.code, **values)
                session.add(alliances[arow.code])
                counts["alliances_created"] += 1
            elif _update(alliance, values):
                counts["alliances_updated"] += 1

        touched: set[str] = set()
        for krow in sheet.kindergartens:
            kindergarten = kindergartens.get(krow.code)
            if kindergarten is None:
                kindergartens[krow.code] = Kindergarten(code=krow.code, **_kindergarten_values(krow))
                session.add(kindergartens[krow.code])
                counts["kindergartens_created"] += 1
                touched.add(krow.code)
            elif _update(kindergarten, _kindergarten_values(krow)):
                counts["kindergartens_updated"] += 1
                touched.add(krow.code)
        session.flush()

        moves = [
            row
            for row in sheet.kindergartens
            if _place(kindergartens[row.code])
            != ((row.alliance_code, row.role) if row.alliance_code and row.role else None)
        ]
        ended = 0
        for row in moves:
            current = kindergartens[row.code].current_membership
            if current is not None:
                current.ended_on = today
                ended += 1
        # Old places are closed before new ones open: one current lead, pillar and alliance each.
        session.flush()
        started = 0
        for row in moves:
            if row.alliance_code and row.role:
                session.add(
                    Membership(
                        alliance=alliances[row.alliance_code],
                        kindergarten=kindergartens[row.code],
                        role=row.role,
                        started_on=row.joined_on or today,
                    )
                )
                started += 1
        session.flush()

    in_sheet = {row.code for row in sheet.kindergartens}
    report = ImportReport(
        **counts,
        memberships_started=started,
        memberships_ended=ended,
        unchanged=len(in_sheet - touched - {row.code for row in moves}),
        not_in_sheet=tuple(sorted(set(kindergartens) - in_sheet)),
    )
    data_counts = {k: v for k, v in asdict(report).items() if k != "not_in_sheet"}
    audit.append(
        session,
        entity_type="registry",
        entity_id="arrangement",
        event="arrangement_imported",
        actor=actor,
        data={**data_counts, "not_in_sheet": len(report.not_in_sheet)},
    )
    return report
