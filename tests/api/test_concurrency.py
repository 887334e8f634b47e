"""Real concurrent requests against a real server: one transition wins, the other gets 409."""

from __future__ import annotations

import threading

import httpx

from api.main import create_app
from tests.api.test_applications import FORM
from tests.fixtures.app import PASSWORD
from tests.fixtures.files import jpeg_bytes, pdf_bytes, png_bytes
from tests.fixtures.server import live_server, token


def _submitted_application(base: str, applicant: dict[str, str], officer: dict[str, str]) -> dict:
    app = httpx.post(f"{base}/api/applications", headers=applicant, json=FORM).json()
    for kind, content in (("licence", pdf_bytes()), ("inspection", png_bytes()), ("safety_pledge", jpeg_bytes())):
        r = httpx.post(
            f"{base}/api/applications/{app['id']}/attachments",
            headers=applicant,
            data={"kind": kind},
            files={"file": (f"{kind}.bin", content)},
        )
        assert r.status_code == 201, r.text
    app = httpx.get(f"{base}/api/applications/{app['id']}", headers=applicant).json()
    app = httpx.post(
        f"{base}/api/applications/{app['id']}/events/submit", headers=applicant, json={"version": app["version"]}
    ).json()
    return httpx.post(
        f"{base}/api/applications/{app['id']}/events/start_review", headers=officer, json={"version": app["version"]}
    ).json()


def test_two_officers_approving_at_once_exactly_one_wins(runtime, world):
    with live_server(create_app(runtime=runtime)) as base:
        applicant = token(base, "kg-out", PASSWORD)
        officer = token(base, "officer", PASSWORD)
        app = _submitted_application(base, applicant, officer)
        barrier = threading.Barrier(2)
        results: list[httpx.Response] = []

        def approve(alliance: str) -> None:
            with httpx.Client(timeout=60) as c:
                barrier.wait()
                results.append(
                    c.post(
                        f"{base}/api/applications/{app['id']}/events/approve",
                        headers=officer,
                        json={"version": app["version"], "alliance_id": alliance},
                    )
                )

        threads = [threading.Thread(target=approve, args=(str(world.alliances[a].id),)) for a in ("A", "B")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(r.status_code for r in results)
        assert codes == [200, 409], [r.text for r in results]
        loser = next(r for r in results if r.status_code == 409)
        assert loser.json()["code"] == "stale_version"
        final = httpx.get(f"{base}/api/applications/{app['id']}", headers=officer).json()
        winner = next(r for r in results if r.status_code == 200).json()
        assert final["state"] == "approved"
        assert final["approved_alliance_id"] == winner["approved_alliance_id"]
        history = httpx.get(f"{base}/api/applications/{app['id']}/history", headers=officer).json()
        assert [h["event"] for h in history].count("approve") == 1
