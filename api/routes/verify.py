"""Public verification of signed agreements and issued documents, by code or by uploaded file; no
sign-in. Rate-limited per client address in the database (``api.rate_limit``), counted before the
upload is looked at; the upload is hashed in chunks before the database slot is taken."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, File, Form, UploadFile

from api.deps import ObjectsDep, SessionDep, SettingsDep
from api.rate_limit import VerificationLimited
from api.routing import api_router
from workflows.agreements import verification
from workflows.agreements.schemas import VerificationOut
from workflows.agreements.verification_files import TooLarge, Upload, inspect_upload
from workflows.errors import PayloadTooLarge
from workflows.verification import VerifiedOut, find_by_code, find_by_sha256

router = api_router(tags=["verification"])


def hashed_upload(file: Annotated[UploadFile, File()], settings: SettingsDep) -> Upload:
    """The upload's SHA-256, size and kind, read in chunks from the spooled file (413 past the limit)."""
    try:
        return inspect_upload(file.file, max_bytes=settings.max_upload_bytes)
    except TooLarge:
        raise PayloadTooLarge() from None


@router.get("/verify/{code}", response_model=VerificationOut | VerifiedOut)
def verify_code(
    code: str, _: VerificationLimited, session: SessionDep, settings: SettingsDep, objects: ObjectsDep
) -> VerificationOut | VerifiedOut:
    """Re-check the archived, signed files of the agreement that carries this code."""
    result = verification.verify_code(session=session, settings=settings, objects=objects, code=code[:32])
    # Not an agreement's code: the other verifiable documents (certificates, ...) of workflows.verification.
    if not result.found and (other := find_by_code(session, code[:32])) is not None:
        return VerifiedOut.of(other)
    return result


@router.post("/verify", response_model=VerificationOut | VerifiedOut)
def verify_file(
    _: VerificationLimited,
    file: Annotated[UploadFile, File()],
    upload: Annotated[Upload, Depends(hashed_upload)],
    session: SessionDep,
    settings: SettingsDep,
    objects: ObjectsDep,
    code: Annotated[str, Form(max_length=32)] = "",
) -> VerificationOut | VerifiedOut:
    """Is this file the archived original? Which signatures hold, and which check failed if not."""
    result = verification.verify_file(
        session=session, settings=settings, objects=objects, file=file.file, upload=upload, code=code.strip() or None
    )
    if not result.found and (other := find_by_sha256(session, upload.sha256)) is not None:
        return VerifiedOut.of(other, sha256=upload.sha256)
    return result
