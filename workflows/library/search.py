"""Full-text search of the library: SQLite FTS5 in embedded mode, PostgreSQL text search in full mode.

Both index the same thing, ``library_items.search_tokens`` (jieba's words, space-joined), and are
asked the same thing, every word of the query (AND), so the two modes find the same items:
- SQLite: ``library_fts MATCH '"科学" "探究"'`` (unicode61 splits on the spaces), ranked by bm25;
- PostgreSQL: ``to_tsvector('simple', search_tokens) @@ plainto_tsquery('simple', '科学 探究')``,
  served by the GIN expression index, ranked by ts_rank.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, func, literal_column, select, text
from sqlalchemy.orm import Session, selectinload

from workflows.library.models import FTS_TABLE, LibraryItem
from workflows.library.segmentation import query_words

SIMPLE: ColumnElement[str] = literal_column("'simple'::regconfig")


@dataclass(frozen=True)
class Filters:
    domain: str | None = None
    age_group: str | None = None
    format: str | None = None
    category: str | None = None
    alliance_id: uuid.UUID | None = None
    year: int | None = None


def fts5_query(words: list[str]) -> str:
    """An FTS5 query matching every word: each quoted as a string, quotes doubled."""
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)


def _filtered(filters: Filters) -> Select[LibraryItem]:
    stmt = select(LibraryItem).where(LibraryItem.removed_at.is_(None))
    for column, value in (
        (LibraryItem.domain, filters.domain),
        (LibraryItem.age_group, filters.age_group),
        (LibraryItem.format, filters.format),
        (LibraryItem.category, filters.category),
        (LibraryItem.alliance_id, filters.alliance_id),
        (LibraryItem.year, filters.year),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    return stmt


def _matching(
    session: Session, stmt: Select[LibraryItem], words: list[str]
) -> tuple[Select[LibraryItem], ColumnElement[object]]:
    """``stmt`` narrowed to items matching every word, and the ordering by relevance."""
    if session.get_bind().dialect.name == "postgresql":
        vector = func.to_tsvector(SIMPLE, LibraryItem.search_tokens)
        query = func.plainto_tsquery(SIMPLE, " ".join(words))
        return stmt.where(vector.op("@@")(query)), func.ts_rank(vector, query).desc()
    hits = (
        select(literal_column("item_id").label("item_id"), literal_column("rank").label("rank"))
        .select_from(text(FTS_TABLE))
        .where(text(f"{FTS_TABLE} MATCH :fts_query").bindparams(fts_query=fts5_query(words)))
        .subquery("hits")
    )
    # bm25 ranks are negative, better ones lower.
    return stmt.join(hits, hits.c.item_id == LibraryItem.id), hits.c.rank.asc()


@dataclass(frozen=True)
class SearchResult:
    words: list[str]
    total: int
    items: list[LibraryItem]


def search(
    *, session: Session, query: str = "", filters: Filters = Filters(), limit: int = 50, offset: int = 0
) -> SearchResult:
    """Items matching every word of ``query`` (all items when it is empty) and the filters."""
    stmt = _filtered(filters)
    words = query_words(query) if query.strip() else []
    if query.strip() and not words:
        return SearchResult(words, 0, [])  # only punctuation: nothing can match
    order: list[ColumnElement[object]] = []
    if words:
        stmt, relevance = _matching(session, stmt, words)
        order.append(relevance)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    stmt = stmt.options(selectinload(LibraryItem.activity), selectinload(LibraryItem.alliance)).order_by(
        *order, LibraryItem.promoted_at.desc(), LibraryItem.id
    )
    return SearchResult(words, total, list(session.scalars(stmt.limit(limit).offset(offset))))
