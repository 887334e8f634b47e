"""Pages through TestClient: one cookie jar per person, signed in through the login page."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.fixtures.agreements import drain
from tests.fixtures.app import PASSWORD
from tests.fixtures.files import pdf_bytes, png_bytes
from workflows.registry.credit_code import make_credit_code

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

# A complete application form as the page posts it (every value a string, as browsers send them).
FORM = {
    "name": "C-OUT 园外幼儿园",
    "credit_code": make_credit_code("52360111M00000099"),
    "licence_no": "教民360111000099",
    "licence_issued_on": "2019-03-01",
    "sponsor": "南昌市某教育咨询有限公司",
    "legal_representative": "张三",
    "head_name": "李园长",
    "head_phone": "13800009999",
    "contact_name": "王老师",
    "contact_phone": "0791-88886666",
    "address": "罗家镇民强路 8 号",
    "town": "湖坊镇",
    "ownership": "nonprofit",
    "inclusive": "true",
    "classes": "6",
    "children": "180",
    "staff": "30",
    "teachers": "14",
    "certified_teachers": "12",
    "site_area_m2": "2400.5",
    "building_area_m2": "1800",
    "last_inspection_year": "2025",
    "last_inspection_result": "passed",
    "penalties_last_3_years": "0",
    "safety_incidents_last_3_years": "0",
    "reasons": "希望加入联盟，提升保教质量。",
    "commitments_accepted": "true",
}


class Browser:
    """A person at a browser: their own cookies, and the CSRF token of their session."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.csrf = ""

    def get(self, url: str, **kwargs):
        r = self.client.get(url, **kwargs)
        found = CSRF.search(r.text) if r.headers.get("content-type", "").startswith("text/html") else None
        if found:
            self.csrf = found.group(1)
        return r

    def post(self, url: str, data: dict | None = None, *, htmx: bool = False, **kwargs):
        if not self.csrf:
            self.get("/login")
        headers = kwargs.pop("headers", {})
        if htmx:
            headers = {"HX-Request": "true", "X-CSRF-Token": self.csrf, **headers}
        body = {"csrf_token": self.csrf, **(data or {})} if not htmx else (data or {})
        return self.client.post(url, data=body, headers=headers, follow_redirects=False, **kwargs)

    def follow(self, response):
        """Where a 303 answer sends the browser, opened as the browser would (its one-time message shown)."""
        assert response.status_code == 303, (response.status_code, response.text[:500])
        return self.get(response.headers["location"], follow_redirects=False)

    def login(self, username: str, password: str = PASSWORD):
        self.get("/login")
        r = self.post("/login", {"username": username, "password": password, "next": "/"})
        self.get("/")
        return r


@pytest.fixture
def browser(client: TestClient) -> Callable[..., Browser]:
    """``browser("kg-out")``: a new cookie jar on the app under test, signed in as that account."""

    def _open(username: str | None = None) -> Browser:
        b = Browser(TestClient(client.app))
        if username:
            r = b.login(username)
            assert r.status_code == 303, r.text
        return b

    return _open


def app_id_from(location: str) -> str:
    return location.split("/")[2]


def upload(b, app_id, kind, content, filename):
    return b.post(
        f"/applications/{app_id}/attachments",
        {"kind": kind},
        htmx=True,
        files={"file": (filename, content, "application/octet-stream")},
    )


def full_form(world) -> dict:
    return {**FORM, "needs": ["课程", "游戏"], "preferred_alliance_id": str(world.alliances["A"].id)}


@pytest.fixture
def draft(browser, world):
    b = browser("kg-out")
    r = b.post("/applications/new", full_form(world))
    assert r.status_code == 303, r.text
    return b, app_id_from(r.headers["location"])


@pytest.fixture
def submitted(draft, world, runtime):
    b, app_id = draft
    for kind, content, name in [
        ("licence", pdf_bytes(), "许可证.pdf"),
        ("inspection", png_bytes(), "年检.png"),
        ("safety_pledge", pdf_bytes("pledge"), "承诺书.pdf"),
    ]:
        assert upload(b, app_id, kind, content, name).status_code == 200
    version = re.search(r'name="version" value="(\d+)"', b.get(f"/applications/{app_id}/edit").text).group(1)
    r = b.post(f"/applications/{app_id}/edit", {**full_form(world), "version": version, "action": "submit"})
    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"/applications/{app_id}"
    drain(runtime)  # the 申请表 renders after the commit
    return b, app_id
