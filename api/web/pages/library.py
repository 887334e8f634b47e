"""资源库 on pages: search (Chinese full text, filters, highlighted hits with a preview), one item with
its file, and the curators' work: putting archived activity materials into the library, retagging,
taking an item out. Every kindergarten in an alliance reads; the lead (its alliance's items), the
teaching-research office and the section curate. Recommendations are in ``library_recommendations``."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup, escape
from pydantic import ValidationError
from starlette.responses import Response

from api.routes.files import stream_object
from api.web import nav
from api.web.deps import FormDep, SignedInPage, UserPage
from api.web.forms import FieldErrors, domain_errors, pydantic_errors, text
from api.web.routing import web_router
from workflows import clock
from workflows.activities.vocabulary import CATEGORY_LABELS, DOMAINS, FORMATS
from workflows.errors import ValidationFailed
from workflows.library import recommendations, service, uploads
from workflows.library.machine import DEFAULT_JOURNALS, RECOMMENDATION_WORKFLOW, RECOMMENDERS
from workflows.library.models import LibraryItem
from workflows.library.schemas import AGE_GROUPS, KIND_LABELS, ItemUpdate, PromoteBody
from workflows.library.search import Filters, search
from workflows.library.views import item_out
from workflows.registry import service as registry
from workflows.roles import Role

router = web_router()

READERS = frozenset({Role.LEAD, Role.PILLAR, Role.OFFICER, Role.RESEARCHER, Role.ADMIN})
nav.register(
    nav.NavItem("library", "资源库", "/library", roles=READERS, alliance_roles=frozenset({Role.APPLICANT}), order=45)
)

PAGE_SIZE = 20
SNIPPET_BEFORE, SNIPPET_AFTER = 40, 120
KIND_CHOICES = list(KIND_LABELS.items())  # the promoted materials' categories, then 管理制度 and 课程
KEYWORD_SPLIT = re.compile(r"[,，、;；\s]+")


def highlight(value: str, words: list[str]) -> Markup:
    """``value`` escaped, every occurrence of a search word marked."""
    escaped = str(escape(value))
    wanted = sorted({str(escape(w)) for w in words if w.strip()}, key=len, reverse=True)
    if not wanted:
        return Markup(escaped)  # noqa: S704 - escaped above
    pattern = re.compile("|".join(re.escape(w) for w in wanted), re.IGNORECASE)
    return Markup(pattern.sub(lambda m: f"<mark>{m.group(0)}</mark>", escaped))  # noqa: S704 - escaped above


def snippet(body: str, words: list[str], fallback: str) -> str:
    """The text around the first hit in the item's text, else its opening lines."""
    flat = " ".join(body.split())
    hits = [i for w in words if (i := flat.find(w)) >= 0]
    if not hits:
        return fallback
    start = max(0, min(hits) - SNIPPET_BEFORE)
    return ("…" if start else "") + flat[start : start + SNIPPET_BEFORE + SNIPPET_AFTER] + "…"


@dataclass(frozen=True)
class SearchForm:
    q: str = ""
    domain: str = ""
    category: str = ""
    age_group: str = ""
    format: str = ""
    alliance: str = ""
    year: str = ""


def _filters(form: SearchForm) -> tuple[Filters, FieldErrors]:
    errors: FieldErrors = {}
    if len(form.q) > 100:
        errors["q"] = "检索词不超过 100 个字"
    checks = (
        ("domain", form.domain, DOMAINS, "请选择领域"),
        ("category", form.category, [v for v, _ in KIND_CHOICES], "请选择资源类别"),
        ("age_group", form.age_group, AGE_GROUPS, "请选择年龄段"),
        ("format", form.format, FORMATS, "请选择活动形式"),
    )
    for name, value, allowed, message in checks:
        if value and value not in allowed:
            errors[name] = message
    alliance_id = year = None
    if form.alliance:
        try:
            alliance_id = uuid.UUID(form.alliance)
        except ValueError:
            errors["alliance"] = "请从列表中选择联盟"
    if form.year:
        if not form.year.isdigit() or not 2000 <= int(form.year) <= 2100:
            errors["year"] = "年份应为四位数字，如 2026"
        else:
            year = int(form.year)
    if errors:
        return Filters(), errors
    return (
        Filters(
            domain=form.domain or None,
            category=form.category or None,
            age_group=form.age_group or None,
            format=form.format or None,
            alliance_id=alliance_id,
            year=year,
        ),
        {},
    )


def _years() -> list[int]:
    this_year = clock.today().year
    return list(range(this_year, 2019, -1))


@router.get("/library")
def search_page(
    page: UserPage,
    q: str = "",
    domain: str = "",
    category: str = "",
    age_group: str = "",
    format: str = "",
    alliance: str = "",
    year: str = "",
    offset: int = 0,
) -> Response:
    service.require_reader(page.viewer)
    form = SearchForm(q.strip(), domain, category, age_group, format, alliance, year.strip())
    filters, errors = _filters(form)
    offset = max(0, offset)
    found = None if errors else search(session=page.db, query=form.q, filters=filters, limit=PAGE_SIZE, offset=offset)
    words = found.words if found else []
    results = [
        {"item": item_out(i), "preview": highlight(snippet(i.body_text or "", words, i.excerpt), words)}
        for i in (found.items if found else [])
    ]
    query = {k: v for k, v in form.__dict__.items() if v}
    return page.render(
        "library/search.html",
        form=form,
        errors=errors,
        words=words,
        total=found.total if found else 0,
        results=results,
        highlight=highlight,
        offset=offset,
        page_size=PAGE_SIZE,
        more=f"/library?{urlencode({**query, 'offset': offset + PAGE_SIZE})}",
        less=f"/library?{urlencode({**query, 'offset': max(0, offset - PAGE_SIZE)})}",
        domains=[(d, d) for d in DOMAINS],
        kinds=KIND_CHOICES,
        age_groups=[(a, a) for a in AGE_GROUPS],
        formats=[(f, f) for f in FORMATS],
        alliances=[(str(a.id), a.name) for a in registry.list_alliances(session=page.db)],
        years=_years(),
        may_promote=page.viewer.role in service.CURATORS | {Role.LEAD},
        may_add=uploads.may_add(page.viewer),
    )


# --- promotion --------------------------------------------------------------------------------------


def _keywords(value: str) -> list[str]:
    return [k for k in KEYWORD_SPLIT.split(value) if k]


def _tag_fields(form: FormDep) -> dict[str, Any]:
    fields: dict[str, Any] = {"keywords": _keywords(text(form, "keywords"))}
    for name in ("title", "domain", "age_group"):
        if value := text(form, name):
            fields[name] = value
    return fields


def _promote_page(
    page: SignedInPage,
    *,
    errors: dict[str, FieldErrors] | None = None,
    entered: dict[str, dict[str, str]] | None = None,
) -> Response:
    candidates = service.promotable(session=page.db, viewer=page.viewer)
    shown = {str(m.id) for _, m in candidates}
    # A material no longer offered (taken meanwhile, or never promotable): its message goes on top.
    problems = [m for key, found in (errors or {}).items() if key not in shown for m in found.values()]
    return page.render(
        "library/promote.html",
        candidates=candidates,
        problems=problems,
        category_labels={c.value: label for c, label in CATEGORY_LABELS.items()},
        domains=DOMAINS,
        age_groups=AGE_GROUPS,
        errors=errors or {},
        entered=entered or {},
    )


@router.get("/library/promote")
def promote_page(page: UserPage) -> Response:
    service.require_reader(page.viewer)
    return _promote_page(page)


@router.post("/library/promote")
def promote(page: UserPage, form: FormDep) -> Response:
    material = text(form, "material_id")
    entered = {material: {k: text(form, k) for k in ("title", "domain", "age_group", "keywords")}}
    try:
        body = PromoteBody.model_validate({"material_id": material, **_tag_fields(form)})
    except ValidationError as exc:
        return _promote_page(page, errors={material: pydantic_errors(exc)}, entered=entered)
    try:
        item = service.promote(session=page.db, viewer=page.viewer, body=body)
    except ValidationFailed as exc:
        page.db.rollback()
        return _promote_page(page, errors={material: domain_errors(exc)}, entered=entered)
    return page.redirect(f"/library/{item.id}", f"「{item.title}」已收入资源库，正文读取后即可全文检索")


# --- one item ---------------------------------------------------------------------------------------


def item_page(
    page: SignedInPage,
    item: LibraryItem,
    *,
    tag_errors: FieldErrors | None = None,
    recommend_errors: FieldErrors | None = None,
    entered: dict[str, str] | None = None,
) -> Response:
    viewer = page.viewer
    curate = service.may_curate(viewer, item.alliance_id)
    found = [r for r in recommendations.list_visible(session=page.db, viewer=viewer) if r.item_id == item.id]
    return page.render(
        "library/item.html",
        i=item_out(item),
        held_on=item.activity.starts_at if item.activity is not None else None,
        may_curate=curate,
        may_recommend=curate and viewer.role in RECOMMENDERS,
        default_journal=DEFAULT_JOURNALS.get(item.category, ""),
        recommendations=found,
        state_label=RECOMMENDATION_WORKFLOW.label,
        domains=DOMAINS,
        age_groups=AGE_GROUPS,
        tag_errors=tag_errors or {},
        recommend_errors=recommend_errors or {},
        entered=entered or {},
    )


@router.get("/library/{item_id}")
def item_detail(item_id: uuid.UUID, page: UserPage) -> Response:
    return item_page(page, service.get_visible(session=page.db, viewer=page.viewer, item_id=item_id))


@router.get("/library/{item_id}/content")
def item_content(item_id: uuid.UUID, page: UserPage) -> Response:
    item = service.get_visible(session=page.db, viewer=page.viewer, item_id=item_id)
    return stream_object(page.objects, item.object_key, filename=item.filename, content_type=item.content_type)


@router.post("/library/{item_id}/tags")
def retag(item_id: uuid.UUID, page: UserPage, form: FormDep) -> Response:
    entered = {k: text(form, k) for k in ("title", "domain", "age_group", "keywords")}
    try:
        body = ItemUpdate.model_validate({"version": text(form, "version") or "0", **_tag_fields(form)})
    except ValidationError as exc:
        item = service.get_visible(session=page.db, viewer=page.viewer, item_id=item_id)
        return item_page(page, item, tag_errors=pydantic_errors(exc), entered=entered)
    item = service.update_tags(session=page.db, viewer=page.viewer, item_id=item_id, body=body)
    return page.redirect(f"/library/{item.id}", "标签已保存")


@router.post("/library/{item_id}/remove")
def remove(item_id: uuid.UUID, page: UserPage, form: FormDep) -> Response:
    version = text(form, "version")
    item = service.remove(
        session=page.db, viewer=page.viewer, item_id=item_id, version=int(version) if version.isdigit() else 0
    )
    kept = "（活动档案中的原件不受影响）" if item.activity_id else ""
    return page.redirect("/library", f"「{item.title}」已移出资源库{kept}")
