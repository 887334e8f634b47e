"""Accounts through the API: the administrator's search, creation, deactivation and password reset,
the forced first password change, and one's own password."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.fixtures.app import PASSWORD
from workflows import audit
from workflows.accounts.models import User

NEW_PASSWORD = "my-own-secret-9"


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


def token(client, username: str, password: str) -> dict[str, str]:
    r = client.post("/api/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def events_of(runtime, username: str) -> list[str]:
    with runtime.db.session() as s:
        user = s.scalar(select(User).where(User.username == username))
        return [e.event for e in audit.history(s, entity_type="user", entity_id=user.id)]


def create(client, login, **body):
    return client.post("/api/users", headers=login("admin"), json={"display_name": "新账号", **body})


def test_kindergarten_accounts_get_the_role_their_kindergarten_suggests(client, login, world, runtime):
    for username, code, role in [
        ("lead-a-2", "A-LEAD", "lead"),
        ("pillar-a-2", "A-PIL", "pillar"),
        ("member-a-2", "A-M2", "applicant"),
        ("outside-2", "C-OUT", "applicant"),
    ]:
        r = create(client, login, username=username, kindergarten_id=world.kid(code))
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["user"]["role"] == role and body["user"]["kindergarten_name"] == world.kindergartens[code].name
        assert body["user"]["must_change_password"] is True and body["user"]["section"] is None
        generated = body["temporary_password"]
        assert generated and len(generated) >= 12
        # The generated password works, once, for signing in; then only the change is allowed.
        me = client.get("/api/me", headers=token(client, username, generated)).json()
        assert me["role"] == role and me["must_change_password"] is True
    assert events_of(runtime, "lead-a-2") == ["created"]
    # The suggestion can be overridden with another kindergarten role, and a typed password is kept.
    r = create(client, login, username="lead-as-member", kindergarten_id=world.kid("A-LEAD"), role="applicant",
               password="typed-temp-pass-1")  # fmt: skip
    assert r.status_code == 201 and r.json()["user"]["role"] == "applicant" and r.json()["temporary_password"] is None
    token(client, "lead-as-member", "typed-temp-pass-1")


def test_bureau_posts_get_their_section(client, login, world):
    r = create(client, login, username="researcher-2", role="researcher")
    assert r.status_code == 201, r.text
    assert (r.json()["user"]["section"], r.json()["user"]["section_name"]) == ("jiaoyan", "教研室")
    r = create(client, login, username="officer-2", role="officer", section="chengyou")
    assert r.json()["user"]["section_name"] == "成幼科"
    r = create(client, login, username="admin-2", role="admin")
    assert r.json()["user"]["section_name"] == "信息中心" and r.json()["user"]["role_label"] == "系统管理员"
    # The section row is created once, then reused.
    r = create(client, login, username="officer-3", role="officer")
    assert r.json()["user"]["section"] == "chengyou"


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"username": "x-1", "role": "applicant"}, "kindergarten_id", "required"),
        ({"username": "x-1", "role": "officer", "kindergarten_id": "KG"}, "role", "not_a_kindergarten_role"),
        ({"username": "x-1", "role": "researcher", "section": "nowhere"}, "section", "unknown_section"),
        ({"username": "x-1"}, "role", "required"),
        ({"username": "X", "role": "officer"}, "username", "invalid_username"),
        ({"username": "x-1", "role": "officer", "password": "1234567890"}, "password", "weak_password"),
        ({"username": "x-1", "role": "officer", "display_name": " "}, "display_name", "required"),
    ],
)
def test_bad_accounts_are_refused_naming_the_field(client, login, world, runtime, body, field, code):
    if body.get("kindergarten_id") == "KG":
        body = body | {"kindergarten_id": world.kid("A-M1")}
    r = create(client, login, **body)
    assert r.status_code == 422, r.text
    assert {(e["field"], e["code"]) for e in r.json()["errors"]} >= {(field, code)}
    assert all(e["message"] for e in r.json()["errors"])
    with runtime.db.session() as s:
        assert s.scalar(select(User).where(User.username == body["username"])) is None


def test_a_taken_username_is_a_conflict(client, login, world):
    r = create(client, login, username="kg-a1", role="officer")
    assert r.status_code == 409 and r.json()["code"] == "username_taken"


def test_until_the_password_is_changed_only_me_and_the_change_answer(client, login, world, runtime):
    temporary = create(client, login, username="officer-new", role="officer").json()["temporary_password"]
    h = token(client, "officer-new", temporary)
    for method, path in [("get", "/api/applications"), ("get", "/api/me/signing-key"), ("get", "/api/agreements")]:
        r = client.request(method, path, headers=h)
        assert r.status_code == 403 and r.json()["code"] == "password_change_required", path
        assert "修改" in r.json()["message"]
    r = client.post(
        "/api/me/password", headers=h, json={"current_password": "wrong-one-123", "new_password": NEW_PASSWORD}
    )
    assert r.status_code == 403 and r.json()["code"] == "wrong_password"
    for weak, why in [("short", "至少 10 位"), ("1234567890123", "全是数字"), ("officer-new-1", "用户名"),
                      (temporary, "相同")]:  # fmt: skip
        r = client.post("/api/me/password", headers=h, json={"current_password": temporary, "new_password": weak})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "new_password", weak
        assert why in r.json()["errors"][0]["message"]
    r = client.post("/api/me/password", headers=h, json={"current_password": temporary, "new_password": NEW_PASSWORD})
    assert r.status_code == 200 and r.json()["must_change_password"] is False
    assert client.get("/api/applications", headers=h).status_code == 401  # every earlier token has ended
    assert client.get("/api/applications", headers=bearer(r.json()["access_token"])).status_code == 200
    assert client.post("/api/auth/token", data={"username": "officer-new", "password": temporary}).status_code == 401
    token(client, "officer-new", NEW_PASSWORD)
    assert events_of(runtime, "officer-new") == ["created", "password_changed"]


def test_a_user_changes_their_own_password(client, login, world):
    h = login("kg-a1")
    r = client.post("/api/me/password", headers=h, json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert r.status_code == 200
    assert client.get("/api/me", headers=h).status_code == 401
    assert client.get("/api/me", headers=bearer(r.json()["access_token"])).json()["must_change_password"] is False
    token(client, "kg-a1", NEW_PASSWORD)


def test_an_admin_password_reset_ends_the_old_bearer_token(client, login, world):
    h = login("kg-out")
    target = world.users["kg-out"].id
    r = client.post(f"/api/users/{target}/password-reset", headers=login("admin"), json={})
    assert r.status_code == 200, r.text
    assert client.get("/api/me", headers=h).status_code == 401
    # Reactivating an account does not revive the tokens it had before it was disabled.
    h = token(client, "kg-out", r.json()["temporary_password"])
    assert client.post(f"/api/users/{target}/deactivate", headers=login("admin")).status_code == 200
    assert client.post(f"/api/users/{target}/reactivate", headers=login("admin")).status_code == 200
    assert client.get("/api/me", headers=h).status_code == 401


def test_signing_out_ends_every_token_of_the_user(client, login, world):
    first, second = token(client, "kg-a1", PASSWORD), token(client, "kg-a1", PASSWORD)
    assert client.post("/api/auth/logout", headers=first).status_code == 204
    assert client.get("/api/me", headers=first).status_code == 401
    assert client.get("/api/me", headers=second).status_code == 401
    assert client.get("/api/me", headers=token(client, "kg-a1", PASSWORD)).status_code == 200


def test_deactivated_accounts_cannot_sign_in_and_their_tokens_stop(client, login, world, runtime):
    h = login("kg-out")
    target = world.users["kg-out"].id
    r = client.post(f"/api/users/{target}/deactivate", headers=login("admin"))
    assert r.status_code == 200 and r.json()["is_active"] is False
    assert client.post("/api/auth/token", data={"username": "kg-out", "password": PASSWORD}).status_code == 401
    assert client.get("/api/me", headers=h).status_code == 401
    r = client.post(f"/api/users/{target}/reactivate", headers=login("admin"))
    assert r.status_code == 200 and r.json()["is_active"] is True
    token(client, "kg-out", PASSWORD)
    own = client.post(f"/api/users/{world.users['admin'].id}/deactivate", headers=login("admin"))
    assert own.status_code == 422 and own.json()["errors"][0]["code"] == "own_account"
    assert events_of(runtime, "kg-out") == ["created", "deactivated", "activated"]


def test_a_reset_password_must_be_changed(client, login, world, runtime):
    target = world.users["kg-b1"].id
    weak = client.post(f"/api/users/{target}/password-reset", headers=login("admin"), json={"password": "short"})
    assert weak.status_code == 422 and weak.json()["errors"][0]["field"] == "password"
    r = client.post(f"/api/users/{target}/password-reset", headers=login("admin"), json={})
    assert r.status_code == 200 and r.json()["user"]["must_change_password"] is True
    temporary = r.json()["temporary_password"]
    assert client.post("/api/auth/token", data={"username": "kg-b1", "password": PASSWORD}).status_code == 401
    h = token(client, "kg-b1", temporary)
    assert client.get("/api/applications", headers=h).json()["code"] == "password_change_required"
    typed = client.post(
        f"/api/users/{target}/password-reset", headers=login("admin"), json={"password": "typed-by-admin-7"}
    )
    assert typed.status_code == 200 and typed.json()["temporary_password"] is None
    token(client, "kg-b1", "typed-by-admin-7")
    with runtime.db.session() as s:
        resets = [e for e in audit.history(s, entity_type="user", entity_id=target) if e.event == "password_reset"]
        assert [e.data["generated"] for e in resets] == [True, False]
        assert all(e.actor_role == "admin" and temporary not in str(e.data) for e in resets)


def test_search_filters_and_pages(client, login, world):
    admin = login("admin")

    def usernames(**params):
        r = client.get("/api/users", headers=admin, params=params)
        assert r.status_code == 200, r.text
        return [u["username"] for u in r.json()["items"]]

    assert usernames(q="kg-a") == ["kg-a1", "kg-a2"]
    assert usernames(q="KG-A") == ["kg-a1", "kg-a2"]  # case does not matter
    assert usernames(q="园外") == ["kg-out"]  # the kindergarten's name
    assert usernames(q="%") == [] and usernames(q="_") == []  # wildcards are literal
    assert usernames(role="lead") == ["lead-a", "lead-b"]
    assert usernames(kindergarten_id=world.kid("A-PIL")) == ["pillar-a"]
    create(client, login, username="researcher-2", role="researcher")
    assert usernames(section="jiaoyan") == ["researcher-2"]
    client.post(f"/api/users/{world.users['kg-a2'].id}/deactivate", headers=admin)
    assert usernames(active=False) == ["kg-a2"]
    assert "kg-a2" not in usernames(active=True)
    assert usernames(q="kg", active=True, role="applicant") == ["kg-a1", "kg-b1", "kg-out"]
    page = client.get("/api/users", headers=admin, params={"limit": 4, "offset": 4}).json()
    everyone = usernames(limit=100)
    assert page["total"] == len(everyone) == 11 and [u["username"] for u in page["items"]] == everyone[4:8]
    assert page["items"][0]["role_label"] and "password_hash" not in page["items"][0]
    for bad in ({"limit": 0}, {"limit": 101}, {"offset": -1}, {"offset": 10**20}, {"role": "boss"}):
        r = client.get("/api/users", headers=admin, params=bad)
        assert r.status_code == 422, bad


@pytest.mark.parametrize("username", ["officer", "researcher", "lead-a", "kg-a1"])
def test_only_the_administrator_manages_accounts(client, login, world, username):
    h = login(username)
    target = world.users["kg-out"].id
    assert client.get("/api/users", headers=h).status_code == 404
    assert client.get(f"/api/users/{target}", headers=h).status_code == 404
    assert (
        client.post("/api/users", headers=h, json={"username": "x-y", "display_name": "x", "role": "admin"}).status_code
        == 404
    )
    assert client.post(f"/api/users/{target}/deactivate", headers=h).status_code == 404
    assert client.post(f"/api/users/{target}/password-reset", headers=h, json={}).status_code == 404
    token(client, "kg-out", PASSWORD)


def test_the_routes_are_documented(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in ["/api/users", "/api/users/{user_id}", "/api/users/{user_id}/deactivate", "/api/users/{user_id}/reactivate",
                 "/api/users/{user_id}/password-reset", "/api/users/{user_id}/signing-key/revoke", "/api/me/password",
                 "/api/signing-keys"]:  # fmt: skip
        assert path in paths, path
