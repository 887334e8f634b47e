"""The alliance agreement (联盟协议书), its signatures, the signers' keys and the installation CA."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.db import Base, UUIDPrimaryKey, utcnow
from workflows.objects_index import object_key_column
from workflows.registry.models import Alliance, Kindergarten

# The signing route: ordered steps, each one or more parties (a step with several is 会签).
DEFAULT_ROUTE: list[list[str]] = [["member"], ["lead"], ["pillar"], ["bureau"]]
# The agreement between a member and the alliance (甲乙丙 + bureau), or between lead and pillar (甲乙 + bureau).
MEMBER, LEAD_PILLAR = "member", "lead_pillar"
KIND_PARTIES: dict[str, tuple[str, ...]] = {
    MEMBER: ("lead", "pillar", "member", "bureau"),
    LEAD_PILLAR: ("lead", "pillar", "bureau"),
}
DEFAULT_ROUTES: dict[str, list[list[str]]] = {MEMBER: DEFAULT_ROUTE, LEAD_PILLAR: [["lead"], ["pillar"], ["bureau"]]}
# States in which an agreement still binds or may come to bind its parties.
OPEN_STATES = ("draft", "signing", "returned")
LIVE_STATES = (*OPEN_STATES, "effective")


_OPEN = "state IN ('draft', 'signing', 'returned')"


class Agreement(UUIDPrimaryKey, Base):
    __tablename__ = "agreements"
    __table_args__ = (
        Index("ix_agreements_state", "state"),
        # One unsigned agreement at a time per member of an alliance (a renewal's draft may sit beside
        # the effective one it renews), whichever path drafts it: an approval, founding members, renewal.
        Index(
            "uq_agreements_open_member",
            "alliance_id",
            "member_kindergarten_id",
            unique=True,
            sqlite_where=text(_OPEN),
            postgresql_where=text(_OPEN),
        ),
        # At most one renewal of an agreement that is not void.
        Index(
            "uq_agreements_renewal",
            "renewal_of_id",
            unique=True,
            sqlite_where=text("state != 'voided'"),
            postgresql_where=text("state != 'voided'"),
        ),
    )

    number: Mapped[str] = mapped_column(String(20), unique=True)
    # At most one agreement per approved application (the consuming task relies on it).
    application_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("applications.id", ondelete="RESTRICT"), unique=True
    )
    alliance_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("alliances.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default=MEMBER, server_default=MEMBER)
    # None for the lead–pillar agreement, which has no 丙方.
    member_kindergarten_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("kindergartens.id", ondelete="RESTRICT"), index=True
    )
    lead_kindergarten_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("kindergartens.id", ondelete="RESTRICT"))
    pillar_kindergarten_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("kindergartens.id", ondelete="RESTRICT"))
    state: Mapped[str] = mapped_column(String(20), default="draft")
    version: Mapped[int] = mapped_column(default=1)
    # Each send starts a round; signatures of earlier rounds are void.
    round: Mapped[int] = mapped_column(default=0)
    route: Mapped[list[list[str]]] = mapped_column(JSON, default=lambda: [list(s) for s in DEFAULT_ROUTE])
    term_start: Mapped[date]
    term_end: Mapped[date]
    special_clauses: Mapped[str] = mapped_column(Text, default="")
    # Renewal: the agreement this one continues (第 term_no 期); the earlier one stays as it was.
    # NO ACTION rather than RESTRICT: checked at the end of the statement, so one DELETE may remove a whole
    # line of terms (RESTRICT would refuse it row by row). Nothing deletes agreements in the application.
    renewal_of_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agreements.id"))
    term_no: Mapped[int] = mapped_column(default=1, server_default="1")
    # Printed on the final document; the public verification endpoints look it up.
    verification_code: Mapped[str] = mapped_column(String(16), unique=True)
    # Names as printed, refreshed at every render: {"lead": {"name": ..., "kindergarten_id": ...}, ...}.
    parties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    frozen_docx_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id", ondelete="RESTRICT"))
    frozen_pdf_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id", ondelete="RESTRICT"))
    # The newest PDF revision (the frozen PDF plus every signature so far).
    signed_pdf_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id", ondelete="RESTRICT"))
    certificate_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id", ondelete="RESTRICT"))
    archive_key: Mapped[str | None] = object_key_column(200)  # the manifest: outside the sweep's sha256/ prefix
    last_comment: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None]
    effective_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]

    alliance: Mapped[Alliance] = relationship()
    member: Mapped[Kindergarten | None] = relationship(foreign_keys=[member_kindergarten_id])
    lead: Mapped[Kindergarten] = relationship(foreign_keys=[lead_kindergarten_id])
    pillar: Mapped[Kindergarten] = relationship(foreign_keys=[pillar_kindergarten_id])
    signatures: Mapped[list[Signature]] = relationship(back_populates="agreement", order_by="Signature.signed_at")

    __mapper_args__ = {"version_id_col": version}

    @property
    def party_keys(self) -> tuple[str, ...]:
        """The parties of this kind of agreement, in the order of its parties table."""
        return KIND_PARTIES[self.kind]

    def kindergarten_of(self, party: str) -> uuid.UUID | None:
        """The kindergarten that is ``party`` (None for the bureau)."""
        return {
            "lead": self.lead_kindergarten_id,
            "pillar": self.pillar_kindergarten_id,
            "member": self.member_kindergarten_id,
        }.get(party)

    @property
    def current_signatures(self) -> list[Signature]:
        """The valid signatures of the round being signed."""
        return [s for s in self.signatures if s.round == self.round and s.voided_at is None]

    @property
    def signed_parties(self) -> set[str]:
        return {s.party for s in self.current_signatures}

    @property
    def current_step(self) -> int | None:
        """Index of the first route step not fully signed (None when all are)."""
        signed = self.signed_parties
        return next((i for i, step in enumerate(self.route) if not set(step) <= signed), None)

    @property
    def awaiting(self) -> list[str]:
        """The parties whose signature the current step still needs."""
        step = self.current_step
        return [] if step is None else [p for p in self.route[step] if p not in self.signed_parties]

    @property
    def route_complete(self) -> bool:
        """Every party of every step has signed this round (the machine's condition for 'effective')."""
        return self.current_step is None


class Signature(UUIDPrimaryKey, Base):
    """One party's signature in one round: who, when, from where, with which certificate, over which bytes."""

    __tablename__ = "agreement_signatures"
    __table_args__ = (UniqueConstraint("agreement_id", "round", "party"),)

    agreement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agreements.id", ondelete="RESTRICT"), index=True)
    round: Mapped[int]
    step: Mapped[int]
    party: Mapped[str] = mapped_column(String(16))
    signer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    signer_name: Mapped[str] = mapped_column(String(100))
    signing_key_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("signing_keys.id", ondelete="RESTRICT"))
    certificate_serial: Mapped[str] = mapped_column(String(64))
    certificate_sha256: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)
    address: Mapped[str] = mapped_column(String(64), default="")
    # SHA-256 of the frozen .docx the CMS signature covers.
    content_sha256: Mapped[str] = mapped_column(String(64))
    cms_document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="RESTRICT"))
    # The PDF revision this signature produced (None where no PDF could be made).
    pdf_document_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id", ondelete="RESTRICT"))
    pdf_field: Mapped[str] = mapped_column(String(64), default="")
    voided_at: Mapped[datetime | None]

    agreement: Mapped[Agreement] = relationship(back_populates="signatures")


class SigningKey(UUIDPrimaryKey, Base):
    """A signer's key pair. The private key is in the PKCS#11 token (found by ``key_id``), used only
    after the signer's PIN matches ``pin_hash``: the database holds no private key."""

    __tablename__ = "signing_keys"
    __table_args__ = (
        Index(
            "uq_signing_keys_active_user",
            "user_id",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    algorithm: Mapped[str] = mapped_column(String(32), default="ec-p256")
    certificate_pem: Mapped[str] = mapped_column(Text)
    certificate_serial: Mapped[str] = mapped_column(String(64))
    certificate_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    # CKA_ID of the private key in the token, hex.
    key_id: Mapped[str] = mapped_column(String(64))
    # argon2id of the signer's PIN keyed with the installation secret (``keys.hash_pin``).
    pin_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class SigningAuthority(Base):
    """The installation's own certificate authority (one row); its private key is in the token."""

    __tablename__ = "signing_authority"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    certificate_pem: Mapped[str] = mapped_column(Text)
    certificate_sha256: Mapped[str] = mapped_column(String(64))
    # CKA_ID of the CA key in the token, hex; None only for a CA from before the token, whose key is
    # still sealed in ``sealed_key`` until its first use moves it into the token (``ca``).
    key_id: Mapped[str | None] = mapped_column(String(64))
    sealed_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BureauSeal(Base):
    """The seal image of a bureau section (成幼科 signs agreements for the bureau)."""

    __tablename__ = "bureau_seals"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    seal_key: Mapped[str] = object_key_column(120)  # kept by the orphan sweep
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
