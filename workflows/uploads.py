"""Checking uploaded files: the type is judged by content, never by name; names are made safe."""

from __future__ import annotations

import re
import unicodedata
from typing import BinaryIO

import filetype

from storage.objects import without_bidi_controls
from workflows.errors import FieldError, ValidationFailed

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
SCAN_TYPES = {PDF: "pdf", JPEG: "jpg", PNG: "png"}
TYPE_LABELS = {PDF: "PDF", JPEG: "JPEG 图片", PNG: "PNG 图片"}
HEAD_BYTES = 8192
MAX_NAME_CHARS = 120


def sniff(stream: BinaryIO, *, allowed: dict[str, str], field: str = "file") -> str:
    """The content type of ``stream`` by its leading bytes; refuse anything not in ``allowed``.

    The stream is left at its start, so it can be stored afterwards without re-reading.
    """
    head = stream.read(HEAD_BYTES)
    stream.seek(0)
    if not head:
        raise ValidationFailed([FieldError(field, "empty_file", "文件为空，请重新选择")])
    kind = filetype.guess(head)
    mime: str | None = kind.mime if kind else None
    if mime == PDF and not head.startswith(b"%PDF-"):
        mime = None  # a PDF signature somewhere inside other content is not a PDF
    if mime not in allowed:
        wanted = "、".join(TYPE_LABELS.get(m, m) for m in allowed)
        raise ValidationFailed(
            [FieldError(field, "unsupported_type", f"文件类型不符：只接受 {wanted}（按文件内容判断）")]
        )
    return mime


_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"|?*\\/]')


def safe_filename(name: str, *, default: str = "文件", extension: str | None = None) -> str:
    """A name that is safe to show, store and unpack: no folders, control characters or tricks."""
    name = without_bidi_controls(unicodedata.normalize("NFC", name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip(" .")
    if not name:
        name = default
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    if extension is not None:
        ext = extension
    stem = stem[: MAX_NAME_CHARS - len(ext) - 1].rstrip(" .") or default
    return f"{stem}.{ext}" if ext else stem
