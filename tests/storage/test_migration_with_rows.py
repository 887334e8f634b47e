"""Migrations that rebuild a table others refer to keep working once the tables hold rows.

0014 makes ``agreements.member_kindergarten_id`` nullable: on SQLite that rebuilds ``agreements``
while ``agreement_signatures`` refers to it. With rows in both, one step down and up again must keep
every row and every key.
"""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import text

from storage import migrate
from storage.db import Database
from tests.fixtures.database import BACKENDS, discard_database_url, fresh_database_url
from workflows.accounts.models import User
from workflows.agreements.models import Agreement, Signature, SigningKey
from workflows.documents.models import Document
from workflows.registry.models import Alliance, Category, Kindergarten
from workflows.roles import Role


def _rows(database: Database) -> uuid.UUID:
    with database.session() as s:
        kindergartens = [
            Kindergarten(code=f"K{n}", name=f"园{n}", category=Category.PRIVATE, town="湖坊镇") for n in range(3)
        ]
        alliance = Alliance(code="T1", name="联盟一")
        user = User(username="signer", display_name="签署人", password_hash="x", role=Role.OFFICER)
        s.add_all([*kindergartens, alliance, user])
        s.flush()
        document = Document(kind="agreement_signature", owner_type="agreement", owner_id=uuid.uuid4(), title="签名",
                            filename="a.p7s", content_type="application/pkcs7-signature", size=1, sha256="0" * 64,
                            object_key="sha256/00/00")  # fmt: skip
        key = SigningKey(user_id=user.id, certificate_pem="-", certificate_serial="1", certificate_sha256="1" * 64,
                         key_id="00" * 16, pin_hash="x")  # fmt: skip
        s.add_all([document, key])
        s.flush()
        agreement = Agreement(number="XY2026-0001", kind="member", alliance_id=alliance.id,
                              member_kindergarten_id=kindergartens[2].id, lead_kindergarten_id=kindergartens[0].id,
                              pillar_kindergarten_id=kindergartens[1].id, state="effective", round=1,
                              term_start=date(2026, 9, 1), term_end=date(2029, 8, 31), verification_code="AAAA-BBBB-CCCC")  # fmt: skip
        s.add(agreement)
        s.flush()
        s.add(Signature(agreement_id=agreement.id, round=1, step=0, party="member", signer_id=user.id,
                        signer_name="签署人", signing_key_id=key.id, certificate_serial="1",
                        certificate_sha256="1" * 64, content_sha256="2" * 64, cms_document_id=document.id))  # fmt: skip
        return agreement.id


@pytest.mark.parametrize("backend", BACKENDS)
def test_agreements_with_signatures_survive_0014_down_and_up(backend, tmp_path):
    url = fresh_database_url(backend, tmp_path)
    try:
        migrate.upgrade(url)
        database = Database(url)
        agreement_id = _rows(database)
        database.dispose()
        migrate.downgrade(url, "0014_agreement_kinds_withdrawals-1")
        migrate.upgrade(url)
        database = Database(url)
        with database.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM agreement_signatures")).scalar() == 1
            if backend == "sqlite":
                assert conn.execute(text("PRAGMA foreign_key_check")).fetchall() == []
        with database.session() as s:
            agreement = s.get(Agreement, agreement_id)
            assert agreement is not None and (agreement.kind, agreement.term_no) == ("member", 1)
            assert [sig.party for sig in agreement.signatures] == ["member"]
        database.dispose()
    finally:
        discard_database_url(url)
