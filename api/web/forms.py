"""Reading HTML forms and putting every error next to the input it is about.

Errors come from two places: pydantic (a value of the wrong shape, e.g. ``credit_code``) and the
domain's ``ValidationFailed`` (e.g. ``form.name`` missing on submit, ``attachments.licence``,
``comment``). Both become ``{input name: Chinese message}``; what names no input is shown at the top.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from api.errors import PYDANTIC_MESSAGES
from workflows.errors import ValidationFailed

FieldErrors = dict[str, str]
# Domain field paths that point into the application form: "form.name" is the input "name".
FORM_PREFIX = "form."


def input_name(field: str) -> str:
    return field.removeprefix(FORM_PREFIX)


def _add(errors: FieldErrors, name: str, message: str) -> None:
    # The first problem of a field is the one to fix first; later ones would only crowd it.
    errors.setdefault(name, message)


def pydantic_errors(exc: ValidationError) -> FieldErrors:
    """Field errors of a pydantic model built from a form, in Chinese."""
    found: FieldErrors = {}
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if not isinstance(p, int)]
        name = ".".join(loc) or "form"
        if err.get("type") == "value_error":
            message = str(err.get("msg", "")).removeprefix("Value error, ")
        else:
            message = PYDANTIC_MESSAGES.get(err.get("type", ""), "内容不正确")
        _add(found, name, message)
    return found


def domain_errors(exc: ValidationFailed) -> FieldErrors:
    found: FieldErrors = {}
    for e in exc.errors:
        _add(found, input_name(e.field), e.message)
    return found


def unplaced(errors: FieldErrors, placed: set[str]) -> list[str]:
    """Messages whose field has no input on the page, for the summary at the top."""
    return [message for name, message in errors.items() if name not in placed]


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def present(form: FormData, names: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """The non-empty text values of ``names``; an empty input means "not filled in" (None)."""
    return {name: value for name in names if (value := text(form, name))}
