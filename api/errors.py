"""Domain errors to HTTP, in one place. Bodies carry a stable English ``code`` and a Chinese ``message``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from storage.objects import ObjectNotFound, ObjectStoreUnavailable, ObjectTooLarge
from workflows import errors

log = logging.getLogger(__name__)

STATUS = {
    errors.NotFound: 404,
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.TransitionNotAllowed: 409,
    errors.StaleVersion: 409,
    errors.Conflict: 409,
    errors.ValidationFailed: 422,
    errors.PayloadTooLarge: 413,
    errors.TooManyAttempts: 429,
    errors.ServiceUnavailable: 503,
}

# Chinese wording for pydantic's error types, so a clerk reads what to fix.
PYDANTIC_MESSAGES = {
    "missing": "此项必填",
    "string_too_short": "内容过短",
    "string_too_long": "内容过长",
    "string_type": "须为文字",
    "string_pattern_mismatch": "格式不正确",
    "int_parsing": "须为整数",
    "int_type": "须为整数",
    "float_parsing": "须为数字",
    "bool_parsing": "须为是或否",
    "bool_type": "须为是或否",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "datetime_parsing": "时间格式不正确",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
    "greater_than": "数值过小",
    "less_than": "数值过大",
    "enum": "不是允许的选项",
    "literal_error": "不是允许的选项",
    "uuid_parsing": "编号格式不正确",
    "uuid_type": "编号格式不正确",
    "list_type": "须为列表",
    "json_invalid": "请求内容不是有效的 JSON",
    "model_attributes_type": "请求内容格式不正确",
    "dict_type": "请求内容格式不正确",
    "extra_forbidden": "不允许的字段",
    "value_error": "内容不正确",
}


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "message": message, **extra}


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def _validation_message(err: dict[str, Any]) -> str:
    if err.get("type") == "value_error":
        # Our own validators raise ValueError with a Chinese message; pydantic prefixes it.
        return str(err.get("msg", "")).removeprefix("Value error, ")
    return PYDANTIC_MESSAGES.get(err.get("type", ""), "内容不正确")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(errors.DomainError)
    async def _domain(_: Request, exc: errors.DomainError) -> JSONResponse:
        status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
        extra: dict[str, Any] = {}
        if isinstance(exc, errors.ValidationFailed):
            extra["errors"] = [{"field": e.field, "code": e.code, "message": e.message} for e in exc.errors]
        headers = None
        if isinstance(exc, errors.TooManyAttempts) and exc.retry_after:
            headers = {"Retry-After": str(exc.retry_after)}
        return JSONResponse(error_body(exc.code, exc.message, **extra), status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _request_validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        items = [
            {
                "field": _field_name(tuple(e.get("loc", ()))),
                "code": e.get("type", "invalid"),
                "message": _validation_message(e),
            }
            for e in exc.errors()
        ]
        summary = "；".join(f"{i['field']}：{i['message']}" for i in items[:5])
        return JSONResponse(error_body("validation_failed", summary or "提交的内容有误", errors=items), status_code=422)

    app.add_exception_handler(StarletteHTTPException, http_error_json)  # type: ignore[arg-type]

    @app.exception_handler(ObjectTooLarge)
    async def _too_large(_: Request, exc: ObjectTooLarge) -> JSONResponse:
        return JSONResponse(error_body("payload_too_large", _too_large_message(exc.limit)), status_code=413)

    @app.exception_handler(ObjectStoreUnavailable)
    async def _store_down(_: Request, exc: ObjectStoreUnavailable) -> JSONResponse:
        log.warning("object store unavailable: %s", exc)
        return JSONResponse(
            error_body("object_store_unavailable", "文件存储服务暂时不可用，请稍后重试"),
            status_code=503,
            headers={"Retry-After": "30"},
        )

    @app.exception_handler(ObjectNotFound)
    async def _object_missing(_: Request, exc: ObjectNotFound) -> JSONResponse:
        log.error("object missing from store: %s", exc)
        return JSONResponse(error_body("object_missing", "文件在存储中缺失，请联系管理员"), status_code=500)


async def http_error_json(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    """An HTTP error (no such route, method not allowed, …) as the API answers it."""
    if isinstance(exc.detail, dict):
        body = exc.detail
    else:
        body = error_body(
            HTTP_CODES.get(exc.status_code, "http_error"), HTTP_MESSAGES.get(exc.status_code, str(exc.detail))
        )
    return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))


def _too_large_message(limit: int) -> str:
    return f"文件过大：不能超过 {limit / 1024 / 1024:.0f} MB"


HTTP_CODES = {
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    429: "too_many_attempts",
}
HTTP_MESSAGES = {
    401: "请先登录",
    403: "无权执行此操作",
    404: "未找到该记录，或您无权查看",
    405: "不支持的请求方式",
    413: "请求内容过大",
    429: "请求过于频繁，请稍后再试",
}
