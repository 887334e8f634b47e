"""0026 lets ``library_items`` hold documents with no activity. On SQLite that rebuilds the table, which
drops the FTS5 triggers: with a promoted item and its recommendation in place, down and up again must
keep the rows, the keys and full-text search (new rows included); downgrade refuses while an uploaded
document exists."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from storage import migrate
from storage.runtime import build_runtime
from tests.fixtures.app import build_world, make_settings
from tests.fixtures.database import BACKENDS, discard_database_url, fresh_database_url
from workflows.accounts.models import User
from workflows.activities.models import Activity, Material
from workflows.activities.semesters import ensure_semester
from workflows.library.models import LibraryItem, Recommendation
from workflows.library.search import search
from workflows.library.text import index

BEFORE = "0025_channel_alliances"  # the revision 0026 follows


def _item(**fields) -> LibraryItem:
    item = LibraryItem(
        category="lesson_case", domain="科学", format="集中研讨", year=2026, keywords=["磁铁"], filename="a.docx",
        content_type="application/pdf", size=1, sha256="0" * 64, object_key="sha256/00/00", **fields,
    )  # fmt: skip
    index(item)
    return item


def _found(runtime, query: str) -> list[str]:
    with runtime.db.session() as s:
        return sorted(i.title for i in search(session=s, query=query).items)


@pytest.mark.parametrize("backend", BACKENDS)
def test_library_items_with_rows_survive_0026_down_and_up(backend, tmp_path):
    url = fresh_database_url(backend, tmp_path)
    try:
        migrate.upgrade(url)
        runtime = build_runtime(make_settings(url, tmp_path))
        world = build_world(runtime)
        with runtime.db.session() as s:
            semester = ensure_semester(
                session=s, code="2026-autumn", starts_on=date(2026, 9, 1), ends_on=date(2027, 1, 20)
            )
            lead = s.scalars(select(User).where(User.username == "lead-a")).one()
            activity = Activity(number="TA-1", seq=1, alliance_id=world.alliances["A"].id, semester_id=semester.id,
                                topic="磁铁", domain="科学", format="集中研讨", starts_at=datetime(2026, 10, 9, 1, tzinfo=UTC),
                                place="园内", host_kindergarten_id=world.kindergartens["A-LEAD"].id, created_by=lead.id)  # fmt: skip
            s.add(activity)
            s.flush()
            material = Material(activity_id=activity.id, category="lesson_case", filename="a.docx",
                                content_type="application/pdf", size=1, sha256="0" * 64, object_key="sha256/00/00",
                                uploaded_by=lead.id)  # fmt: skip
            s.add(material)
            s.flush()
            item = _item(material_id=material.id, activity_id=activity.id, alliance_id=activity.alliance_id,
                         title="磁铁课例", promoted_by=lead.id)  # fmt: skip
            s.add(item)
            s.flush()
            s.add(Recommendation(number="TJ-1", item_id=item.id, journal="刊", reason="好", recommended_by=lead.id,
                                 recommender_name="龙头园"))  # fmt: skip
            lead_id, activity_id = lead.id, activity.id
        assert _found(runtime, "磁铁") == ["磁铁课例"]

        migrate.downgrade(url, BEFORE)
        with runtime.db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM library_recommendations")).scalar() == 1
            if backend == "sqlite":
                triggers = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars()
                assert {"library_items_fts_insert", "library_items_fts_update", "library_items_fts_delete"} <= set(
                    triggers
                )
                assert conn.execute(text("PRAGMA foreign_key_check")).fetchall() == []
                # The index still holds the row (the models are the head's, so the search is not asked here).
                assert (
                    conn.execute(text("SELECT count(*) FROM library_fts WHERE library_fts MATCH '磁铁'")).scalar() == 1
                )
            assert conn.execute(text("SELECT title FROM library_items")).scalars().all() == ["磁铁课例"]

        migrate.upgrade(url)
        with runtime.db.session() as s:  # a new promoted row and an uploaded one are indexed by the triggers
            material = Material(activity_id=activity_id, category="reflection", filename="b.docx",
                                content_type="application/pdf", size=1, sha256="1" * 64, object_key="sha256/11/11",
                                uploaded_by=lead_id)  # fmt: skip
            s.add(material)
            s.flush()
            s.add(_item(material_id=material.id, activity_id=activity_id, alliance_id=world.alliances["A"].id,
                        title="磁铁反思", promoted_by=lead_id))  # fmt: skip
            s.add(_item(title="磁铁安全管理制度", promoted_by=lead_id))
        assert _found(runtime, "磁铁") == ["磁铁反思", "磁铁安全管理制度", "磁铁课例"]
        with runtime.db.session() as s:  # an update reindexes
            uploaded = s.scalars(select(LibraryItem).where(LibraryItem.material_id.is_(None))).one()
            uploaded.title = "园所安全管理制度"
            index(uploaded)
        assert _found(runtime, "安全") == ["园所安全管理制度"]
        with runtime.db.engine.connect() as conn:
            if backend == "sqlite":
                assert conn.execute(text("PRAGMA foreign_key_check")).fetchall() == []
            assert conn.execute(text("SELECT count(*) FROM library_recommendations")).scalar() == 1

        # The check constraint: a promoted material keeps its alliance.
        refused = pytest.raises(IntegrityError, match="ck_library_items_origin|CHECK constraint failed")
        with refused, runtime.db.engine.begin() as conn:
            conn.execute(text("UPDATE library_items SET alliance_id = NULL WHERE material_id IS NOT NULL"))

        with pytest.raises(RuntimeError, match="uploaded library documents exist"):
            migrate.downgrade(url, BEFORE)
        runtime.close()
    finally:
        discard_database_url(url)
