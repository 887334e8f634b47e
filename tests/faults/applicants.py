"""Many private kindergartens with an applicant account each, and applications driven over HTTP."""

from __future__ import annotations

from typing import Any

import httpx

from storage.runtime import Runtime
from tests.fixtures.app import PASSWORD
from tests.fixtures.files import jpeg_bytes, pdf_bytes, png_bytes
from workflows.accounts.service import create_user
from workflows.registry.credit_code import make_credit_code
from workflows.registry.models import Category, Kindergarten
from workflows.roles import Role

ATTACHMENTS = (("licence", pdf_bytes(), "licence.pdf"), ("inspection", png_bytes(), "inspection.png"),
               ("safety_pledge", jpeg_bytes(), "pledge.jpg"))  # fmt: skip


def add_applicants(runtime: Runtime, count: int, *, prefix: str = "load") -> list[str]:
    """Create ``count`` private kindergartens outside any alliance, each with an applicant account."""
    names = []
    with runtime.db.session() as session:
        for n in range(count):
            username = f"{prefix}{n:03d}"
            kindergarten = Kindergarten(
                code=f"{prefix.upper()}-{n:03d}",
                name=f"{prefix}{n:03d} 测试幼儿园",
                category=Category.PRIVATE,
                town="罗家镇",
                credit_code=make_credit_code(f"52360111M{n + 10_000_000:08d}"),
                head_phone="13800001111",
            )
            session.add(kindergarten)
            session.flush()
            create_user(
                session=session,
                settings=runtime.settings,
                username=username,
                password=PASSWORD,
                role=Role.APPLICANT,
                display_name=username,
                kindergarten_id=kindergarten.id,
            )
            names.append(username)
    return names


def full_form(n: int, **overrides: Any) -> dict[str, Any]:
    """A complete application form for the ``n``-th kindergarten."""
    form: dict[str, Any] = {
        "name": f"第{n}测试幼儿园",
        "credit_code": make_credit_code(f"52360111M{n + 10_000_000:08d}"),
        "licence_no": f"教民3601110{n:05d}",
        "licence_issued_on": "2019-03-01",
        "sponsor": "南昌市某教育咨询有限公司",
        "legal_representative": "张三",
        "head_name": "李园长",
        "head_phone": "13800009999",
        "contact_name": "王老师",
        "contact_phone": "0791-88886666",
        "address": f"罗家镇民强路 {n} 号",
        "town": "罗家镇",
        "ownership": "nonprofit",
        "inclusive": True,
        "classes": 6,
        "children": 180,
        "staff": 30,
        "teachers": 14,
        "certified_teachers": 12,
        "site_area_m2": 2400.5,
        "building_area_m2": 1800,
        "last_inspection_year": 2025,
        "last_inspection_result": "passed",
        "penalties_last_3_years": 0,
        "safety_incidents_last_3_years": 0,
        "reasons": "希望加入联盟，提升保教质量。",
        "needs": ["课程", "游戏"],
        "commitments_accepted": True,
    }
    form.update(overrides)
    return form


def login(http: httpx.Client, username: str, password: str = PASSWORD) -> dict[str, str]:
    r = http.post("/api/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def submitted_application(http: httpx.Client, headers: dict[str, str], form: dict[str, Any]) -> dict[str, Any]:
    """Create an application, upload the three required scans and submit it; returns it submitted."""
    r = http.post("/api/applications", headers=headers, json=form)
    assert r.status_code == 201, r.text
    app = r.json()
    for kind, content, filename in ATTACHMENTS:
        r = http.post(
            f"/api/applications/{app['id']}/attachments",
            headers=headers,
            data={"kind": kind},
            files={"file": (filename, content)},
        )
        assert r.status_code == 201, r.text
    app = http.get(f"/api/applications/{app['id']}", headers=headers).json()
    r = http.post(f"/api/applications/{app['id']}/events/submit", headers=headers, json={"version": app["version"]})
    assert r.status_code == 200, r.text
    return r.json()


def fire(http: httpx.Client, headers: dict[str, str], app: dict[str, Any], event: str, **body: Any) -> httpx.Response:
    return http.post(
        f"/api/applications/{app['id']}/events/{event}", headers=headers, json={"version": app["version"], **body}
    )
