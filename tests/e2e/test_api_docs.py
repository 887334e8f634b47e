"""The API documentation runs in Chromium under its Content-Security-Policy, from our own files only."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

from tests.e2e.conftest import LiveServer, Person


def test_swagger_ui_lists_the_operations_without_a_policy_violation(
    person: Callable[[], Person], live_server: LiveServer
) -> None:
    reader = person()
    requested: list[str] = []
    reader.page.on("request", lambda request: requested.append(request.url))
    page = reader.open("/api/docs")
    expect(page.locator(".opblock").first).to_be_visible(timeout=60_000)  # a big schema on a busy machine
    expect(page.locator(".opblock-summary-path", has_text="/api/auth/token").first).to_be_visible()
    assert requested and all(url.startswith(live_server.url) or url.startswith("data:") for url in requested), requested
    # Console errors (a refused script or style among them) fail the test when the person is checked.


def test_the_public_news_page_renders_under_its_policy(person: Callable[[], Person], live_server: LiveServer) -> None:
    reader = person()
    page = reader.open("/news")
    expect(page.locator("h1")).to_be_visible()
