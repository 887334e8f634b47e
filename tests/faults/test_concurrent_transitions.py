"""Real concurrency against a real server: one transition wins, the rest get 409; fifty applicants
submitting at once all end up submitted, each exactly once."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select

from api.main import create_app
from tests.faults.applicants import ATTACHMENTS, add_applicants, full_form, login, submitted_application
from tests.fixtures.server import live_server
from workflows.applications.models import Application
from workflows.audit import AuditEntry
from workflows.documents.models import Document

pytestmark = pytest.mark.slow
SAME_EVENT = 20
APPLICANTS = 50


def test_the_same_submit_fired_twenty_times_at_once_succeeds_once(runtime, world):
    with live_server(create_app(runtime=runtime)) as base, httpx.Client(base_url=base, timeout=60) as http:
        applicant = login(http, "kg-out")
        app = http.post("/api/applications", headers=applicant, json=full_form(7)).json()
        for kind, content, filename in ATTACHMENTS:
            r = http.post(
                f"/api/applications/{app['id']}/attachments",
                headers=applicant,
                data={"kind": kind},
                files={"file": (filename, content)},
            )
            assert r.status_code == 201
        app = http.get(f"/api/applications/{app['id']}", headers=applicant).json()
        barrier = threading.Barrier(SAME_EVENT)

        def submit(_: int) -> httpx.Response:
            with httpx.Client(base_url=base, timeout=60) as own:
                barrier.wait(timeout=30)
                return own.post(
                    f"/api/applications/{app['id']}/events/submit",
                    headers=applicant,
                    json={"version": app["version"]},
                )

        with ThreadPoolExecutor(SAME_EVENT) as pool:
            replies = list(pool.map(submit, range(SAME_EVENT)))
        assert Counter(r.status_code for r in replies) == {200: 1, 409: SAME_EVENT - 1}, [r.text for r in replies]
        assert {r.json()["code"] for r in replies if r.status_code == 409} <= {
            "stale_version",
            "transition_not_allowed",
        }
        history = http.get(f"/api/applications/{app['id']}/history", headers=applicant).json()
        assert [h["event"] for h in history].count("submit") == 1
    with runtime.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Document)) == 1


def test_fifty_applicants_submitting_at_once_all_submit_exactly_once(runtime, world):
    applicants = add_applicants(runtime, APPLICANTS)
    with live_server(create_app(runtime=runtime)) as base:
        barrier = threading.Barrier(APPLICANTS)

        def apply(n: int) -> dict:
            with httpx.Client(base_url=base, timeout=120) as http:
                headers = login(http, applicants[n])
                barrier.wait(timeout=60)
                return submitted_application(http, headers, full_form(n))

        with ThreadPoolExecutor(APPLICANTS) as pool:
            submitted = list(pool.map(apply, range(APPLICANTS)))
        with httpx.Client(base_url=base, timeout=60) as http:
            chain = http.get("/api/audit/verify", headers=login(http, "officer")).json()
        assert chain["ok"] is True, chain
    assert [a["state"] for a in submitted] == ["submitted"] * APPLICANTS
    assert len({a["number"] for a in submitted}) == APPLICANTS
    with runtime.db.session() as session:
        states = Counter(session.scalars(select(Application.state)))
        forms = session.scalar(
            select(func.count(func.distinct(Document.owner_id))).where(Document.kind == "application_form")
        )
        submits = session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.event == "submit"))
    assert states == {"submitted": APPLICANTS}
    assert (forms, submits) == (APPLICANTS, APPLICANTS)
