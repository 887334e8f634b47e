"""Demo signing material: specimen seals (样章), the installation CA, and a key for every demo signer.

Every demo signing account (lead1…5, pillar1…5, kg001…kg073, officer) gets a key sealed under the
demo PIN 135790. A real install creates none of this: signers set their own PIN
(``POST /api/me/signing-key``) and kindergartens upload their seal scans.
"""

from __future__ import annotations

import io
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.objects import ObjectStore, build_object_store
from storage.settings import Settings
from workflows import audit
from workflows.accounts.models import ROLE_LABELS, Role, User
from workflows.agreements import ca, keys
from workflows.agreements.models import BureauSeal, SigningKey
from workflows.agreements.parties import BUREAU_NAME, BUREAU_PARTY_NAME, BUREAU_SEAL_CODE, BUREAU_SECTION
from workflows.agreements.seals import NoChineseFont, chinese_font, draw_specimen_seal
from workflows.registry.models import Kindergarten
from workflows.uploads import PNG

DEMO_PIN = "135790"
SIGNING_ROLES = (Role.APPLICANT, Role.LEAD, Role.PILLAR, Role.OFFICER)
SEAL_PIXELS = 400

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SigningDemoReport:
    seals: int
    keys: int
    missing: str = ""  # why specimen seals were not drawn (a system package is absent), for the CLI to print


def _store_seal(objects: ObjectStore, name: str, png: bytes) -> str:
    return objects.put(io.BytesIO(png), filename=f"{name}_样章.png", content_type=PNG).key


def load_signing_demo(*, session: Session, settings: Settings, objects: ObjectStore | None = None) -> SigningDemoReport:
    """Draw the missing specimen seals, create the CA, and give every demo signer without a key one."""
    objects = objects or build_object_store(settings)
    unsealed = list(session.scalars(select(Kindergarten).where(Kindergarten.seal_key.is_(None))))
    bureau = session.get(BureauSeal, BUREAU_SEAL_CODE)
    names = [k.name for k in unsealed] + ([] if bureau else [f"{BUREAU_NAME}{BUREAU_SECTION}"])
    missing = ""
    try:
        chinese_font()
    except NoChineseFont as exc:
        # The demo still loads: seals can be drawn on a later run once the font is there, and
        # signing answers the same message until then.
        logger.warning("%s", exc.message)
        missing, names = exc.message, []
    with ThreadPoolExecutor(max_workers=4) as pool:
        drawn = list(pool.map(lambda name: draw_specimen_seal(name, size=SEAL_PIXELS), names))
    for kindergarten, png in zip(unsealed, drawn, strict=False):
        kindergarten.seal_key = _store_seal(objects, kindergarten.name, png)
    if bureau is None and drawn:
        session.add(
            BureauSeal(
                code=BUREAU_SEAL_CODE, name=BUREAU_PARTY_NAME, seal_key=_store_seal(objects, "成幼科", drawn[-1])
            )
        )

    authority = ca.ensure_authority(session=session, settings=settings)
    with_key = select(SigningKey.user_id).where(SigningKey.revoked_at.is_(None))
    users = list(
        session.scalars(
            select(User)
            .where(User.is_demo, User.is_active, User.role.in_(SIGNING_ROLES), User.id.not_in(with_key))
            .order_by(User.username)
        )
    )
    pending = []
    for user in users:
        private_key = ec.generate_private_key(ec.SECP256R1())
        certificate = ca.issue_certificate(
            authority,
            private_key.public_key(),
            common_name=user.display_name,
            organization=user.kindergarten.name if user.kindergarten else BUREAU_NAME,
            unit=_unit(user),
            user_id=user.username,
        )
        pending.append((user, uuid.uuid4(), private_key, certificate))
    # Every demo key is sealed under the published demo PIN, so one derivation serves them all
    # (argon2id is deliberately slow); each ciphertext still has its own nonce and account binding.
    kdf = keys.new_kdf(settings)
    derived = keys.derive(settings, DEMO_PIN, kdf)
    for user, key_id, private_key, certificate in pending:
        session.add(
            SigningKey(
                id=key_id,
                user_id=user.id,
                certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
                certificate_serial=format(certificate.serial_number, "x"),
                certificate_sha256=ca.fingerprint(certificate),
                sealed_key=keys.seal_with(derived, private_key, keys.key_aad(user.id, key_id)),
                kdf=kdf,
            )
        )
    session.flush()
    if not drawn and not pending:
        return SigningDemoReport(seals=0, keys=0, missing=missing)
    audit.append(
        session,
        entity_type="registry",
        entity_id="demo",
        event="demo_signing_loaded",
        actor=audit.SYSTEM_ACTOR,
        data={"seals": len(drawn), "signing_keys": len(pending)},
    )
    return SigningDemoReport(seals=len(drawn), keys=len(pending), missing=missing)


def _unit(user: User) -> str:
    if user.kindergarten is None:
        return user.section.name if user.section else BUREAU_SECTION
    return ROLE_LABELS[user.role]
