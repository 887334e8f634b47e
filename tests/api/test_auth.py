"""Sign-in, tokens and throttling through the HTTP API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import argon2
import jwt
import pytest
from sqlalchemy import select

from tests.fixtures.app import PASSWORD
from workflows.accounts.models import LoginFailure, User
from workflows.accounts.tokens import issue_token


def test_unauthenticated_calls_get_401(client, world):
    for path in ["/api/me", "/api/kindergartens", "/api/alliances", f"/api/kindergartens/{world.kid('A-M1')}"]:
        r = client.get(path)
        assert r.status_code == 401, path
        assert r.json()["code"] == "not_authenticated"
        assert r.headers["www-authenticate"] == "Bearer"


def test_login_and_me(client, world, login):
    me = client.get("/api/me", headers=login("kg-a1")).json()
    assert me["username"] == "kg-a1"
    assert me["role"] == "applicant"
    assert me["kindergarten_id"] == world.kid("A-M1")
    assert me["alliance_id"] == str(world.alliances["A"].id)


def test_bad_password_and_unknown_user_get_the_same_generic_401(client, world):
    wrong = client.post("/api/auth/token", data={"username": "kg-a1", "password": "nope"})
    unknown = client.post("/api/auth/token", data={"username": "nobody", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"code": "bad_credentials", "message": "用户名或密码错误"}


def test_login_is_throttled_per_account(client, world, settings):
    for _ in range(settings.login_max_failures_per_account):
        assert client.post("/api/auth/token", data={"username": "kg-a2", "password": "x"}).status_code == 401
    # Even the right password is refused while the account is throttled.
    r = client.post("/api/auth/token", data={"username": "kg-a2", "password": PASSWORD})
    assert r.status_code == 429
    assert r.json()["code"] == "too_many_attempts"
    # Other accounts are unaffected (per-address limit not yet reached).
    assert client.post("/api/auth/token", data={"username": "kg-b1", "password": PASSWORD}).status_code == 200


def _backdate_failures(runtime, seconds: float) -> None:
    with runtime.db.session() as s:
        for failure in s.scalars(select(LoginFailure)):
            failure.at -= timedelta(seconds=seconds)


def test_failures_past_the_free_ones_wait_a_growing_delay_that_is_capped(client, world, settings, runtime):
    def attempt(password: str = "x"):
        return client.post("/api/auth/token", data={"username": "kg-a2", "password": password})

    for _ in range(settings.login_max_failures_per_account):
        attempt()
    first = attempt(PASSWORD)
    assert first.status_code == 429 and 1 <= int(first.headers["retry-after"]) <= 2
    assert "秒后再试" in first.json()["message"]
    _backdate_failures(runtime, 2.5)
    assert attempt().status_code == 401  # the wait is over: one more guess, and the next wait doubles
    assert 3 <= int(attempt(PASSWORD).headers["retry-after"]) <= 4
    # However many failures someone provokes, the owner waits no more than a minute.
    for _ in range(8):
        _backdate_failures(runtime, 61)
        assert attempt().status_code == 401
    assert int(attempt(PASSWORD).headers["retry-after"]) <= 60
    _backdate_failures(runtime, 61)
    assert attempt(PASSWORD).status_code == 200


def test_unknown_disabled_and_wrong_password_sign_ins_do_the_same_work(client, world, runtime, monkeypatch):
    with runtime.db.session() as s:
        s.get(User, world.users["kg-out"].id).is_active = False
    checks: list[str] = []
    verify = argon2.PasswordHasher.verify

    def counting(self, hash, password):  # type: ignore[no-untyped-def]
        checks.append(hash)
        return verify(self, hash, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", counting)
    for username in ("nobody-at-all", "kg-out", "kg-b1"):
        checks.clear()
        r = client.post("/api/auth/token", data={"username": username, "password": "wrong-password-1"})
        assert r.status_code == 401 and len(checks) == 1, username


def test_login_is_throttled_per_address(client, world, settings):
    for i in range(settings.login_max_failures_per_address):
        client.post("/api/auth/token", data={"username": f"spray{i}", "password": "x"})
    r = client.post("/api/auth/token", data={"username": "kg-b1", "password": PASSWORD})
    assert r.status_code == 429


@pytest.mark.parametrize(
    "case", ["alg_none", "wrong_key", "expired", "wrong_audience", "wrong_issuer", "garbage", "no_session_version"]
)
def test_bad_tokens_are_refused(client, world, settings, case):
    user_id = world.users["officer"].id
    now = datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "sv": 0,
        "iss": settings.token_issuer,
        "aud": settings.token_audience,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
    }
    key = settings.secret_key.get_secret_value()
    if case == "alg_none":
        token = jwt.encode(claims, None, algorithm="none")
    elif case == "wrong_key":
        token = jwt.encode(claims, "another-secret-key-that-is-long-enough-123", algorithm="HS256")
    elif case == "expired":
        token = issue_token(settings, user_id=user_id, role="officer", now=now - timedelta(hours=2))
    elif case == "wrong_audience":
        token = jwt.encode({**claims, "aud": "someone-else"}, key, algorithm="HS256")
    elif case == "wrong_issuer":
        token = jwt.encode({**claims, "iss": "someone-else"}, key, algorithm="HS256")
    elif case == "no_session_version":  # a token from before session versions, or one made up
        token = jwt.encode({k: v for k, v in claims.items() if k != "sv"}, key, algorithm="HS256")
    else:
        token = "not.a.token"
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    # The same claims signed properly work, so the refusals above are about the defect alone.
    good = jwt.encode(claims, key, algorithm="HS256")
    assert client.get("/api/me", headers={"Authorization": f"Bearer {good}"}).status_code == 200


def test_disabled_account_token_stops_working(client, world, login, runtime):
    headers = login("kg-b1")
    assert client.get("/api/me", headers=headers).status_code == 200
    with runtime.db.session() as s:
        user = s.get(type(world.users["kg-b1"]), world.users["kg-b1"].id)
        user.is_active = False
    assert client.get("/api/me", headers=headers).status_code == 401


def test_passwords_are_argon2id(world):
    assert world.users["officer"].password_hash.startswith("$argon2id$")
