"""The load benchmark's harness, so it cannot rot unnoticed: the minimal HTTP client's framing, the
reference service doing the real work (and refusing what the project refuses), and a handful of
applicants driven end to end against embedded mode and the reference on SQLite."""

from __future__ import annotations

import asyncio
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bench import load, reference
from bench.__main__ import _table
from bench._flow import PASSWORD, STEPS, attachments, form
from bench._http import Connection, ProtocolError, parse_chunked, parse_head, request_bytes
from storage.settings import Settings
from storage.stores import build_object_store
from workflows.audit import GENESIS_HASH

# --- the client's HTTP/1.1 framing -------------------------------------------------------------


def test_head_is_parsed_into_status_and_lowercased_headers() -> None:
    status, headers = parse_head(b"HTTP/1.1 201 Created\r\nContent-Length: 12\r\nX-Bench-SQL: 7")
    assert status == 201
    assert headers == {"content-length": "12", "x-bench-sql": "7"}
    with pytest.raises(ProtocolError):
        parse_head(b"SMTP 220 hello")
    with pytest.raises(ProtocolError):
        parse_head(b"HTTP/1.1 200 OK\r\nno colon here")


def test_chunked_body_is_joined_and_incomplete_bodies_wait() -> None:
    message = b"HEAD4\r\nWiki\r\n6;ext=1\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\n\r\nNEXT"
    body, end = parse_chunked(message, 4)
    assert body == b"Wikipedia in \r\n\r\nchunks."
    assert message[end:] == b"NEXT"
    for cut in range(5, len(message) - 4):
        assert parse_chunked(message[:cut], 4) is None, cut
    with pytest.raises(ProtocolError):
        parse_chunked(b"zz\r\nabc\r\n", 0)


def test_connection_reads_every_framing_across_split_packets() -> None:
    """Responses arrive in pieces (one byte at a time here): each is framed right, in order."""
    responses = [
        b'HTTP/1.1 200 OK\r\nContent-Length: 18\r\nContent-Type: application/json\r\n\r\n{"access_token":1}',
        b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        b"HTTP/1.1 204 No Content\r\nx-bench-cpu-ns: 5\r\n\r\n",
        b"HTTP/1.1 409 Conflict\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno",
    ]

    async def scenario() -> list[tuple[int, bytes, bool]]:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            for response in responses:
                await reader.readuntil(b"\r\n\r\n")
                for i in range(len(response)):
                    writer.write(response[i : i + 1])
                    await writer.drain()
            writer.close()

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        conn = await Connection.open("127.0.0.1", port)
        got = []
        for _ in responses:
            r = await conn.send(request_bytes("GET", "/", f"127.0.0.1:{port}"))
            got.append((r.status, r.body, r.keep_alive))
        conn.close()
        server.close()
        await server.wait_closed()
        return got

    assert asyncio.run(scenario()) == [
        (200, b'{"access_token":1}', True),
        (201, b"abcde", True),
        (204, b"", True),
        (409, b"no", False),
    ]


def test_request_bytes_are_well_formed() -> None:
    raw = request_bytes("POST", "/api/x", "h:1", body=b'{"a":1}', content_type="application/json", token="t")
    head, body = raw.split(b"\r\n\r\n", 1)
    assert head.split(b"\r\n")[0] == b"POST /api/x HTTP/1.1"
    assert b"Content-Length: 7" in head and b"Authorization: Bearer t" in head
    assert body == b'{"a":1}'


# --- the reference service does the real work ----------------------------------------------------


@pytest.fixture
def lean(tmp_path: Path) -> Iterator[tuple[TestClient, Settings]]:
    url = f"sqlite:///{(tmp_path / 'ref.sqlite').as_posix()}"
    settings = Settings(demo=True, var_dir=tmp_path, database_url=url, object_store=(tmp_path / "o").as_posix())
    reference.seed(url, ["bench000", "bench001"], PASSWORD, settings)
    with TestClient(reference.create_app(settings)) as client:
        yield client, settings


def _token(client: TestClient, username: str = "bench000") -> dict[str, str]:
    r = client.post("/api/auth/token", data={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_reference_refuses_what_the_project_refuses(lean: tuple[TestClient, Settings]) -> None:
    client, settings = lean
    r = client.post("/api/auth/token", data={"username": "bench000", "password": "wrong-password"})
    assert (r.status_code, r.json()["code"]) == (401, "bad_credentials")
    assert client.post("/api/applications", json=form(0)).status_code == 401
    h = _token(client)
    assert client.post("/api/applications", headers=h, json=form(0) | {"head_phone": "12"}).status_code == 422
    created = client.post("/api/applications", headers=h, json=form(0))
    assert created.status_code == 201
    app_id = created.json()["id"]
    r = client.post("/api/applications", headers=h, json=form(0))
    assert (r.status_code, r.json()["code"]) == (409, "open_application_exists")
    # Another kindergarten's applicant does not see it.
    assert client.get(f"/api/applications/{app_id}", headers=_token(client, "bench001")).status_code == 404
    # Judged by content: a text file named .pdf is refused.
    r = client.post(f"/api/applications/{app_id}/attachments", headers=h, data={"kind": "licence"},
                    files={"file": ("scan.pdf", b"just text, not a scan")})  # fmt: skip
    assert (r.status_code, r.json()["errors"][0]["code"]) == (422, "unsupported_type")
    r = client.post(f"/api/applications/{app_id}/events/submit", headers=h, json={"version": 1})
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {
        "attachments.licence",
        "attachments.inspection",
        "attachments.safety_pledge",
    }
    assert client.post(f"/api/applications/{app_id}/events/submit", headers=h, json={"version": 9}).status_code == 409
    # An account whose password must be changed first is refused, as by the project.
    other = _token(client, "bench001")
    engine = reference.make_engine(settings.database_url)
    with engine.begin() as conn:
        conn.execute(
            reference.users.update().where(reference.users.c.username == "bench001").values(must_change_password=True)
        )
    engine.dispose()
    r = client.post("/api/applications", headers=other, json=form(1))
    assert (r.status_code, r.json()["code"]) == (403, "password_change_required")


def test_reference_stores_scans_renders_the_form_and_chains_the_audit(lean: tuple[TestClient, Settings]) -> None:
    client, settings = lean
    h = _token(client)
    app_id = client.post("/api/applications", headers=h, json=form(0)).json()["id"]
    for kind, content, filename in attachments(0):
        r = client.post(f"/api/applications/{app_id}/attachments", headers=h, data={"kind": kind},
                        files={"file": (filename, content)})  # fmt: skip
        assert r.status_code == 201, r.text
    read = client.get(f"/api/applications/{app_id}", headers=h).json()
    assert sorted(a["content_type"] for a in read["attachments"]) == ["application/pdf", "image/jpeg", "image/png"]
    r = client.post(f"/api/applications/{app_id}/events/submit", headers=h, json={"version": read["version"]})
    assert r.status_code == 200, r.text
    submitted = r.json()
    assert (submitted["state"], submitted["state_label"], submitted["allowed_events"]) == (
        "submitted",
        "已提交",
        ["withdraw"],
    )
    assert {c["key"] for c in submitted["eligibility"]} >= {"licence_age", "classes"}
    assert reference.counted(settings.database_url) == {"submitted": 1, "forms": 1}
    r = client.post(f"/api/applications/{app_id}/attachments", headers=h, data={"kind": "licence"},
                    files={"file": ("a.pdf", attachments(1)[0][1])})  # fmt: skip
    assert r.status_code == 409

    engine = reference.make_engine(settings.database_url)
    with engine.connect() as conn:
        key = conn.execute(select(reference.documents.c.object_key)).scalar_one()
        rows = [row._asdict() for row in conn.execute(select(reference.audit).order_by(reference.audit.c.seq))]
        head = conn.execute(select(reference.audit_head)).one()
    engine.dispose()
    with build_object_store(settings).open(key) as stored, zipfile.ZipFile(io.BytesIO(stored.read())) as docx:
        document = docx.read("word/document.xml").decode()
    assert "压测第0幼儿园" in document and read["number"] in document
    # create, three attachments, submit: one row each, every hash recomputes from the previous one.
    assert [r["event"] for r in rows] == ["create", "attach", "attach", "attach", "submit"]
    prev = GENESIS_HASH
    for row in rows:
        assert row["prev_hash"] == prev and reference.audit_hash(prev, row) == row["hash"]
        prev = row["hash"]
    assert (head.seq, head.last_hash) == (5, prev)


# --- end to end, through the client process ---------------------------------------------------


def test_a_handful_of_applicants_against_embedded_mode_and_the_reference(tmp_path: Path) -> None:
    steps = load.plan(3, 2, warmup=1, settle_s=0.05, idle_s=0.2)
    server, lean_service = load.embedded_pair(tmp_path, steps)
    for result in (server, lean_service):
        assert (result["errors"], result["lost"]) == (0, 0), result["error_samples"]
        assert result["requests"] == 3 * 7
        assert (result["expected_submissions"], result["submitted_in_db"]) == (6, 6)
        assert result["client_cpu_ms_per_request"] > 0
        assert result["server_cpu_ms_per_request"] > 0 and result["sql_per_request"] > 0
        assert set(result["calibration"]) == set(STEPS)
        for kind in STEPS:
            figures = result["calibration"][kind]
            assert figures["api_cpu_ms"] > 0 and figures["sql"] >= 1, (kind, figures)
        assert result["calibration"]["upload"]["requests"] == 2 * 3

    # The report: ratios, the per-kind table and the metrics with their targets (the pair stands in
    # for the full-mode pair here).
    result = {"embedded": server, "reference_sqlite": lean_service, "full": server, "reference_postgres": lean_service}
    load.finish(result)
    assert result["ratios"]["embedded"] == result["ratios"]["full"] > 0
    assert len(result["calibration_table"]) == 2 + len(STEPS)
    by_name = {m["metric"]: m for m in result["metrics"]}
    assert by_name["embedded errors + lost"]["passed"] is True
    assert by_name["embedded client CPU"]["target_op"] == "<"
    assert by_name["embedded / ref-sqlite throughput"]["passed"] is (result["ratios"]["embedded"] >= 0.6)
    assert "== 0" in _table([("load", m) for m in result["metrics"]])
