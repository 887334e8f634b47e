"""Object-level authorisation, discovered from the OpenAPI schema: every role x every id-taking
operation x objects it may and may not see. An object a caller may not see answers 404, never 403,
never its content.

``TABLE`` says, per path prefix, which fixture object the path's ids name and which accounts of the
``world`` fixture may or may not see it. A new operation whose path takes an id and matches no prefix
fails the test, asking for a row. A row with ``subject=None`` has no fixture object yet: its
operations are still probed with ids that name nothing (404 for everyone, never 403 or 5xx).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient

from tests.faults.applicants import ATTACHMENTS, full_form
from tests.fixtures.activities import create_activity, semester, upload  # noqa: F401 - semester is a fixture
from tests.fixtures.agreements import drain
from tests.fixtures.files import pdf_bytes
from workers.wiring import runner_for

BUREAU = ("officer", "researcher", "admin")
EVERYONE = (*BUREAU, "lead-a", "pillar-a", "lead-b", "kg-a1", "kg-a2", "kg-b1", "kg-out")


@dataclass(frozen=True)
class Row:
    """Who may see the object a path names. Roles in neither list are not checked for this row."""

    subject: str | None
    may: tuple[str, ...] = ()
    may_not: tuple[str, ...] = ()
    note: str = ""


A_PRIVATE = Row("kg-a1", may=("kg-a1", "lead-a", "pillar-a", *BUREAU), may_not=("kg-a2", "kg-b1", "kg-out", "lead-b"))
DRAFT = Row("draft", may=("kg-a1", *BUREAU), may_not=("kg-a2", "kg-b1", "kg-out", "lead-a", "pillar-a", "lead-b"))
SUBMITTED_B = Row(
    "submitted-b", may=("kg-b1", "lead-b", *BUREAU), may_not=("kg-a1", "kg-a2", "kg-out", "lead-a", "pillar-a")
)
ACTIVITY_A = Row(
    "activity-a", may=("lead-a", "pillar-a", "officer", "researcher"), may_not=("lead-b", "kg-b1", "kg-out")
)
ALLIANCE_A = Row("alliance-a", may=("lead-a", "officer"), may_not=("lead-b", "kg-b1", "kg-out"))
AGREEMENT_OUT = Row(
    "agreement-out", may=("kg-out", "lead-b", "officer"), may_not=("kg-a1", "kg-a2", "lead-a", "pillar-a")
)
WITHDRAWAL_A1 = Row(
    "withdrawal-a1", may=("kg-a1", "lead-a", "pillar-a", *BUREAU), may_not=("kg-a2", "kg-b1", "kg-out", "lead-b")
)
NO_FIXTURE = "no fixture object yet: probed with ids that name nothing"
NOT_ADMIN = tuple(u for u in EVERYONE if u != "admin")
KEY_KEEPERS = ("officer", "admin")

# Longest matching prefix wins. Path parameters are filled from the subject's ids by name.
TABLE: dict[str, Row] = {
    "/api/applications/{application_id}/attachments/{attachment_id}": DRAFT,
    "/api/applications/{application_id}": DRAFT,
    "/api/documents/{document_id}": SUBMITTED_B,
    "/api/kindergartens/{kindergarten_id}/teachers": A_PRIVATE,
    "/api/kindergartens/{kindergarten_id}/users": A_PRIVATE,
    "/api/kindergartens/{kindergarten_id}/seal": Row("kg-a1", may_not=(), note="public registry entry"),
    "/api/kindergartens/{kindergarten_id}": Row("kg-a1", may=EVERYONE, note="public registry entry"),
    "/api/alliances/{alliance_id}": Row("alliance-a", may=EVERYONE, note="public registry entry"),
    "/api/dashboards/alliances/{alliance_id}": ALLIANCE_A,
    "/api/semesters/{code}/alliances/{alliance_id}": Row("alliance-a", may_not=("lead-b", "kg-b1", "kg-out")),
    "/api/semesters/{code}": Row("semester", note="semesters are district-wide"),
    "/api/notifications/{notification_id}": Row("notification", may=("officer",), may_not=("researcher", "admin", "lead-a", "kg-a1", "kg-out")),
    "/api/activities/{activity_id}": ACTIVITY_A,
    "/api/news/activities/{activity_id}": ACTIVITY_A,
    "/api/agreements/{agreement_id}": AGREEMENT_OUT,
    "/api/channels/": Row(None, note=NO_FIXTURE),
    "/api/evaluations/": Row(None, note=NO_FIXTURE),
    "/api/review-flags/": Row(None, note=NO_FIXTURE),
    "/api/certificates/": Row(None, note=NO_FIXTURE),
    # A published summary's reader (every alliance, not kg-out) is walked in tests/web/test_exchange_pages.py.
    "/api/exchange/": Row(None, note=NO_FIXTURE),
    "/api/verify/": Row(None, note="public by design: a verification code, not an id"),
    "/api/jobs/": Row(None, note=NO_FIXTURE),
    "/api/mentors/": Row(None, note=NO_FIXTURE),
    "/api/library/": Row(None, note=NO_FIXTURE),
    "/api/news/reports/": Row(None, note=NO_FIXTURE),
    "/api/alliances/{alliance_id}/member-needs": Row("alliance-a", may=("lead-a", "pillar-a", *BUREAU), may_not=("lead-b", "kg-a1", "kg-b1", "kg-out"), note="members' needs: the lead and pillar write the plan"),
    "/api/alliances/{alliance_id}/agreements": Row("alliance-a", may_not=(), note="bureau action on a public alliance"),
    "/api/withdrawals/{withdrawal_id}": WITHDRAWAL_A1,
    "/api/users/{user_id}": Row("user-kg-out", may=("admin",), may_not=NOT_ADMIN, note="account management"),
    "/api/users/{user_id}/signing-key/revoke": Row(
        "user-kg-out", may=KEY_KEEPERS, may_not=tuple(u for u in EVERYONE if u not in KEY_KEEPERS)
    ),
    "/api/alliances/{alliance_id}/research-group": Row("research-seat-a", may=("kg-a1", "lead-a", "pillar-a", *BUREAU), may_not=("lead-b", "kg-b1", "kg-out"), note="names people: the alliance and the bureau"),
    "/api/teachers/{teacher_id}": Row("teacher-a1", may=("kg-a1", *BUREAU), may_not=("kg-a2", "lead-a", "pillar-a", "lead-b", "kg-b1", "kg-out"), note="a principal keeps only its own roster"),
}  # fmt: skip
# Path parameters that are vocabulary, not object ids.
VOCABULARY = {"event": "submit", "kind": "plan", "code": "2026-autumn", "year": "2026"}


@dataclass
class Fixtures:
    ids: dict[str, dict[str, str]] = field(default_factory=dict)


def build_objects(client: TestClient, login: Any, runtime: Any, world: Any) -> Fixtures:
    """One object of each subject, made through the API as its owners would."""
    fx = Fixtures()

    def submit_for(username: str, form: dict[str, Any], *, submit: bool) -> dict[str, Any]:
        h = login(username)
        app = client.post("/api/applications", headers=h, json=form).json()
        ids = {}
        for kind, content, filename in ATTACHMENTS:
            r = client.post(
                f"/api/applications/{app['id']}/attachments",
                headers=h,
                data={"kind": kind},
                files={"file": (filename, content)},
            )
            assert r.status_code == 201, r.text
            ids["attachment_id"] = r.json()["id"]
        app = client.get(f"/api/applications/{app['id']}", headers=h).json()
        if submit:
            r = client.post(f"/api/applications/{app['id']}/events/submit", headers=h, json={"version": app["version"]})
            assert r.status_code == 200, r.text
            app = r.json()
        return {"application_id": app["id"], **ids, "version": str(app["version"])}

    fx.ids["draft"] = submit_for("kg-a1", full_form(1), submit=False)
    submitted = submit_for("kg-b1", full_form(2, preferred_alliance_id=str(world.alliances["B"].id)), submit=True)
    drain(runtime)  # the 申请表 renders after the commit
    docs = client.get(f"/api/applications/{submitted['application_id']}/documents", headers=login("kg-b1")).json()
    fx.ids["submitted-b"] = {**submitted, "document_id": docs[0]["id"]}
    fx.ids["kg-a1"] = {"kindergarten_id": world.kid("A-M1")}
    fx.ids["alliance-a"] = {"alliance_id": str(world.alliances["A"].id)}
    r = client.post("/api/withdrawals", headers=login("kg-a1"), json={"reason": "检查"})
    assert r.status_code == 201, r.text
    fx.ids["withdrawal-a1"] = {"withdrawal_id": r.json()["id"], "version": str(r.json()["version"])}
    fx.ids["research-seat-a"] = {"alliance_id": str(world.alliances["A"].id), "kindergarten_id": world.kid("A-M1")}
    teacher = client.post("/api/teachers", headers=login("kg-a1"), json={"name": "名册教师", "level": "young"}).json()
    fx.ids["teacher-a1"] = {"teacher_id": teacher["id"], "version": "1"}
    fx.ids["semester"] = {}
    fx.ids["user-kg-out"] = {"user_id": str(world.users["kg-out"].id)}
    notes = client.get("/api/notifications", headers=login("officer")).json()
    fx.ids["notification"] = {"notification_id": notes[0]["id"]}

    activity = create_activity(client, login, runtime, world)
    r = upload(client, login("pillar-a"), activity["id"], "lesson_plan", pdf_bytes("plan"), "教案.pdf")
    fx.ids["activity-a"] = {"activity_id": activity["id"], "version": str(activity["version"])}
    if r.status_code == 201:
        fx.ids["activity-a"]["material_id"] = r.json()["id"]

    # An approval starts the agreement (agreements.create_from_application, in-process here). It makes
    # kg-out a member of alliance B: still an outsider to everything of alliance A above.
    out = submit_for("kg-out", full_form(3), submit=True)
    officer = login("officer")
    app = client.post(
        f"/api/applications/{out['application_id']}/events/start_review",
        headers=officer,
        json={"version": int(out["version"])},
    ).json()
    r = client.post(
        f"/api/applications/{app['id']}/events/approve",
        headers=officer,
        json={"version": app["version"], "alliance_id": str(world.alliances["B"].id)},
    )
    assert r.status_code == 200, r.text
    assert runner_for(runtime).drain(30)
    agreements = [
        a
        for a in client.get("/api/agreements", headers=officer).json()
        if a.get("member_kindergarten_id", world.kid("C-OUT")) == world.kid("C-OUT")
    ]
    fx.ids["agreement-out"] = {"agreement_id": agreements[0]["id"], "version": str(agreements[0].get("version", 1))}
    return fx


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def id_params(path: str, op: dict[str, Any]) -> list[str]:
    return [p["name"] for p in op.get("parameters", []) if p["in"] == "path" and p["name"] not in VOCABULARY]


def row_for(path: str) -> Row | None:
    matches = [prefix for prefix in TABLE if path == prefix or path.startswith(prefix.rstrip("/") + "/")]
    return TABLE[max(matches, key=len)] if matches else None


def resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    if "anyOf" in schema:
        schema = next((s for s in schema["anyOf"] if s.get("type") != "null"), schema["anyOf"][0])
        return resolve(schema, spec)
    return schema


def example(schema: dict[str, Any], spec: dict[str, Any], version: str) -> Any:
    """The smallest value the schema accepts: required properties only, plain defaults."""
    schema = resolve(schema, spec)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {
            name: int(version) if name == "version" else example(props[name], spec, version)
            for name in schema.get("required", [])
        }
    if kind == "array":
        return [example(schema.get("items", {}), spec, version) for _ in range(schema.get("minItems", 0))]
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return 1
    if kind == "boolean":
        return True
    if schema.get("format") == "uuid":
        return str(uuid.uuid4())
    if schema.get("format") == "date":
        return "2026-10-01"
    if schema.get("format") == "date-time":
        return "2026-10-01T09:00:00"
    return "检查" * max(1, schema.get("minLength", 1))


def request_kwargs(op: dict[str, Any], spec: dict[str, Any], version: str) -> dict[str, Any]:
    """A body that passes validation, so the object check is what answers."""
    content = op.get("requestBody", {}).get("content", {})
    if "multipart/form-data" in content:
        body = resolve(content["multipart/form-data"]["schema"], spec)
        data, files = {}, {}
        for name, prop in body.get("properties", {}).items():
            prop = resolve(prop, spec)
            if prop.get("format") == "binary" or prop.get("contentMediaType"):
                files[name] = ("x.pdf", pdf_bytes(), "application/pdf")
            elif name in body.get("required", []):
                data[name] = version if name == "version" else str(example(prop, spec, version))
        return {"data": data, "files": files}
    if "application/json" in content:
        return {"json": example(content["application/json"]["schema"], spec, version)}
    return {}


def call(
    client: TestClient, method: str, path: str, values: dict[str, str], op: dict[str, Any], headers: dict[str, str]
):  # type: ignore[no-untyped-def]
    url = path.format(**{**VOCABULARY, **values})
    spec = client.app.openapi()
    version = values.get("version", "1")
    # Required query parameters (a DELETE's ``version``) get a valid value too, so the object check answers.
    params = {
        p["name"]: version if p["name"] == "version" else str(example(p.get("schema", {}), spec, version))
        for p in op.get("parameters", [])
        if p["in"] == "query" and p.get("required")
    }
    return client.request(method, url, headers=headers, params=params, **request_kwargs(op, spec, version))


def test_every_id_taking_operation_is_in_the_table(client):
    missing = sorted(
        {path for _, path, op in operations(client.app.openapi()) if id_params(path, op) and row_for(path) is None}
    )
    assert not missing, (
        f"operations {missing} take an object id but tests/security/test_object_authorisation.py TABLE has no row "
        "for them: add a row saying which fixture object they name and who may and may not see it"
    )


def test_roles_see_exactly_the_objects_they_may(client, login, runtime, world, semester):  # noqa: F811
    fx = build_objects(client, login, runtime, world)
    failures: list[str] = []
    writes: list[tuple[str, str, dict[str, Any], Row, dict[str, str]]] = []
    nobody = {name: str(uuid.uuid4()) for name in ("application_id", "attachment_id", "document_id")}
    for method, path, op in operations(client.app.openapi()):
        names = id_params(path, op)
        row = row_for(path)
        if not names or row is None:
            continue
        # Ids that name nothing: 404 for everyone, whatever the role.
        ghost = {name: str(uuid.uuid4()) for name in names} | nobody
        for user in ("officer", "kg-a1", "lead-b"):
            r = call(client, method, path, ghost, op, login(user))
            if r.status_code not in (404, 422) or (r.status_code == 422 and method == "GET"):
                failures.append(f"{method} {path} as {user} with unknown ids: {r.status_code} {r.text[:120]}")
        if row.subject is None:
            continue
        values = fx.ids.get(row.subject)
        if values is None or any(name not in values for name in names):
            failures.append(f"{method} {path}: subject {row.subject!r} has no value for {names}")
            continue
        for user in row.may_not:
            r = call(client, method, path, values, op, login(user))
            if r.status_code != 404:
                failures.append(f"{method} {path} as {user} (may not see): {r.status_code} {r.text[:120]}")
        if method == "GET":
            for user in row.may:
                r = call(client, method, path, values, op, login(user))
                if r.status_code == 404 or r.status_code >= 500:
                    failures.append(f"{method} {path} as {user} (may see): {r.status_code} {r.text[:120]}")
        else:
            writes.append((method, path, op, row, values))
    # Writes by those who may see go last: they change the objects the checks above read.
    for method, path, op, row, values in writes:
        for user in row.may:
            r = call(client, method, path, values, op, login(user))
            if r.status_code >= 500:
                failures.append(f"{method} {path} as {user} (may see): {r.status_code} {r.text[:120]}")
    assert not failures, "\n".join(failures)
