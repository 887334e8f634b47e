"""A list endpoint asks the database a bounded number of questions, however long the list.

The SQL statements of one request are counted on the app's engine (``before_cursor_execute``) for a
list of 1 row and for a list of 100: the counts must be equal. An N+1 (a query per row in the
presenter: an attachment list, a kindergarten, a 批复, a suggested alliance) fails it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Table, event, insert, select

from storage.db import utcnow
from storage.runtime import Runtime
from tests.fixtures.app import World
from workflows.accounts.models import User
from workflows.activities.models import Activity, Semester
from workflows.agreements.models import Agreement
from workflows.applications.models import Application, Attachment, Decision

ROWS = 100
Login = Callable[[str], dict[str, str]]


@contextmanager
def counted(runtime: Any) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(runtime.db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", count)


def _applications(runtime: Any, world: Any, first: int, count: int) -> None:
    """``count`` applications of one kindergarten: drafts with scans, submitted and decided ones (each
    with its 批复), in both alliances' towns."""
    kindergarten = world.kindergartens["C-OUT"]
    with runtime.db.session() as s:
        creator = s.query(User).filter_by(username="kg-out").one()
        for n in range(first, first + count):
            state = ("draft", "submitted", "approved", "rejected")[n % 4]
            decided = utcnow() if state in ("approved", "rejected") else None
            application = Application(
                number=f"SQ2026-{n:04d}",
                kindergarten_id=kindergarten.id,
                created_by=creator.id,
                state=state,
                town=("湖坊镇", "塘山镇")[n % 2],
                form={"name": f"第{n}园"},
                decided_at=decided,
                created_at=utcnow() - timedelta(minutes=n),
            )
            s.add(application)
            s.flush()
            for kind in ("licence", "inspection"):
                s.add(Attachment(application_id=application.id, kind=kind, filename=f"{kind}.pdf",
                                 content_type="application/pdf", size=10, sha256="0" * 64, object_key=f"k/{n}/{kind}",
                                 uploaded_by=creator.id, uploaded_at=utcnow()))  # fmt: skip
            if decided:
                s.add(Decision(application_id=application.id, number=f"PF2026-{n:04d}", year=2026, serial=n,
                               outcome=state, kindergarten_name=kindergarten.name, decided_on=date(2026, 9, 1),
                               verification_code=f"V{n:015d}"))  # fmt: skip


def _statements(client: Any, runtime: Any, path: str, headers: dict[str, str]) -> tuple[int, list[Any]]:
    with counted(runtime) as statements:
        r = client.get(path, headers=headers)
    assert r.status_code == 200, r.text
    return len(statements), r.json()


def test_the_application_list_asks_as_much_for_100_rows_as_for_1(
    client: TestClient, runtime: Runtime, world: World, login: Login
) -> None:
    viewers = {"kg-out": login("kg-out"), "officer": login("officer")}
    _applications(runtime, world, 0, 1)
    one = {name: _statements(client, runtime, "/api/applications", h) for name, h in viewers.items()}
    _applications(runtime, world, 1, ROWS - 1)
    many = {name: _statements(client, runtime, "/api/applications", h) for name, h in viewers.items()}
    for name in viewers:
        (few_count, few_rows), (many_count, many_rows) = one[name], many[name]
        assert len(few_rows) == 1 and len(many_rows) == ROWS
        # The first list has no decided application yet: its 批复 statement is the one that may be added.
        assert few_count <= many_count <= few_count + 1, (name, few_count, many_count)
    rows = many["officer"][1]
    assert all(len(r["attachments"]) == 2 for r in rows)
    assert {r["decision"]["number"] for r in rows if r["state"] in ("approved", "rejected")} == {
        f"PF2026-{n:04d}" for n in range(ROWS) if n % 4 in (2, 3)
    }
    assert all(r["decision"] is None for r in rows if r["state"] in ("draft", "submitted"))
    assert {r["suggested_alliance"]["code"] for r in rows} == {"TA", "TB"}  # each town's alliance
    assert all(r["suggested_alliance"] is None for r in many["kg-out"][1])


def _activities(runtime: Any, world: Any, semester_code: str, first: int, count: int) -> None:
    """``count`` activities of both alliances, hosted by each of their kindergartens in turn."""
    hosts = [(alliance, code) for alliance in ("A", "B") for code in ("LEAD", "PIL", "M1", "M2")]
    with runtime.db.session() as s:
        semester = s.scalars(select(Semester).where(Semester.code == semester_code)).one()
        lead = s.scalars(select(User).where(User.username == "lead-a")).one()
        for n in range(first, first + count):
            alliance, code = hosts[n % len(hosts)]
            s.add(Activity(number=f"HD-{n:04d}", seq=n + 1, alliance_id=world.alliances[alliance].id,
                           semester_id=semester.id, topic=f"活动{n}", domain="游戏", format="集中研讨",
                           starts_at=utcnow() + timedelta(days=1, minutes=n),
                           host_kindergarten_id=world.kindergartens[f"{alliance}-{code}"].id,
                           created_by=lead.id))  # fmt: skip


def test_the_activity_list_asks_as_much_for_100_rows_as_for_1(
    client: TestClient, runtime: Runtime, world: World, login: Login, semester: str
) -> None:
    officer = login("officer")
    _activities(runtime, world, semester, 0, 1)
    few_count, few_rows = _statements(client, runtime, "/api/activities", officer)
    _activities(runtime, world, semester, 1, ROWS - 1)
    many_count, many_rows = _statements(client, runtime, "/api/activities", officer)
    assert len(few_rows) == 1 and len(many_rows) == ROWS
    assert many_count == few_count
    assert {(r["alliance_name"], r["host_name"]) for r in many_rows} == {
        (world.alliances[a].name, world.kindergartens[f"{a}-{c}"].name)
        for a in ("A", "B")
        for c in ("LEAD", "PIL", "M1", "M2")
    }


def _copies_of(runtime: Any, agreement_id: str, alliances: list[uuid.UUID], first: int, count: int) -> None:
    """``count`` copies of an agreement's row (new number and code, no application, in effect), in each
    of ``alliances`` in turn."""
    table = Agreement.__table__
    assert isinstance(table, Table)
    with runtime.db.session() as s:
        row = dict(s.execute(select(table).where(table.c.id == uuid.UUID(agreement_id))).mappings().one())
        copies = [
            row
            | {
                "id": uuid.uuid4(),
                "number": f"XY-{n:04d}",
                "verification_code": f"C{n:015d}",
                "application_id": None,
                "state": "effective",
                "alliance_id": alliances[n % len(alliances)],
            }
            for n in range(first, first + count)
        ]
        s.execute(insert(table), copies)


def test_the_agreement_list_asks_as_much_for_100_rows_as_for_1(
    client: TestClient, runtime: Runtime, world: World, login: Login, draft_agreement: dict[str, Any]
) -> None:
    officer = login("officer")
    few_count, few_rows = _statements(client, runtime, "/api/agreements", officer)
    _copies_of(runtime, draft_agreement["id"], [a.id for a in world.alliances.values()], 1, ROWS - 1)
    many_count, many_rows = _statements(client, runtime, "/api/agreements", officer)
    assert len(few_rows) == 1 and len(many_rows) == ROWS
    assert many_count == few_count
    assert {r["alliance_name"] for r in many_rows} == {a.name for a in world.alliances.values()}
