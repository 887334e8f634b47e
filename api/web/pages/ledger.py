"""继续教育 ledger: teachers' hours in alliance activities by year — the district (the bureau) or the
alliance (the lead) by kindergarten, one kindergarten's teachers, one teacher's years and activities —
with the .xlsx download. Visibility is the ledger service's: another kindergarten's is not found."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from starlette.responses import Response

from api.web import nav
from api.web.deps import UserPage
from api.web.routing import web_router
from storage.objects import content_disposition
from workflows import clock
from workflows.activities.ledger import LedgerEntry, ledger, ledger_workbook
from workflows.activities.vocabulary import ATTENDANCE_LABELS, PARTICIPANT_ROLE_LABELS
from workflows.documents.service import XLSX
from workflows.errors import NotFound
from workflows.registry.models import LEVEL_LABELS
from workflows.registry.teachers import get_teacher

router = web_router()

nav.register(nav.NavItem("ledger", "继续教育", "/ledger", order=55))
YEARS_SHOWN = 4


@dataclass
class KindergartenSum:
    id: uuid.UUID
    name: str
    teachers: int = 0
    attended: int = 0
    presented: int = 0
    hours: float = 0.0


def _year(year: str) -> int:
    if not year:
        return clock.today().year
    if not year.isdigit() or not 2000 <= int(year) <= 2100:
        raise NotFound("年度不正确")
    return int(year)


def _kindergarten(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        raise NotFound("幼儿园不存在") from None


def _sums(entries: list[LedgerEntry]) -> list[KindergartenSum]:
    found: dict[uuid.UUID, KindergartenSum] = {}
    for e in entries:
        k = e.teacher.kindergarten
        row = found.setdefault(k.id, KindergartenSum(k.id, k.name))
        row.teachers += 1
        row.attended += e.attended
        row.presented += e.presented
        row.hours += e.hours
    return list(found.values())


@router.get("/ledger")
def ledger_page(page: UserPage, year: str = "", kindergarten: str = "") -> Response:
    chosen, kid = _year(year), _kindergarten(kindergarten)
    entries = ledger(session=page.db, viewer=page.viewer, year=chosen, kindergarten_id=kid)
    sums = _sums(entries)
    # The bureau and a lead see many kindergartens: first by kindergarten, then one kindergarten's teachers.
    by_kindergarten = kid is None and len(sums) > 1
    return page.render(
        "ledger/index.html", year=chosen, years=range(clock.today().year, 2019, -1), kindergarten=kid,
        kindergarten_name=sums[0].name if len(sums) == 1 else "", by_kindergarten=by_kindergarten,
        sums=sums, entries=entries, levels=LEVEL_LABELS, total_hours=sum(s.hours for s in sums),
    )  # fmt: skip


@router.get("/ledger/{year}.xlsx")
def ledger_download(year: int, page: UserPage, kindergarten: str = "") -> Response:
    chosen = _year(str(year))
    entries = ledger(session=page.db, viewer=page.viewer, year=chosen, kindergarten_id=_kindergarten(kindergarten))
    headers = {"Content-Disposition": content_disposition(f"教师参加联盟教研活动台账_{chosen}.xlsx"),
               "Cache-Control": "no-store"}  # fmt: skip
    return Response(ledger_workbook(entries, year=chosen), media_type=XLSX, headers=headers)


@router.get("/ledger/teachers/{teacher_id}")
def teacher_ledger(teacher_id: uuid.UUID, page: UserPage, year: str = "") -> Response:
    teacher = get_teacher(session=page.db, viewer=page.viewer, teacher_id=teacher_id)
    chosen = _year(year)
    by_year = []
    for y in range(chosen, chosen - YEARS_SHOWN, -1):
        entries = ledger(session=page.db, viewer=page.viewer, year=y, kindergarten_id=teacher.kindergarten_id)
        mine = next((e for e in entries if e.teacher.id == teacher.id), LedgerEntry(teacher))
        by_year.append((y, mine))
    return page.render(
        "ledger/teacher.html", teacher=teacher, year=chosen, by_year=by_year, current=by_year[0][1],
        level=LEVEL_LABELS.get(teacher.level, ""), roles=PARTICIPANT_ROLE_LABELS, attendance=ATTENDANCE_LABELS,
    )  # fmt: skip
