"""0013 renames the activities planned before it: the number names the semester as people read it
(``TA-2026-autumn-03`` becomes ``TA-2026年秋季学期-03``), and going down restores the old number."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, text

from storage import migrate
from storage.db import make_engine
from storage.runtime import build_runtime
from tests.fixtures.app import build_world, make_settings
from tests.fixtures.database import BACKENDS, discard_database_url, fresh_database_url
from workflows.accounts.models import User
from workflows.activities.models import Activity
from workflows.activities.semesters import ensure_semester

BEFORE = "0012_accounts"  # the revision 0013 follows


@pytest.mark.parametrize("backend", BACKENDS)
def test_existing_activity_numbers_name_the_semester_after_0013(backend, tmp_path):
    url = fresh_database_url(backend, tmp_path)
    try:
        # The models are those of the head, so the world is built there and the database is then
        # taken down to the revision before 0013, which renames the number back on the way.
        migrate.upgrade(url)
        runtime = build_runtime(make_settings(url, tmp_path))
        world = build_world(runtime)
        with runtime.db.session() as s:
            semester = ensure_semester(
                session=s, code="2026-autumn", starts_on=date(2026, 9, 1), ends_on=date(2027, 1, 20)
            )
            lead = s.scalars(select(User).where(User.username == "lead-a")).one()
            s.add(Activity(number="TA-2026年秋季学期-03", seq=3, alliance_id=world.alliances["A"].id,
                           semester_id=semester.id, topic="主题", domain="游戏", format="集中研讨",
                           starts_at=datetime(2026, 10, 9, 1, tzinfo=UTC), place="园内",
                           host_kindergarten_id=world.kindergartens["A-LEAD"].id, created_by=lead.id))  # fmt: skip
        runtime.close()
        engine = make_engine(url)

        def number() -> str:
            with engine.connect() as conn:
                return conn.execute(text("SELECT number FROM activities")).scalar_one()

        migrate.downgrade(url, BEFORE)
        assert number() == "TA-2026-autumn-03"
        migrate.upgrade(url)
        assert number() == "TA-2026年秋季学期-03"
        migrate.downgrade(url, BEFORE)
        assert number() == "TA-2026-autumn-03"
        engine.dispose()
    finally:
        discard_database_url(url)
