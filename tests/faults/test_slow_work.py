"""Slow work runs after the transaction: a submit whose 申请表 is still rendering holds no lock that
another kindergarten's submit needs (neither SQLite's one writer slot nor the audit head)."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from api.main import create_app
from tests.faults.applicants import ATTACHMENTS, add_applicants, full_form, login, submitted_application
from tests.fixtures.agreements import drain
from tests.fixtures.server import live_server
from workers.wiring import runner_for
from workflows.applications import documents

pytestmark = pytest.mark.slow


def _draft(http: httpx.Client, headers: dict[str, str], form: dict[str, Any]) -> dict[str, Any]:
    r = http.post("/api/applications", headers=headers, json=form)
    assert r.status_code == 201, r.text
    app = r.json()
    for kind, content, filename in ATTACHMENTS:
        r = http.post(
            f"/api/applications/{app['id']}/attachments", headers=headers, data={"kind": kind},
            files={"file": (filename, content)},
        )  # fmt: skip
        assert r.status_code == 201, r.text
    return http.get(f"/api/applications/{app['id']}", headers=headers).json()


def _submit(base: str, headers: dict[str, str], app: dict[str, Any]) -> httpx.Response:
    with httpx.Client(base_url=base, timeout=120) as http:
        return http.post(
            f"/api/applications/{app['id']}/events/submit", headers=headers, json={"version": app["version"]}
        )


def test_a_submit_whose_form_is_still_rendering_does_not_hold_up_another_kindergartens_submit(
    runtime, world, monkeypatch
):
    first, second = add_applicants(runtime, 2, prefix="slow")
    render = documents.render_docx
    rendering, release = threading.Event(), threading.Event()
    slow_name = full_form(1)["name"]

    def slow_render(template: str, context: dict[str, Any]) -> bytes:
        if context["name"] == slow_name:
            rendering.set()
            assert release.wait(120), "the test never released the slow render"
        return render(template, context)

    monkeypatch.setattr(documents, "render_docx", slow_render)
    with live_server(create_app(runtime=runtime)) as base, httpx.Client(base_url=base, timeout=60) as http:
        a_headers, b_headers = login(http, first), login(http, second)
        a, b = _draft(http, a_headers, full_form(1)), _draft(http, b_headers, full_form(2))
        with ThreadPoolExecutor(2) as pool:
            try:
                a_reply = pool.submit(_submit, base, a_headers, a)
                assert rendering.wait(60), "the first form never started rendering"
                # The first form's render is blocked now; the second kindergarten submits all the same.
                b_reply = pool.submit(_submit, base, b_headers, b).result(timeout=30)
                assert not release.is_set() and a_reply.done()
            finally:
                release.set()
        assert (a_reply.result().status_code, b_reply.status_code) == (200, 200), (a_reply.result().text, b_reply.text)
        # Both answered before either form was stored: each shows 「生成中」 until its render is done.
        for reply in (a_reply.result(), b_reply):
            assert (reply.json()["form_status"], reply.json()["form_status_label"]) == ("generating", "生成中")
        drain(runtime)
        for app, headers in ((a, a_headers), (b, b_headers)):
            done = http.get(f"/api/applications/{app['id']}", headers=headers).json()
            assert (done["state"], done["form_status"]) == ("submitted", "ready")
            [form] = http.get(f"/api/applications/{app['id']}/documents", headers=headers).json()
            assert form["kind"] == "application_form" and form["version_no"] == 1
        chain = http.get("/api/audit/verify", headers=login(http, "officer")).json()
        assert chain["ok"] is True, chain


def test_a_failed_render_leaves_the_form_generating_and_a_redelivery_stores_it_once(
    runtime, world, client, monkeypatch
):
    [name] = add_applicants(runtime, 1, prefix="fail")
    headers = login(client, name)
    render = documents.render_docx

    def broken(template: str, context: dict[str, Any]) -> bytes:
        raise RuntimeError("renderer down")

    monkeypatch.setattr(documents, "render_docx", broken)
    app = submitted_application(client, headers, full_form(3))
    assert app["state"] == "submitted"  # the submit itself never waits for, nor fails with, the render
    drain(runtime)
    runner = runner_for(runtime)
    assert runner is not None and [f.name for f in runner.failures] == [documents.RENDER_TOPIC]
    assert client.get(f"/api/applications/{app['id']}", headers=headers).json()["form_status"] == "generating"
    assert client.get(f"/api/applications/{app['id']}/documents", headers=headers).json() == []

    monkeypatch.setattr(documents, "render_docx", render)
    kwargs = runner.failures[0].kwargs
    runner.failures.clear()
    for _ in range(2):  # the reconciler's resend, then a duplicate delivery: one 申请表, stored once
        runner.submit(documents.RENDER_TOPIC, **kwargs)
        drain(runtime)
    assert runner.failures == []
    assert client.get(f"/api/applications/{app['id']}", headers=headers).json()["form_status"] == "ready"
    [form] = client.get(f"/api/applications/{app['id']}/documents", headers=headers).json()
    assert form["version_no"] == 1
    # A render due for a submission that a later one replaced stores nothing.
    stale = datetime.fromisoformat(kwargs["due"]) - timedelta(days=1)
    assert (
        documents.render_pending_form(
            db=runtime.db, objects=runtime.objects, application_id=uuid.UUID(app["id"]), actor_id="x", due=stale
        )
        is None
    )
    assert len(client.get(f"/api/applications/{app['id']}/documents", headers=headers).json()) == 1


def test_a_move_while_the_form_renders_does_not_make_it_render_again(runtime, world, client, monkeypatch):
    """开始审核 while the 申请表 of the submission renders changes nothing the file shows: the file of the
    first render is stored (a busy officer does not make the render start over)."""
    [name] = add_applicants(runtime, 1, prefix="moved")
    headers, officer = login(client, name), login(client, "officer")
    render = documents.render_docx
    renders: list[str] = []
    reviewed: list[dict[str, Any]] = []
    drafted: list[str] = []

    def render_while_the_officer_starts_review(template: str, context: dict[str, Any]) -> bytes:
        renders.append(context["version_no"])
        if not reviewed:
            app = client.get(f"/api/applications/{drafted[0]}", headers=officer).json()
            r = client.post(f"/api/applications/{app['id']}/events/start_review", headers=officer,
                            json={"version": app["version"]})  # fmt: skip
            assert r.status_code == 200, r.text
            reviewed.append(r.json())
        return render(template, context)

    monkeypatch.setattr(documents, "render_docx", render_while_the_officer_starts_review)
    app = _draft(client, headers, full_form(4))
    drafted.append(app["id"])
    r = client.post(f"/api/applications/{app['id']}/events/submit", headers=headers, json={"version": app["version"]})
    assert r.status_code == 200, r.text
    drain(runtime)
    runner = runner_for(runtime)
    assert runner is not None and runner.failures == []
    assert [r["state"] for r in reviewed] == ["under_review"]
    assert renders == ["1"]  # once, though the row moved on while the file rendered
    assert client.get(f"/api/applications/{app['id']}", headers=officer).json()["form_status"] == "ready"
    [form] = client.get(f"/api/applications/{app['id']}/documents", headers=headers).json()
    assert form["version_no"] == 1
