"""The one exception family of the domain; ``api/errors.py`` maps it to HTTP in one place."""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    """Base of every error a user can be shown: a stable English ``code`` and a Chinese ``message``."""

    code = "error"
    message = "操作失败"

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        self.message = message or type(self).message
        self.code = code or type(self).code
        super().__init__(self.message)


class NotFound(DomainError):
    code = "not_found"
    message = "未找到该记录，或您无权查看"


class Unauthenticated(DomainError):
    code = "not_authenticated"
    message = "请先登录"


class Forbidden(DomainError):
    """Authenticated but refused (for example a wrong signing PIN). Objects the caller may not
    see raise NotFound instead, so their existence is not revealed."""

    code = "forbidden"
    message = "无权执行此操作"


class TransitionNotAllowed(DomainError):
    code = "transition_not_allowed"
    message = "当前状态下不能执行此操作"


class StaleVersion(DomainError):
    code = "stale_version"
    message = "记录已被他人修改，请刷新后重试"


class Conflict(DomainError):
    code = "conflict"
    message = "与现有记录冲突"


class TooManyAttempts(DomainError):
    code = "too_many_attempts"
    message = "尝试次数过多，请稍后再试"

    def __init__(self, message: str | None = None, *, code: str | None = None, retry_after: int | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class PayloadTooLarge(DomainError):
    code = "payload_too_large"
    message = "文件过大"


class ServiceUnavailable(DomainError):
    code = "service_unavailable"
    message = "服务暂时不可用，请稍后重试"


@dataclass(frozen=True)
class FieldError:
    """One problem with one input field; ``field`` is a dotted path or a sheet location."""

    field: str
    code: str
    message: str


class ValidationFailed(DomainError):
    """One or more fields are missing or invalid; every problem is listed, not just the first."""

    code = "validation_failed"
    message = "提交的内容有误"

    def __init__(self, errors: list[FieldError], summary: str | None = None) -> None:
        self.errors = list(errors)
        super().__init__(summary or (errors[0].message if len(errors) == 1 else None))

    @classmethod
    def single(cls, field_name: str, code: str, message: str) -> ValidationFailed:
        return cls([FieldError(field_name, code, message)], summary=message)
