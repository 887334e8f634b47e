"""证书 (公开课证书、讲座证书): the lead issues its presenters' certificates of a held activity, the
section countersigns them in a batch (a job with progress), each verifies on /verify."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session
from starlette.responses import Response

from api.web import nav, todo
from api.web.deps import FormDep, UserPage
from api.web.forms import text
from api.web.routing import web_router
from workflows import jobs
from workflows.access import Viewer
from workflows.activities import service as activities
from workflows.certificates import service
from workflows.certificates.documents import KIND_OF_FORMAT
from workflows.certificates.schemas import STATE_LABELS, CertificateOut
from workflows.clock import BEIJING
from workflows.evaluations.records import TOOK_PLACE
from workflows.roles import Role

router = web_router()

nav.register(
    nav.NavItem(
        "certificates", "证书", "/certificates", roles=frozenset({Role.OFFICER, Role.RESEARCHER, Role.LEAD}), order=47
    )
)


def _todo(session: Session, viewer: Viewer) -> list[todo.TodoItem]:
    waiting = service.pending(session)
    if not waiting:
        return []
    return [todo.TodoItem("证书", f"会签证书：{len(waiting)} 张", "/certificates?state=pending",
                          "联盟颁发的公开课、讲座证书待成幼科会签")]  # fmt: skip


todo.register("certificates", _todo, roles={Role.OFFICER}, order=47)


@router.get("/certificates")
def certificate_list(page: UserPage, state: str = "", year: str = "") -> Response:
    viewer = page.viewer
    chosen_year = int(year) if year.isdigit() else None
    rows = service.list_visible(session=page.db, viewer=viewer, year=chosen_year, state=state or None)
    issuable = []
    if viewer.role == Role.LEAD and viewer.alliance_id is not None:
        issuable = [
            a for a in activities.list_visible(session=page.db, viewer=viewer, alliance_id=viewer.alliance_id)
            if a.state in TOOK_PLACE and a.format in KIND_OF_FORMAT
        ]  # fmt: skip
    return page.render(
        "certificates/list.html",
        rows=[CertificateOut.of(c) for c in rows],
        state=state,
        year=year,
        states=list(STATE_LABELS.items()),
        issuable=issuable,
        pending=len(service.pending(page.db)) if viewer.role == Role.OFFICER else 0,
    )


@router.post("/certificates/issue")
def issue(page: UserPage, form: FormDep) -> Response:
    chosen = text(form, "activity_id")
    try:
        activity_id = uuid.UUID(chosen)
    except ValueError:
        return page.redirect("/certificates", "请选择要颁发证书的活动", "error")
    activity = activities.get_visible(session=page.db, viewer=page.viewer, activity_id=activity_id)
    year = activity.starts_at.astimezone(BEIJING).year
    batch = service.issue_batch(session=page.db, viewer=page.viewer, year=year, activity_id=activity.id)
    if not batch.issued:
        return page.redirect(
            "/certificates", f"该活动的证书已颁发（{batch.already_issued} 张），没有新的主讲人", "error"
        )
    return page.redirect("/certificates?state=pending", f"已颁发 {len(batch.issued)} 张证书，等待成幼科会签")


@router.post("/certificates/countersign")
def countersign(page: UserPage, form: FormDep) -> Response:
    job = service.start_countersign(session=page.db, viewer=page.viewer, pdf=text(form, "pdf") == "true")
    return page.redirect(f"/certificates/jobs/{job.id}", f"正在会签 {job.total} 张证书")


@router.get("/certificates/jobs/{job_id}")
def job_page(job_id: uuid.UUID, page: UserPage) -> Response:
    job = jobs.get_visible(session=page.db, viewer=page.viewer, job_id=job_id)
    return page.render(
        "certificates/job.html", job=jobs.JobOut.of(job), progress_url=f"/certificates/jobs/{job.id}/progress"
    )


@router.get("/certificates/jobs/{job_id}/progress")
def job_progress(job_id: uuid.UUID, page: UserPage) -> Response:
    job = jobs.get_visible(session=page.db, viewer=page.viewer, job_id=job_id)
    return page.fragment(
        "certificates/_progress.html", job=jobs.JobOut.of(job), progress_url=f"/certificates/jobs/{job.id}/progress"
    )


@router.get("/certificates/{certificate_id}")
def certificate_page(certificate_id: uuid.UUID, page: UserPage) -> Response:
    certificate = service.get_visible(session=page.db, viewer=page.viewer, certificate_id=certificate_id)
    return page.render("certificates/detail.html", c=CertificateOut.of(certificate), now=datetime.now(BEIJING))
