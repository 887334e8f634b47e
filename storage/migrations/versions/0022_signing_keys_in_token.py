"""signer and CA keys live in a PKCS#11 token

Signers' private keys were sealed in ``signing_keys`` under a key derived from the signer's PIN (and
the installation secret): whoever had the database and the secret could guess a PIN offline and sign.
They now live in the token; the database keeps the key's id in the token and a slow hash of the PIN.
A sealed key cannot be moved into the token without its PIN, so every key from before is retired
here (revoked, its sealed private key erased): its signer sets a PIN again on 我的账号, which makes
a new key in the token. Signatures made with the old keys stay valid: their certificates are kept.

The CA's key is still sealed here under the installation secret; the first use after the upgrade
moves it into the token and erases it (``workflows/agreements/ca.py``), keeping the root.

Revision ID: 0022_signing_keys_in_token
Revises: 0014_agreement_kinds_withdrawals
Create Date: 2026-12-10 10:00:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0022_signing_keys_in_token'
down_revision = '0014_agreement_kinds_withdrawals'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('signing_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_id', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('pin_hash', sa.String(length=255), nullable=False, server_default=''))
    signing_keys = sa.table('signing_keys', sa.column('revoked_at', sa.DateTime(timezone=True)))
    op.execute(
        signing_keys.update().where(signing_keys.c.revoked_at.is_(None)).values(revoked_at=sa.func.current_timestamp())
    )
    with op.batch_alter_table('signing_keys', schema=None) as batch_op:
        batch_op.alter_column('key_id', server_default=None)
        batch_op.alter_column('pin_hash', server_default=None)
        batch_op.drop_column('sealed_key')
        batch_op.drop_column('kdf')

    with op.batch_alter_table('signing_authority', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_id', sa.String(length=64), nullable=True))
        batch_op.alter_column('sealed_key', existing_type=sa.LargeBinary(), nullable=True)


def downgrade() -> None:
    # The keys in the token cannot be sealed back without their PINs: they are revoked, and their
    # signers set a PIN again under the old scheme. A CA already moved into the token cannot go back.
    authority = sa.table('signing_authority', sa.column('sealed_key', sa.LargeBinary()))
    moved = op.get_bind().scalar(sa.select(sa.func.count()).select_from(authority).where(authority.c.sealed_key.is_(None)))
    if moved:
        raise RuntimeError(
            "the CA key is in the PKCS#11 token and cannot be sealed in the database again; restore a backup instead"
        )
    with op.batch_alter_table('signing_authority', schema=None) as batch_op:
        batch_op.alter_column('sealed_key', existing_type=sa.LargeBinary(), nullable=False)
        batch_op.drop_column('key_id')

    with op.batch_alter_table('signing_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sealed_key', sa.LargeBinary(), nullable=False, server_default=sa.text("''")))
        batch_op.add_column(sa.Column('kdf', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
    signing_keys = sa.table('signing_keys', sa.column('revoked_at', sa.DateTime(timezone=True)))
    op.execute(
        signing_keys.update().where(signing_keys.c.revoked_at.is_(None)).values(revoked_at=sa.func.current_timestamp())
    )
    with op.batch_alter_table('signing_keys', schema=None) as batch_op:
        batch_op.alter_column('sealed_key', server_default=None)
        batch_op.alter_column('kdf', server_default=None)
        batch_op.drop_column('pin_hash')
        batch_op.drop_column('key_id')
