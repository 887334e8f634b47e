"""Sending an agreement answers at once: its final .docx and PDF are made by a worker job after the
commit. Until they are stored the agreement shows 「生成中」 and signing is refused with a 409."""

from __future__ import annotations

import threading
import uuid
from typing import Any

from sqlalchemy import select

from tests.fixtures.agreements import PIN, SIGNERS, drain, fire
from workflows.agreements import freezing
from workflows.audit import AuditEntry
from workflows.jobs import Job


def test_a_sent_agreement_is_generating_until_its_job_froze_it_and_signing_waits(
    client, login, runtime, draft_agreement, monkeypatch
):
    officer, member = login("officer"), login(SIGNERS["member"])
    convert = freezing.docx_to_pdf
    converting, release = threading.Event(), threading.Event()

    def slow_convert(content: bytes, **kwargs: Any) -> bytes | None:
        converting.set()
        assert release.wait(60), "the test never released the conversion"
        return convert(content, **kwargs)

    monkeypatch.setattr(freezing, "docx_to_pdf", slow_convert)
    try:
        r = client.post(
            f"/api/agreements/{draft_agreement['id']}/events/send", headers=officer,
            json={"version": draft_agreement["version"]},
        )  # fmt: skip
        assert r.status_code == 200, r.text  # answered while the conversion has not even finished
        sent = r.json()
        assert (sent["state"], sent["files_generating"], sent["files_status_label"]) == ("signing", True, "生成中")
        assert sent["frozen_docx_id"] is None and sent["freeze_job_id"] is not None
        assert converting.wait(60)
        seen = client.get(f"/api/agreements/{sent['id']}", headers=member).json()
        assert seen["files_generating"] is True and "sign" not in seen["allowed_events"]
        refused = fire(client, member, seen, "sign", pin=PIN)
        assert refused.status_code == 409, refused.text
        assert refused.json()["code"] == "agreement_generating"
        assert "生成中" in refused.json()["message"]
        with runtime.db.session() as s:
            job = s.get(Job, uuid.UUID(sent["freeze_job_id"]))
            assert job is not None and job.kind == freezing.JOB_KIND and job.state in ("queued", "running")
    finally:
        release.set()
    drain(runtime)
    frozen = client.get(f"/api/agreements/{sent['id']}", headers=member).json()
    assert frozen["files_generating"] is False and frozen["frozen_docx_id"] is not None
    assert frozen["version"] == sent["version"]  # freezing is nobody's edit: the version seen stays valid
    assert "sign" in frozen["allowed_events"]
    with runtime.db.session() as s:
        job = s.get(Job, uuid.UUID(sent["freeze_job_id"]))
        assert job is not None and (job.state, job.done, job.total, job.errors) == ("done", 1, 1, [])
        freezes = list(s.scalars(select(AuditEntry).where(AuditEntry.event == "freeze")))
        assert [e.data["round"] for e in freezes] == [1]
    # A redelivered job changes nothing; the signer signs at the version the send answered with.
    freezing.run_freeze(runtime=runtime, job_id=job.id)
    with runtime.db.session() as s:
        assert len(list(s.scalars(select(AuditEntry).where(AuditEntry.event == "freeze")))) == 1
    signed = fire(client, member, sent, "sign", pin=PIN)
    assert signed.status_code == 200, signed.text
    assert client.get("/api/audit/verify", headers=officer).json()["ok"] is True
