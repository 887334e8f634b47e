"""Every response carries the security headers, whoever answers it: pages, API JSON and its errors, the
public news page and feed, the API docs (whose Swagger UI comes from our own static files), a 413."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from api.main import create_app

ALWAYS = {"x-content-type-options": "nosniff", "referrer-policy": "same-origin", "x-frame-options": "DENY"}


def assert_secured(r, path: str) -> str:
    for name, value in ALWAYS.items():
        assert r.headers.get(name) == value, (path, name, r.headers.get(name))
    csp = r.headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp, (path, csp)
    assert "unsafe-eval" not in csp and "script-src *" not in csp, (path, csp)
    return csp


@pytest.mark.parametrize(
    "path", ["/login", "/api/health", "/api/me", "/api/no-such-thing", "/api/openapi.json", "/news",
             "/news/feed.atom", "/api/docs", "/static/app.css"],
)  # fmt: skip
def test_every_kind_of_response_carries_the_headers(client, world, path):
    r = client.get(path)
    assert r.status_code < 500
    csp = assert_secured(r, path)
    if not r.headers["content-type"].startswith("text/html"):
        assert "default-src 'none'" in csp
    elif path == "/news":
        assert "script-src" not in csp and "default-src 'none'" in csp  # the public page runs no script
    assert "strict-transport-security" not in r.headers  # plain http here


def test_signed_in_json_and_refusals_too(client, world, login):
    assert_secured(client.get("/api/kindergartens", headers=login("officer")), "/api/kindergartens")
    r = client.post("/api/applications", headers=login("kg-out"), content=b"x" * (30 * 1024 * 1024))
    assert r.status_code == 413
    assert_secured(r, "413")


def test_the_api_docs_load_swagger_ui_from_this_site(client, world):
    page = client.get("/api/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/static/") for s in sources), sources
    assert "<script>" not in page.text.replace("<script src", "")  # no inline script
    for source in sources:
        assert client.get(source).status_code == 200, source
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_hsts_over_https(runtime, world):
    with TestClient(create_app(runtime=runtime), base_url="https://testserver") as secure:
        for path in ("/login", "/api/health", "/news/feed.atom"):
            assert secure.get(path).headers["strict-transport-security"].startswith("max-age="), path
