"""Signing keys, seal images and the installation CA certificate."""

from __future__ import annotations

import uuid
from typing import Annotated

from cryptography.hazmat.primitives import serialization
from fastapi import File, Query, Response, UploadFile
from pydantic import BaseModel

from api.deps import ClientAddress, CurrentViewer, ObjectsDep, SessionDep, SettingsDep
from api.routing import api_router
from workflows.accounts.models import User
from workflows.accounts.schemas import UserOut
from workflows.agreements import ca, keys, seals
from workflows.agreements.schemas import SigningKeyIn, SigningKeyOut
from workflows.agreements.views import signing_key_out
from workflows.errors import NotFound

router = api_router(tags=["signing"])


class SealOut(BaseModel):
    owner: str
    seal_key: str


class SigningKeyHolderOut(BaseModel):
    user: UserOut
    key: SigningKeyOut


@router.post("/me/signing-key", response_model=SigningKeyOut, status_code=201)
def create_signing_key(
    body: SigningKeyIn, session: SessionDep, settings: SettingsDep, viewer: CurrentViewer, address: ClientAddress
) -> SigningKeyOut:
    """Create the caller's key pair in the signing token and its certificate, released by a signing PIN (6–12 digits).

    The account password is required; replacing a key also needs its ``current_pin``, and a wrong one
    counts against the same lockout as a wrong PIN when signing (403 ``wrong_pin``, then 429)."""
    user = session.get(User, viewer.user_id)
    if user is None:
        raise RuntimeError("expected user is not None")
    record = keys.create_signing_key(
        session=session,
        settings=settings,
        user=user,
        pin=body.pin.get_secret_value(),
        password=body.password.get_secret_value(),
        current_pin=body.current_pin.get_secret_value() if body.current_pin else None,
        address=address,
    )
    return signing_key_out(record)


@router.get("/signing-keys", response_model=list[SigningKeyHolderOut])
def list_signing_keys(
    session: SessionDep, viewer: CurrentViewer, q: Annotated[str, Query(max_length=100)] = ""
) -> list[SigningKeyHolderOut]:
    """Every active signing key and whose it is (officer, admin): revoke one to make its user enrol again."""
    return [
        SigningKeyHolderOut(user=UserOut.of(user), key=signing_key_out(key))
        for key, user in keys.list_active_keys(session=session, viewer=viewer, query=q.strip())
    ]


@router.get("/me/signing-key", response_model=SigningKeyOut)
def get_signing_key(session: SessionDep, viewer: CurrentViewer) -> SigningKeyOut:
    record = keys.active_key(session, viewer.user_id)
    if record is None:
        raise NotFound("您尚未设置签名密钥")
    return signing_key_out(record)


@router.put("/kindergartens/{kindergarten_id}/seal", response_model=SealOut)
def upload_kindergarten_seal(
    kindergarten_id: uuid.UUID,
    file: Annotated[UploadFile, File()],
    session: SessionDep,
    settings: SettingsDep,
    objects: ObjectsDep,
    viewer: CurrentViewer,
) -> SealOut:
    """A kindergarten's seal scan (PNG), by its own accounts or the bureau."""
    k = seals.upload_kindergarten_seal(
        session=session, viewer=viewer, objects=objects, settings=settings, kindergarten_id=kindergarten_id,
        stream=file.file,
    )  # fmt: skip
    return SealOut(owner=k.name, seal_key=k.seal_key or "")


@router.put("/bureau/seal", response_model=SealOut)
def upload_bureau_seal(
    file: Annotated[UploadFile, File()],
    session: SessionDep,
    settings: SettingsDep,
    objects: ObjectsDep,
    viewer: CurrentViewer,
) -> SealOut:
    """The bureau's (成幼科) seal scan (PNG), used for the supervising party."""
    seal = seals.upload_bureau_seal(
        session=session, viewer=viewer, objects=objects, settings=settings, stream=file.file
    )
    return SealOut(owner=seal.name, seal_key=seal.seal_key)


@router.get("/ca.pem", response_class=Response)
def authority_certificate(session: SessionDep, settings: SettingsDep) -> Response:
    """The installation CA certificate (public): verify signatures with ``openssl cms -verify -CAfile ca.pem``."""
    certificate = ca.authority_certificate(session=session, settings=settings)
    return Response(
        certificate.public_bytes(serialization.Encoding.PEM),
        media_type="application/x-pem-file",
        headers={"Content-Disposition": 'attachment; filename="kinderflow-ca.pem"'},
    )
