"""The public verifier's rate limit: per client address, in the database (every process shares it), and
X-Forwarded-For believed only from the proxies configured in KINDERFLOW_TRUSTED_PROXIES."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select

from api.client_address import resolve, trusted_networks
from api.main import create_app
from api.rate_limit import VERIFY_LIMIT
from storage.db import Database
from storage.runtime import build_runtime
from storage.settings import Settings
from tests.fixtures.app import make_settings
from workflows import rate_limits


def test_counters_are_shared_by_every_process_and_slide(db: Database) -> None:
    other_process = Database(db.url)  # another engine on the same database, as another API process has
    start = datetime(2026, 10, 15, 9, 0, 0, tzinfo=UTC)
    try:
        for n in range(VERIFY_LIMIT):
            engine = db if n % 2 else other_process
            with engine.session() as s:
                assert rate_limits.hit(
                    session=s, key="verify:203.0.113.7", limit=VERIFY_LIMIT, window_seconds=60, now=start
                )
        with other_process.session() as s:
            assert not rate_limits.hit(
                session=s, key="verify:203.0.113.7", limit=VERIFY_LIMIT, window_seconds=60, now=start
            )
        with db.session() as s:  # another address has its own allowance
            assert rate_limits.hit(
                session=s, key="verify:203.0.113.8", limit=VERIFY_LIMIT, window_seconds=60, now=start
            )
        # Just past the window's end the previous window still weighs in: no double allowance at a boundary.
        with db.session() as s:
            assert not rate_limits.hit(
                session=s,
                key="verify:203.0.113.7",
                limit=VERIFY_LIMIT,
                window_seconds=60,
                now=start + timedelta(seconds=61),
            )
        # A quiet minute later the address may verify again, and the old windows are gone.
        with db.session() as s:
            assert rate_limits.hit(
                session=s,
                key="verify:203.0.113.7",
                limit=VERIFY_LIMIT,
                window_seconds=60,
                now=start + timedelta(minutes=3),
            )
            rows = s.scalars(select(rate_limits.RateLimitHit)).all()
            assert {r.window for r in rows} == {int((start + timedelta(minutes=3)).timestamp()) // 60}
    finally:
        other_process.dispose()


def test_x_forwarded_for_counts_only_from_trusted_proxies() -> None:
    none, proxy = trusted_networks(""), trusted_networks("10.0.0.0/8, 192.0.2.1")
    # No proxy configured: the peer is the client, whatever the header says.
    assert resolve("127.0.0.1", ["198.51.100.9"], none) == "127.0.0.1"
    # From a trusted proxy: the first address, from the right, that no trusted proxy vouches for.
    assert resolve("10.1.2.3", ["198.51.100.9"], proxy) == "198.51.100.9"
    assert resolve("10.1.2.3", ["203.0.113.66, 198.51.100.9, 10.9.9.9"], proxy) == "198.51.100.9"
    assert resolve("10.1.2.3", ["203.0.113.66", "198.51.100.9, 192.0.2.1"], proxy) == "198.51.100.9"
    # An untrusted peer cannot smuggle an address in, and a garbled chain stops at the last known proxy.
    assert resolve("198.51.100.9", ["10.1.2.3"], proxy) == "198.51.100.9"
    assert resolve("10.1.2.3", ["not-an-address"], proxy) == "10.1.2.3"
    assert resolve("10.1.2.3", ["[2001:db8::1]:443"], proxy) == "2001:db8::1"
    assert resolve(None, [], proxy) == "unknown"


def test_trusted_proxies_and_public_url_are_checked_when_read(tmp_path) -> None:
    with pytest.raises(ValidationError, match="KINDERFLOW_TRUSTED_PROXIES"):
        Settings(demo=True, var_dir=tmp_path, trusted_proxies="10.0.0.0/8, proxy.example")
    with pytest.raises(ValidationError, match="KINDERFLOW_PUBLIC_URL"):
        Settings(demo=True, var_dir=tmp_path, public_url="kinderflow.example.cn")
    unset = Settings(demo=True, var_dir=tmp_path)
    assert (
        unset.base_url == "http://127.0.0.1:8000" and "KINDERFLOW_PUBLIC_URL is not set" in unset.public_url_warning()
    )
    given = Settings(demo=True, var_dir=tmp_path, public_url="https://kinderflow.example.cn/")
    assert given.base_url == "https://kinderflow.example.cn" and given.public_url_warning() is None


@pytest.mark.parametrize("trusted", ["", "127.0.0.1"])
def test_the_api_counts_per_client_and_believes_only_trusted_proxies(db: Database, tmp_path, trusted: str) -> None:
    runtime = build_runtime(make_settings(db.url, tmp_path, trusted_proxies=trusted))
    try:
        with TestClient(create_app(runtime=runtime), client=("127.0.0.1", 40000)) as client:
            statuses = [
                client.get("/api/verify/AAAA-BBBB-CCCC", headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code
                for n in range(VERIFY_LIMIT + 5)
            ]
            if trusted:  # behind the configured proxy every forwarded address is a client of its own
                assert set(statuses) == {200}
            else:  # nobody configured: forged headers change nothing, the 31st is refused
                assert statuses[:VERIFY_LIMIT] == [200] * VERIFY_LIMIT and set(statuses[VERIFY_LIMIT:]) == {429}
                refused = client.get("/api/verify/AAAA-BBBB-CCCC").json()
                assert refused == {"code": "rate_limited", "message": "核验请求过于频繁，请一分钟后再试"}
                upload = client.post("/api/verify", files={"file": ("a.pdf", b"%PDF-1.4", "application/pdf")})
                assert upload.status_code == 429
                assert "核验请求过于频繁" in client.get("/verify", params={"code": "AAAA-BBBB-CCCC"}).text
    finally:
        runtime.close()
