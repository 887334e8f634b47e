"""The demo district can sign: specimen seals, the CA, and a key per demo signer under PIN 135790."""

from __future__ import annotations

from sqlalchemy import func, select

from workflows.accounts.models import User
from workflows.agreements import keys
from workflows.agreements.demo import DEMO_PIN, load_signing_demo
from workflows.agreements.models import BureauSeal, SigningAuthority, SigningKey
from workflows.registry.demo import load_demo
from workflows.registry.models import Kindergarten
from workflows.roles import Role


def test_demo_signers_have_keys_that_open_with_the_demo_pin(runtime):
    with runtime.db.session() as s:
        load_demo(session=s, settings=runtime.settings)
    with runtime.db.session() as s:
        assert s.scalar(select(func.count()).where(Kindergarten.seal_key.is_(None))) == 0
        assert s.get(BureauSeal, "chengyou") is not None and s.get(SigningAuthority, 1) is not None
        signers = list(
            s.scalars(select(User).where(User.role.in_([Role.APPLICANT, Role.LEAD, Role.PILLAR, Role.OFFICER])))
        )
        assert len(signers) == 73 + 5 + 5 + 1
        assert s.scalar(select(func.count()).select_from(SigningKey)) == len(signers)
        by_name = {u.username: u for u in signers}
        for username in ("officer", "lead1", "pillar5", "kg073"):
            unlocked = keys.unlock(session=s, settings=runtime.settings, user_id=by_name[username].id, pin=DEMO_PIN)
            assert unlocked.certificate.subject.rfc4514_string().startswith("UID=" + username)
        # Loading again creates nothing twice.
        assert load_signing_demo(session=s, settings=runtime.settings, objects=runtime.objects).keys == 0
