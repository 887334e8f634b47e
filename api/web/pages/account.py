"""我的账号: one's profile, password, signing PIN (which creates or re-seals the signing key) and seal.

The password and PIN forms are posted by htmx and answered with their errors only, swapped in next
to each field out of band: nothing typed is sent back or lost. Success reloads the page.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import File, UploadFile
from starlette.responses import Response

from api.deps import ClientAddress
from api.web import nav
from api.web import session as web_session
from api.web.deps import PASSWORD_CHANGE_PAGE, FormDep, SignedInPage, UserPage, safe_next
from api.web.forms import FieldErrors, text
from api.web.routing import web_router
from storage.objects import ObjectNotFound
from workflows.accounts import service as accounts
from workflows.accounts.models import User
from workflows.agreements import keys, seals
from workflows.certificates import service as certificates
from workflows.errors import Conflict, Forbidden, NotFound, TooManyAttempts, ValidationFailed

router = web_router()

nav.register(nav.NavItem("account", "我的账号", "/account", order=95))

PASSWORD_FIELDS = ("current_password", "new_password", "new_password_confirm")
PIN_FIELDS = ("password", "current_pin", "pin", "pin_confirm")
# Where a refusal of the service belongs on the PIN form.
PIN_ERROR_FIELDS = {"wrong_password": "password", "wrong_pin": "current_pin", "signing_key_exists": "current_pin"}


def _user(page: SignedInPage) -> User:
    user = page.db.get(User, page.viewer.user_id)
    if user is None:
        raise RuntimeError("expected user is not None")
    return user


def _field(form: FormDep, name: str) -> str:
    # Passwords and PINs are taken as typed: a leading or trailing space is part of a password.
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _errors_only(
    page: SignedInPage, form_id: str, fields: tuple[str, ...], errors: FieldErrors, form_error: str
) -> Response:
    """The answer to a refused htmx form: every field's error (or its emptiness) swapped in by id."""
    return page.fragment("account/_errors.html", form_id=form_id, fields=fields, errors=errors, form_error=form_error)


def _account_page(page: SignedInPage, **context: Any) -> Response:
    user = _user(page)
    key = keys.active_key(page.db, user.id)
    forms: dict[str, Any] = {
        "errors": {},
        "seal_error": "",
        "uploaded": False,
        "pin_form_error": "",
        "password_form_error": "",
    }
    return page.render(
        "account/index.html",
        user=user,
        may_sign=user.role in keys.SIGNING_ROLES,
        key=key,
        revoked=keys.last_revoked_key(page.db, user.id) if key is None else None,
        seal=seals.own_seal(page.db, page.viewer),
        seal_limit=seals.seal_byte_limit(page.settings),
        certificates=certificates.list_for_own_kindergarten(session=page.db, viewer=page.viewer),
        **(forms | context),
    )


@router.get("/account")
def account(page: UserPage) -> Response:
    return _account_page(page)


@router.get(PASSWORD_CHANGE_PAGE)
def password_page(page: UserPage, next: str = "/") -> Response:
    return page.render(
        "account/password.html", user=_user(page), next=safe_next(next), errors={}, password_form_error=""
    )


@router.post(PASSWORD_CHANGE_PAGE)
def change_password(page: UserPage, form: FormDep, address: ClientAddress) -> Response:
    current, new, confirm = (_field(form, name) for name in PASSWORD_FIELDS)
    errors: FieldErrors = {}
    if not current:
        errors["current_password"] = "请输入当前密码"
    if not new:
        errors["new_password"] = "请输入新密码"
    elif new != confirm:
        errors["new_password_confirm"] = "两次输入的新密码不一致"
    form_error = ""
    if not errors:
        try:
            user = accounts.change_password(
                session=page.db,
                settings=page.settings,
                user_id=page.viewer.user_id,
                current_password=current,
                new_password=new,
                address=address,
            )
        except ValidationFailed as exc:
            page.db.rollback()
            errors = {"new_password": exc.message}
        except accounts.WrongPassword:
            errors = {"current_password": "当前密码错误"}
        except TooManyAttempts as exc:
            form_error = exc.message
        else:
            target = safe_next(text(form, "next")) if page.viewer.must_change_password else "/account"
            # Every other session has ended with the old password; this browser carries on in a new one.
            page.start_session(
                web_session.signed_in(
                    page.settings, user_id=user.id, role=user.role.value, session_version=user.session_version
                )
            )
            return _done(page, target, "密码已修改")
    if page.htmx:
        return _errors_only(page, "password", PASSWORD_FIELDS, errors, form_error)
    return page.render(
        "account/password.html", user=_user(page), next=safe_next(text(form, "next")), errors=errors,
        password_form_error=form_error,
    )  # fmt: skip


def _done(page: SignedInPage, target: str, message: str) -> Response:
    """After an htmx form succeeded: the browser loads ``target``, which shows ``message`` once."""
    if page.htmx:
        page.web.add_flash(message)
        return Response(status_code=204, headers={"HX-Redirect": target})
    return page.redirect(target, message)


@router.post("/account/pin")
def set_pin(page: UserPage, form: FormDep, address: ClientAddress) -> Response:
    """Set the signing PIN (creating the key) or change it (re-sealing under a new key); password required."""
    password, current_pin, pin, confirm = (_field(form, name) for name in PIN_FIELDS)
    user = _user(page)
    has_key = keys.active_key(page.db, user.id) is not None
    errors: FieldErrors = {}
    if not password:
        errors["password"] = "请输入登录密码"
    if has_key and not current_pin:
        errors["current_pin"] = "请输入原签名密码"
    if not pin:
        errors["pin"] = "请输入新的签名密码"
    elif (problem := keys.pin_problem(pin)) is not None:
        errors["pin"] = problem
    elif pin != confirm:
        errors["pin_confirm"] = "两次输入的签名密码不一致"
    form_error = ""
    if not errors:
        try:
            keys.create_signing_key(
                session=page.db, settings=page.settings, user=user, pin=pin, password=password,
                current_pin=current_pin if has_key else None, address=address,
            )  # fmt: skip
        except ValidationFailed as exc:
            page.db.rollback()
            errors = {e.field: e.message for e in exc.errors}
        except (Forbidden, Conflict) as exc:
            field = PIN_ERROR_FIELDS.get(exc.code)
            if field is None:
                form_error = exc.message
            else:
                errors = {field: exc.message}
        except TooManyAttempts as exc:
            form_error = exc.message
        else:
            return _done(page, "/account", "签名密码已更换" if has_key else "签名密码已设置，可以在线签署协议了")
    if page.htmx:
        shown = tuple(name for name in PIN_FIELDS if has_key or name != "current_pin")
        return _errors_only(page, "pin", shown, errors, form_error)
    return _account_page(page, errors=errors, pin_form_error=form_error)


@router.post("/account/seal")
def upload_seal(page: UserPage, file: Annotated[UploadFile, File()]) -> Response:
    """Upload the kindergarten's (or, for the officer, the bureau's) seal scan; htmx swaps in the preview."""
    if seals.own_seal(page.db, page.viewer) is None:
        raise NotFound()  # researchers and administrators keep no seal
    error = ""
    try:
        if page.viewer.kindergarten_id is not None:
            seals.upload_kindergarten_seal(
                session=page.db, viewer=page.viewer, objects=page.objects, settings=page.settings,
                kindergarten_id=page.viewer.kindergarten_id, stream=file.file,
            )  # fmt: skip
        else:
            seals.upload_bureau_seal(
                session=page.db, viewer=page.viewer, objects=page.objects, settings=page.settings, stream=file.file
            )
    except ValidationFailed as exc:
        page.db.rollback()
        error = exc.message
    owned = seals.own_seal(page.db, page.viewer)
    context: dict[str, Any] = {"seal": owned, "seal_error": error, "seal_limit": seals.seal_byte_limit(page.settings)}
    if page.htmx:
        return page.fragment("account/_seal.html", **context, uploaded=not error)
    if error:
        return _account_page(page, seal_error=error)
    return page.redirect("/account", "印章图片已上传")


@router.get("/account/seal.png")
def seal_image(page: UserPage) -> Response:
    """The viewer's own seal image, for the preview on 我的账号."""
    owned = seals.own_seal(page.db, page.viewer)
    if owned is None or owned[1] is None:
        raise NotFound("尚未上传印章图片")
    try:
        content = seals.read_object(page.objects, owned[1])
    except ObjectNotFound:
        raise NotFound("尚未上传印章图片") from None
    return Response(content, media_type="image/png", headers={"Cache-Control": "private, no-cache"})
