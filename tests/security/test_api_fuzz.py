"""Schemathesis over the OpenAPI schema: no operation answers 5xx to anything its schema admits, signed
in as each role (each reaches other code: its own records, its refusals), and every operation but a few
public ones refuses an unauthenticated caller with 401.

``KINDERFLOW_FUZZ_EXAMPLES`` sets the examples per operation and role (default 2); generation is
derandomised, so a run is repeatable and a failure reproduces. Measured on the 2-core development
machine: about 165 operations x 6 roles at 2 examples run in 6.5 minutes (0.4 s a case); at 100 examples
a case takes 2-3 s (the 422 writing cases of all six roles in 15 minutes, 78 GET cases in 4), so the
whole matrix is a run of about 45 minutes, to start by hand or nightly (``KINDERFLOW_FUZZ_EXAMPLES=100 pytest tests/security/test_api_fuzz.py``),
not one for every CI run."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from sqlalchemy import select

from api.main import create_app
from storage import migrate
from storage.runtime import Runtime, build_runtime
from tests.fixtures.app import PASSWORD, build_world, make_settings
from workflows.accounts.models import User
from workflows.accounts.tokens import issue_token

pytestmark = pytest.mark.slow
EXAMPLES = int(os.environ.get("KINDERFLOW_FUZZ_EXAMPLES") or 2)
ROLES = ("officer", "researcher", "admin", "lead-a", "pillar-a", "kg-a1")
# Operations anyone may call, each for a reason.
PUBLIC = {
    ("GET", "/api/health"): "load balancers and compose health checks",
    ("POST", "/api/auth/token"): "signing in",
    ("GET", "/api/ca.pem"): "the certificate that verifies signatures is public",
    ("GET", "/api/verify/{code}"): "anyone holding a document may verify it (DESIGN §7)",
    ("POST", "/api/verify"): "anyone holding a document may verify it (DESIGN §7)",
}


# Built at import: schemathesis reads the schema when the module is collected (its fixture loader
# does not work with this pytest). Nothing touches the database until fuzz_world has migrated it.
_FOLDER = Path(tempfile.mkdtemp(prefix="kf-fuzz-"))
_RUNTIME = build_runtime(make_settings(f"sqlite:///{(_FOLDER / 'fuzz.db').as_posix()}", _FOLDER))
fuzz_app = create_app(runtime=_RUNTIME)
schema = schemathesis.openapi.from_asgi("/api/openapi.json", fuzz_app)


@pytest.fixture(scope="module")
def fuzz_world() -> Iterator[Runtime]:
    migrate.upgrade(_RUNTIME.settings.database_url)
    build_world(_RUNTIME)
    yield _RUNTIME
    _RUNTIME.close()
    shutil.rmtree(_FOLDER, ignore_errors=True)


@pytest.fixture(scope="module")
def role_headers(fuzz_world: Runtime) -> Iterator[dict[str, dict[str, str]]]:
    # Held open for the module: the app's lifespan (the in-process task runner) runs meanwhile.
    with TestClient(fuzz_app) as client:
        headers = {}
        for username in ROLES:
            r = client.post("/api/auth/token", data={"username": username, "password": PASSWORD})
            headers[username] = {"Authorization": f"Bearer {r.json()['access_token']}"}
        yield headers


# Signing out ends every session of the user: it is called as a user no other case signs in as.
SIGN_OUT = ("POST", "/api/auth/logout")


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_operation_answers_5xx(case, role, role_headers):  # type: ignore[no-untyped-def]
    if case.path == "/api/auth/token":
        case.headers = {}
    elif (case.method.upper(), case.path) == SIGN_OUT:
        # Issued directly: the fuzzed sign-ins have long since throttled this client's address.
        with _RUNTIME.db.session() as s:
            user = s.scalar(select(User).where(User.username == "kg-b1"))
            token = issue_token(
                _RUNTIME.settings, user_id=user.id, role=user.role.value, session_version=user.session_version
            )
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
    else:
        case.headers = {**(case.headers or {}), **role_headers[role]}
    response = case.call()
    assert response.status_code < 500, (
        f"{role}: {case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
    )


def test_every_protected_operation_requires_authentication(fuzz_world: Runtime):
    failures = []
    with TestClient(fuzz_app) as client:
        for path, operations in fuzz_app.openapi()["paths"].items():
            for method, op in operations.items():
                key = (method.upper(), path)
                declared = bool(op.get("security"))
                if key in PUBLIC:
                    if declared:
                        failures.append(f"{key} is listed as public but declares security")
                    continue
                if not declared:
                    failures.append(f"{key} declares no security and is not in PUBLIC: require a signed-in caller")
                url = path.format_map(_AnyId())
                r = client.request(method.upper(), url, headers={"Authorization": "Bearer not.a.token"})
                bare = client.request(method.upper(), url)
                for reply in (r, bare):
                    if reply.status_code != 401:
                        failures.append(f"{key} without a valid token: {reply.status_code} {reply.text[:100]}")
    assert not failures, "\n".join(failures)


class _AnyId(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return str(uuid.uuid4()) if key.endswith("_id") else "2026"


def test_public_operations_still_exist():
    paths = {(m.upper(), p) for p, ops in fuzz_app.openapi()["paths"].items() for m in ops}
    assert set(PUBLIC) <= paths, f"stale PUBLIC entries: {set(PUBLIC) - paths}"
