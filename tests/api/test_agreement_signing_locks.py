"""A signature makes its slow part (the PIN's key, the CMS signature, the stamped PDF, storing them)
before it writes: meanwhile it holds no writer's slot, so another user's change does not wait for
it; and an agreement that moved on meanwhile refuses the signature (409) rather than forking."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from tests.fixtures.agreements import PIN, SIGNERS, fire
from workflows.agreements import signing


@contextmanager
def _signature_under_way(
    client, login, draft_agreement, monkeypatch
) -> Iterator[tuple[dict[str, Any], Future, ThreadPoolExecutor]]:
    """Send the agreement, start the member's signature in a thread and hold it inside its CMS signature;
    yield (the sent agreement, the signature's future, the pool for more requests). Leaving releases it."""
    officer, member = login("officer"), login(SIGNERS["member"])
    sent = fire(client, officer, draft_agreement, "send").json()
    started, release = threading.Event(), threading.Event()
    sign_detached = signing.cms.sign_detached

    def slow(content: bytes, **kwargs: Any) -> bytes:
        started.set()
        assert release.wait(60), "the test never released the signature"
        return sign_detached(content, **kwargs)

    monkeypatch.setattr(signing.cms, "sign_detached", slow)
    with ThreadPoolExecutor(2) as pool:
        signature = pool.submit(fire, client, member, sent, "sign", pin=PIN)
        try:
            assert started.wait(60)
            yield sent, signature, pool
        finally:
            release.set()


def test_another_users_change_does_not_wait_for_a_signature_being_made(client, login, draft_agreement, monkeypatch):
    other = login("kg-b1")
    with _signature_under_way(client, login, draft_agreement, monkeypatch) as (_, signature, _pool):
        # A write of someone else's (signing out everywhere bumps the account's row) while the
        # signature is being made: it needs a writer's slot, and gets one.
        assert client.post("/api/auth/logout", headers=other).status_code == 204
        assert not signature.done()
    r = signature.result(timeout=60)
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["awaiting"]) == ("signing", ["lead"])


def test_a_signature_and_a_void_at_once_never_both_succeed(client, login, runtime, draft_agreement, monkeypatch):
    """The officer voids the agreement while the member's signature is being made. On SQLite the void
    does not wait (the signature holds no writer's slot yet) and the signature, finding the agreement
    moved on, is refused; on PostgreSQL the void waits for the agreement's row, which the signature
    holds, and is refused in its turn. Never both, never a signature on a voided agreement."""
    officer = login("officer")
    with _signature_under_way(client, login, draft_agreement, monkeypatch) as (sent, signature, pool):
        void = pool.submit(fire, client, officer, sent, "void", reason="条款需重新协商")
        if runtime.db.engine.dialect.name == "sqlite":
            assert void.result(timeout=60).status_code == 200  # answered while the signature waits
    signed, voided = signature.result(timeout=60), void.result(timeout=60)
    after = client.get(f"/api/agreements/{sent['id']}", headers=officer).json()
    if runtime.db.engine.dialect.name == "sqlite":
        assert (signed.status_code, voided.status_code) == (409, 200), signed.text
        assert signed.json()["code"] == "stale_version"
        assert after["state"] == "voided" and after["signatures"] == []
    else:
        assert (signed.status_code, voided.status_code) == (200, 409), voided.text
        assert after["state"] == "signing" and [s["party"] for s in after["signatures"]] == ["member"]
