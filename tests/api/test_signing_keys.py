"""Signing keys through the API: enrolling and changing need the password; every wrong current PIN is
audited and counts against the same lockout as signing; the officer revokes a key."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.fixtures.agreements import PIN, fire
from tests.fixtures.app import PASSWORD
from workflows import audit
from workflows.agreements.models import SigningKey

NEW_PIN = "24681357"


def enrol(client, h, **body):
    return client.post("/api/me/signing-key", headers=h, json=body)


def refused_pins(runtime, user_id) -> list[audit.AuditEntry]:
    with runtime.db.session() as s:
        stmt = select(audit.AuditEntry).where(
            audit.AuditEntry.event == "pin_refused", audit.AuditEntry.actor_id == str(user_id)
        )
        return list(s.scalars(stmt))


def test_enrolling_needs_the_password_and_a_pin_of_six_to_twelve_digits(client, login, world, runtime):
    h = login("kg-b1")
    missing = enrol(client, h, pin=PIN)
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "password"
    wrong = enrol(client, h, pin=PIN, password="not-my-password")
    assert wrong.status_code == 403 and wrong.json()["code"] == "wrong_password"
    for pin in ("13579", "1357924680135"):
        r = enrol(client, h, pin=pin, password=PASSWORD)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "pin", pin
    assert client.get("/api/me/signing-key", headers=h).status_code == 404
    long = enrol(client, h, pin="135792468024", password=PASSWORD)
    assert long.status_code == 201, long.text
    with runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(SigningKey)) == 1
    # A wrong password counts as a failed sign-in: the account's login throttle applies.
    for _ in range(4):
        enrol(client, h, pin=NEW_PIN, current_pin="135792468024", password="still-not-it")
    r = enrol(client, h, pin=NEW_PIN, current_pin="135792468024", password=PASSWORD)
    assert r.status_code == 429


def test_a_wrong_current_pin_is_audited_and_locks_key_changes_and_signing(
    client, login, draft_agreement, runtime, world
):
    member = login("kg-a1")  # holds a key under PIN (signing_world)
    user_id = world.users["kg-a1"].id
    change = {"pin": NEW_PIN, "password": PASSWORD}
    # A wrong PIN when signing and wrong current PINs when changing the key add up to one count.
    a = fire(client, login("officer"), draft_agreement, "send").json()
    assert fire(client, member, a, "sign", pin="999999").json()["code"] == "wrong_pin"
    for guess in ("000001", "000002", "000003", "000004"):
        r = enrol(client, member, current_pin=guess, **change)
        assert r.status_code == 403 and r.json()["code"] == "wrong_pin", r.text
    entries = refused_pins(runtime, user_id)
    assert len(entries) == 5
    assert sorted(e.entity_type for e in entries) == ["agreement", "user", "user", "user", "user"]
    assert {e.data["purpose"] for e in entries} == {"sign", "change_key"}
    # Locked: the right PIN is refused for both, and nothing is audited as a PIN check any more.
    for _ in range(15):
        r = enrol(client, member, current_pin=PIN, **change)
        assert r.status_code == 429 and r.json()["code"] == "too_many_pin_failures"
    assert fire(client, member, a, "sign", pin=PIN).status_code == 429
    assert len(refused_pins(runtime, user_id)) == 5
    with runtime.db.session() as s:
        keys = list(s.scalars(select(SigningKey).where(SigningKey.user_id == user_id)))
        assert len(keys) == 1 and keys[0].revoked_at is None
    # Another signer is not affected.
    lead = login("lead-a")
    assert enrol(client, lead, current_pin=PIN, **change).status_code == 201


def test_a_pin_change_with_the_right_pin_reseals_under_a_new_key(client, login, signing_world, runtime):
    h = login("pillar-a")
    before = client.get("/api/me/signing-key", headers=h).json()
    assert enrol(client, h, pin=NEW_PIN, password=PASSWORD).json()["code"] == "signing_key_exists"
    wrong_password = enrol(client, h, pin=NEW_PIN, current_pin=PIN, password="nope-nope-nope")
    assert wrong_password.status_code == 403 and wrong_password.json()["code"] == "wrong_password"
    r = enrol(client, h, pin=NEW_PIN, current_pin=PIN, password=PASSWORD)
    assert r.status_code == 201 and r.json()["sha256"] != before["sha256"]
    assert client.get("/api/me/signing-key", headers=h).json()["sha256"] == r.json()["sha256"]
    assert enrol(client, h, pin="97531864", current_pin=PIN, password=PASSWORD).json()["code"] == "wrong_pin"


def test_the_officer_revokes_a_key_and_the_user_enrols_again(client, login, signing_world, runtime):
    officer, lead = login("officer"), login("lead-a")
    target = signing_world.users["lead-a"].id
    listed = client.get("/api/signing-keys", headers=officer).json()
    assert {k["user"]["username"] for k in listed} == {"kg-a1", "lead-a", "pillar-a", "officer"}
    assert [k["user"]["username"] for k in client.get("/api/signing-keys?q=lead", headers=officer).json()] == ["lead-a"]
    for other in ("lead-a", "kg-a1", "researcher"):
        assert client.get("/api/signing-keys", headers=login(other)).status_code == 404
        assert client.post(f"/api/users/{target}/signing-key/revoke", headers=login(other)).status_code == 404
    r = client.post(f"/api/users/{target}/signing-key/revoke", headers=officer)
    assert r.status_code == 200, r.text
    assert client.get("/api/me/signing-key", headers=lead).status_code == 404
    again = client.post(f"/api/users/{target}/signing-key/revoke", headers=officer)
    assert again.status_code == 409 and again.json()["code"] == "no_signing_key"
    # Enrolling again needs no old PIN (there is no key), only the password.
    assert enrol(client, lead, pin=NEW_PIN, password=PASSWORD).status_code == 201
    with runtime.db.session() as s:
        [entry] = [
            e for e in audit.history(s, entity_type="user", entity_id=target) if e.event == "signing_key_revoked"
        ]
        assert entry.actor_role == "officer" and entry.data["username"] == "lead-a"
    assert client.post(f"/api/users/{target}/signing-key/revoke", headers=login("admin")).status_code == 200


def test_a_signers_address_shows_in_the_history_only_to_the_signer_and_the_admin(client, login, draft_agreement):
    a = fire(client, login("officer"), draft_agreement, "send").json()
    signed = fire(client, login("kg-a1"), a, "sign", pin=PIN)
    assert signed.status_code == 200, signed.text

    def sign_entry(who: str) -> dict:
        history = client.get(f"/api/agreements/{a['id']}/history", headers=login(who)).json()
        [entry] = [e for e in history if e["event"] == "sign"]
        return entry["data"]

    assert sign_entry("kg-a1")["address"] == "testclient"
    assert sign_entry("admin")["address"] == "testclient"
    for other in ("lead-a", "pillar-a", "officer"):
        data = sign_entry(other)
        assert "address" not in data and data["party"] == "member", other
