"""Agreements for every member of every alliance: the officer sees who has none (founding members
from the arrangement table) and generates them as a job with progress, and each alliance's
lead–pillar agreement."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.responses import Response

from api.web import nav
from api.web.deps import SignedInPage, UserPage
from api.web.routing import web_router
from workflows import jobs
from workflows.agreements import bulk, generation
from workflows.agreements.views import alliance_agreements_out
from workflows.errors import NotFound
from workflows.roles import Role

router = web_router()

nav.register(
    nav.NavItem("agreements-members", "成员协议", "/agreements/alliances", roles=frozenset({Role.OFFICER}), order=22)
)

GENERATION_JOB: dict[str, Any] = {
    "job_title": "生成成员协议",
    "done_label": "已生成协议草稿",
    "links": (("/agreements/alliances", "返回成员协议"), ("/agreements?state=draft", "查看待发出的协议草稿")),
}


@router.get("/agreements/alliances")
def district(page: UserPage) -> Response:
    """Every alliance: how many members have no agreement, and its lead–pillar agreement."""
    overviews = generation.district_agreements(session=page.db, viewer=page.viewer)
    rows = [alliance_agreements_out(o) for o in overviews]
    return page.render(
        "agreements/alliances.html",
        rows=rows,
        missing=sum(r.missing for r in rows) + sum(1 for r in rows if r.lead_pillar_missing),
        may_generate=page.viewer.role == Role.OFFICER,
    )


@router.post("/agreements/alliances/generate")
def generate_all(page: UserPage) -> Response:
    job = generation.start_generation(session=page.db, viewer=page.viewer, alliance_id=None, lead_pillar=True)
    return page.redirect(f"/agreements/jobs/{job.id}", f"已开始生成协议（共 {job.total} 份）")


@router.get("/agreements/alliances/{alliance_id}")
def alliance(alliance_id: uuid.UUID, page: UserPage) -> Response:
    """One alliance's members, each with its agreement's state, and what the officer can do."""
    overview = generation.alliance_agreements(session=page.db, viewer=page.viewer, alliance_id=alliance_id)
    return page.render(
        "agreements/alliance.html",
        o=alliance_agreements_out(overview),
        may_generate=page.viewer.role == Role.OFFICER,
        to_send=bulk.waiting(page.db, alliance_id),
    )


@router.post("/agreements/alliances/{alliance_id}/generate")
def generate_members(alliance_id: uuid.UUID, page: UserPage) -> Response:
    """「为未签协议的成员生成协议」: a job over the members without one; its page follows the progress."""
    job = generation.start_generation(session=page.db, viewer=page.viewer, alliance_id=alliance_id)
    return page.redirect(f"/agreements/jobs/{job.id}", f"已开始为未签协议的成员生成协议（共 {job.total} 份）")


@router.post("/agreements/alliances/{alliance_id}/lead-pillar")
def generate_lead_pillar(alliance_id: uuid.UUID, page: UserPage) -> Response:
    agreement = generation.generate_lead_pillar(
        session=page.db, viewer=page.viewer, settings=page.settings, objects=page.objects, alliance_id=alliance_id
    )
    return page.redirect(
        f"/agreements/{agreement.id}/terms", f"已生成龙头园与支柱园协议 {agreement.number}，请核对后发出签署"
    )


def _job(page: SignedInPage, job_id: uuid.UUID) -> jobs.Job:
    page.viewer.require_role(Role.OFFICER)
    job = jobs.get_visible(session=page.db, viewer=page.viewer, job_id=job_id)
    if job.kind != generation.JOB_KIND:
        raise NotFound("任务不存在")
    return job


@router.get("/agreements/jobs/{job_id}")
def job_page(job_id: uuid.UUID, page: UserPage) -> Response:
    job = _job(page, job_id)
    return page.render(
        "agreements/bulk_job.html", job=jobs.JobOut.of(job), alliance="", progress_url=f"/agreements/jobs/{job.id}/progress",
        **GENERATION_JOB,
    )  # fmt: skip


@router.get("/agreements/jobs/{job_id}/progress")
def job_progress(job_id: uuid.UUID, page: UserPage) -> Response:
    """The polled fragment: awaiting while the job runs, the result once it is finished."""
    job = _job(page, job_id)
    return page.fragment(
        "agreements/_bulk_progress.html", job=jobs.JobOut.of(job), progress_url=f"/agreements/jobs/{job.id}/progress",
        done_label=GENERATION_JOB["done_label"],
    )  # fmt: skip
