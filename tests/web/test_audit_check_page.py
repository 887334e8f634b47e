"""The audit-chain check page: the officer and the administrator run it and read the result in Chinese;
a changed row is named; nobody else sees the page."""

from __future__ import annotations

from sqlalchemy import select

from workflows.audit import AuditEntry


def test_the_check_passes_then_names_a_changed_row(browser, world, runtime):
    officer = browser("officer")
    page = officer.get("/admin/audit").text
    assert "开始核验" in page and "audit-result" not in page  # nothing runs until asked
    for who in ("officer", "admin"):
        result = browser(who).get("/admin/audit?run=1").text
        assert "核验通过" in result and "条审计记录" in result
    with runtime.db.session() as s:
        row = s.scalar(select(AuditEntry).order_by(AuditEntry.seq).limit(1))  # the world's own history
        assert row is not None
        row.comment = "悄悄改过"
        seq = row.seq
    result = officer.get("/admin/audit?run=1").text
    assert "核验未通过" in result and f"第 {seq} 条记录内容已被改动" in result


def test_only_the_officer_and_the_administrator(browser, world):
    for who in ("researcher", "lead-a", "kg-a1"):
        assert browser(who).get("/admin/audit?run=1").status_code == 404
