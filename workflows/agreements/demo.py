"""Demo signing material: specimen seals (样章), the installation CA, and a key for every demo signer.

Every demo signing account (lead1…5, pillar1…5, kg001…kg073, officer) gets a key made in the token,
released by the demo PIN 135790. A real install creates none of this: signers set their own PIN
(``POST /api/me/signing-key``) and kindergartens upload their seal scans.
"""

from __future__ import annotations

import io
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.objects import ObjectStore
from storage.settings import Settings
from storage.stores import build_object_store
from workflows import audit
from workflows.accounts.models import User
from workflows.agreements import ca, keys, token
from workflows.agreements.models import BureauSeal, SigningKey
from workflows.agreements.parties import BUREAU_NAME, BUREAU_PARTY_NAME, BUREAU_SEAL_CODE, BUREAU_SECTION
from workflows.agreements.seals import NoChineseFont, chinese_font, draw_specimen_seal
from workflows.registry.models import Kindergarten
from workflows.roles import Role
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

    try:
        authority = ca.ensure_authority(session=session, settings=settings)
    except token.TokenUnavailable as exc:
        # Without the token (softhsm2 not installed) the demo still loads; signing says what is missing.
        logger.warning("%s", exc.message)
        missing = "；".join(m for m in (missing, exc.message) if m)
        return SigningDemoReport(seals=len(drawn), keys=0, missing=missing)
    with_key = select(SigningKey.user_id).where(SigningKey.revoked_at.is_(None))
    users = list(
        session.scalars(
            select(User)
            .where(User.is_demo, User.is_active, User.role.in_(SIGNING_ROLES), User.id.not_in(with_key))
            .order_by(User.username)
        )
    )
    # Every demo key is released by the published demo PIN, so one slow hash serves them all.
    pin_hash = keys.hash_pin(settings, DEMO_PIN)
    pending = [
        keys.enrol(session=session, settings=settings, authority=authority, user=user, pin_hash=pin_hash)
        for user in users
    ]
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
