"""The research resource library (课题研究资源库): promoted materials and publication recommendations.

Full-text search is dialect-specific and lives outside these models (migration 0009):
- SQLite: the FTS5 table ``library_fts(item_id UNINDEXED, tokens)``, kept in step with
  ``library_items.search_tokens`` by triggers;
- PostgreSQL: the GIN index ``ix_library_items_search`` on ``to_tsvector('simple', search_tokens)``.
Both are named in ``UNMANAGED_SCHEMA_NAMES`` so that autogenerate leaves them alone.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.db import Base, UUIDPrimaryKey, utcnow
from workflows.activities.models import Activity, Material
from workflows.objects_index import object_key_column
from workflows.registry.models import Alliance

FTS_TABLE = "library_fts"
PG_SEARCH_INDEX = "ix_library_items_search"
UNMANAGED_SCHEMA_NAMES = frozenset(
    {
        FTS_TABLE,
        *(f"{FTS_TABLE}_{shadow}" for shadow in ("data", "idx", "content", "docsize", "config")),
        PG_SEARCH_INDEX,
    }
)
Base.metadata.info.setdefault("unmanaged_names", set()).update(UNMANAGED_SCHEMA_NAMES)


class LibraryItem(UUIDPrimaryKey, Base):
    """A library document: either a material of an archived activity, promoted with tags (the file is
    not copied), or a document uploaded on its own (管理制度, 课程), with no activity and, when it is
    meant for the whole district, no alliance. ``promoted_by`` is whoever put it in (the uploader)."""

    __tablename__ = "library_items"
    __table_args__ = (
        Index("ix_library_items_filters", "domain", "year"),
        Index("ix_library_items_alliance", "alliance_id"),
        # A promoted material always comes with its activity and alliance; an uploaded document has neither
        # material nor activity.
        CheckConstraint(
            "(material_id IS NULL AND activity_id IS NULL)"
            " OR (material_id IS NOT NULL AND activity_id IS NOT NULL AND alliance_id IS NOT NULL)",
            name="origin",
        ),
    )

    material_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("activity_materials.id", ondelete="RESTRICT"), unique=True
    )
    activity_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("activities.id", ondelete="RESTRICT"), index=True)
    alliance_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("alliances.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(200))
    # An activity material's category (lesson_case …) or an uploaded document's kind (policy, curriculum).
    category: Mapped[str] = mapped_column(String(16))
    domain: Mapped[str | None] = mapped_column(String(8))
    age_group: Mapped[str | None] = mapped_column(String(4))
    format: Mapped[str | None] = mapped_column(String(8))
    year: Mapped[int]
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The archived material's object, referenced as it is (archived objects are never overwritten), or
    # the uploaded document's own object.
    object_key: Mapped[str] = object_key_column(200)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    excerpt: Mapped[str] = mapped_column(Text, default="")
    # False until the file's text is read, and for good when it cannot be (PDF, a broken .docx): the
    # item is then found by title and tags only.
    text_indexed: Mapped[bool] = mapped_column(default=False)
    # Reading the text (workflows.library.text): pending (处理中) → ready | failed; none for a PDF.
    text_state: Mapped[str] = mapped_column(String(16), default="none", server_default="none")
    text_problem: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # The text as read, kept so that retagging indexes it again without reading the file again.
    body_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    # jieba's search-mode words of title, tags and text, space-joined: what both databases index.
    search_tokens: Mapped[str] = mapped_column(Text, default="")
    promoted_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    promoter_name: Mapped[str] = mapped_column(String(100), default="")
    promoted_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    removed_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    activity: Mapped[Activity | None] = relationship()
    material: Mapped[Material | None] = relationship()
    alliance: Mapped[Alliance | None] = relationship()

    @property
    def uploaded(self) -> bool:
        """A document added on its own, not promoted from an activity."""
        return self.material_id is None

    __mapper_args__ = {"version_id_col": version}


class Recommendation(UUIDPrimaryKey, Base):
    """A library item recommended for publication (推荐发表) in a journal."""

    __tablename__ = "library_recommendations"
    __table_args__ = (
        # One recommendation of an item at a time; a declined one may be followed by another.
        Index(
            "uq_library_recommendations_item",
            "item_id",
            unique=True,
            sqlite_where=text("state != 'declined'"),
            postgresql_where=text("state != 'declined'"),
        ),
        Index("ix_library_recommendations_state", "state"),
    )

    number: Mapped[str] = mapped_column(String(20), unique=True)
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("library_items.id", ondelete="RESTRICT"))
    journal: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="recommended")
    version: Mapped[int] = mapped_column(default=1)
    last_comment: Mapped[str] = mapped_column(Text, default="")
    recommended_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    recommender_name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    shortlisted_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]

    item: Mapped[LibraryItem] = relationship()

    __mapper_args__ = {"version_id_col": version}
