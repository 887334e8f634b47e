"""What an uploaded activity material really is, judged by its content before anything is stored.

Word files are zip packages, so they are opened as such (``workflows.untrusted``), but only their
central directory and ``[Content_Types].xml`` are read, in the request: a package is refused before anything is decompressed when it
declares too many members, too many bytes in total, or a member that expands suspiciously (a zip
bomb), when it carries macros (a .docm renamed .docx: a macro-enabled main part or vbaProject.bin),
when it is encrypted, or when it is not a Word document at all.
"""

from __future__ import annotations

from typing import BinaryIO

import filetype

from workflows.errors import FieldError, ValidationFailed
from workflows.untrusted import Limits, UnsafeFile, UntrustedArchive
from workflows.uploads import HEAD_BYTES, JPEG, PDF, PNG

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MP4 = "video/mp4"
EXTENSIONS = {DOCX: "docx", PDF: "pdf", JPEG: "jpg", PNG: "png", MP4: "mp4"}
TYPE_LABELS = {DOCX: "Word 文档（.docx）", PDF: "PDF", JPEG: "JPEG 图片", PNG: "PNG 图片", MP4: "MP4 视频"}
MEDIA_TYPES = frozenset({JPEG, PNG, MP4})

# Limits for a Word package, checked on the declared sizes before any member is inflated.
MAX_MEMBERS = 2000
MAX_EXPANDED_BYTES = 256 * 1024 * 1024
MAX_RATIO = 200  # real documents stay far below; zip bombs run to the thousands
RATIO_FLOOR = 1024 * 1024  # small members may compress extremely well (runs of spaces) and are harmless
MAX_CONTENT_TYPES_BYTES = 1024 * 1024

_WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_MACRO_MARKERS = ("macroenabled", "vbaproject", "vbadata", "activex")
_CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
WORD_LIMITS = Limits(
    max_members=MAX_MEMBERS,
    max_member_bytes=MAX_EXPANDED_BYTES,
    max_total_bytes=MAX_EXPANDED_BYTES,
    max_ratio=MAX_RATIO,
    ratio_floor=RATIO_FLOOR,
    max_elements=100_000,
)


def _refuse(code: str, message: str, field: str) -> ValidationFailed:
    return ValidationFailed([FieldError(field, code, message)])


def sniff_material(stream: BinaryIO, *, allowed: frozenset[str], field: str = "file") -> str:
    """The content type of ``stream`` (one of ``allowed``), judged by content; the stream is rewound."""
    head = stream.read(HEAD_BYTES)
    stream.seek(0)
    if not head:
        raise _refuse("empty_file", "文件为空（0 字节），请重新选择", field)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        mime: str | None = DOCX if DOCX in allowed else None
        if mime is not None:
            check_word_package(stream, field=field)
    else:
        kind = filetype.guess(head)
        mime = kind.mime if kind else None
        if mime == PDF and not head.startswith(b"%PDF-"):
            mime = None  # a PDF signature somewhere inside other content is not a PDF
    if mime not in allowed:
        wanted = "、".join(TYPE_LABELS[m] for m in sorted(allowed, key=list(TYPE_LABELS).index))
        raise _refuse("unsupported_type", f"文件类型不符：此类材料只接受 {wanted}（按文件内容判断）", field)
    return mime


def check_word_package(stream: BinaryIO, *, field: str = "file") -> None:
    """Refuse a Word package that is a zip bomb, macro-bearing, encrypted or not Word; rewinds."""
    try:
        with UntrustedArchive(stream, WORD_LIMITS) as package:
            if package.encrypted:
                raise _refuse("encrypted_document", "文件已加密，请去除密码后再上传", field)
            names = {name.lower(): name for name in package.names()}
            if any(name.rsplit("/", 1)[-1] in ("vbaproject.bin", "vbadata.xml") for name in names):
                raise _refuse("macro_document", "文件含有宏（可能是改名的 .docm），请另存为普通 .docx 后上传", field)
            if "[content_types].xml" not in names:
                raise _refuse("not_word_document", "文件不是有效的 Word 文档", field)
            content_types = package.read(names["[content_types].xml"], limit=MAX_CONTENT_TYPES_BYTES)
            if any(marker in content_types.lower().decode("utf-8", "replace") for marker in _MACRO_MARKERS):
                raise _refuse("macro_document", "文件含有宏（可能是改名的 .docm），请另存为普通 .docx 后上传", field)
            kinds = {
                element.get("ContentType", "")
                for event, element in package.iterparse(names["[content_types].xml"])
                if event == "start" and element.tag == f"{_CT}Override"
            }
    except UnsafeFile as exc:
        if exc.code in ("not_a_package", "malformed_xml", "missing_part", "damaged_member"):
            raise _refuse("not_word_document", "文件已损坏或不是有效的 Word 文档", field) from None
        if exc.code == "encrypted":
            raise _refuse("encrypted_document", "文件已加密，请去除密码后再上传", field) from None
        if exc.code in ("too_many_members", "part_too_large"):
            raise _refuse("suspicious_archive", "文件结构异常（解压后体积过大，疑似压缩炸弹），已拒收", field) from None
        raise exc.refusal(field) from None
    finally:
        stream.seek(0)
    if _WORD_MAIN not in kinds:
        raise _refuse("not_word_document", "文件不是 Word 文档（.docx）", field)
