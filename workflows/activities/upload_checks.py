"""What an uploaded activity material really is, judged by its content before anything is stored.

Word files are zip packages, so they are opened as such, but only their central directory and
``[Content_Types].xml`` are read: a package is refused before anything is decompressed when it
declares too many members, too many bytes in total, or a member that expands suspiciously (a zip
bomb), when it carries macros (a .docm renamed .docx: a macro-enabled main part or vbaProject.bin),
when it is encrypted, or when it is not a Word document at all.
"""

from __future__ import annotations

import zipfile
from typing import BinaryIO

import filetype
from lxml import etree

from workflows.errors import FieldError, ValidationFailed
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
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)


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
        with zipfile.ZipFile(stream) as package:
            members = package.infolist()
            _check_sizes(members, field)
            names = {m.filename.lower(): m for m in members}
            if any(m.flag_bits & 0x1 for m in members):
                raise _refuse("encrypted_document", "文件已加密，请去除密码后再上传", field)
            if any(name.rsplit("/", 1)[-1] in ("vbaproject.bin", "vbadata.xml") for name in names):
                raise _refuse("macro_document", "文件含有宏（可能是改名的 .docm），请另存为普通 .docx 后上传", field)
            info = names.get("[content_types].xml")
            if info is None:
                raise _refuse("not_word_document", "文件不是有效的 Word 文档", field)
            with package.open(info) as member:
                content_types = member.read(MAX_CONTENT_TYPES_BYTES + 1)
    except zipfile.BadZipFile:
        raise _refuse("not_word_document", "文件已损坏或不是有效的 Word 文档", field) from None
    finally:
        stream.seek(0)
    _check_content_types(content_types, field)


def _check_sizes(members: list[zipfile.ZipInfo], field: str) -> None:
    suspicious = _refuse("suspicious_archive", "文件结构异常（解压后体积过大，疑似压缩炸弹），已拒收", field)
    if len(members) > MAX_MEMBERS:
        raise suspicious
    if sum(m.file_size for m in members) > MAX_EXPANDED_BYTES:
        raise suspicious
    for m in members:
        if m.file_size > RATIO_FLOOR and m.file_size > MAX_RATIO * max(m.compress_size, 1):
            raise suspicious
    if any(m.filename.lower() == "[content_types].xml" and m.file_size > MAX_CONTENT_TYPES_BYTES for m in members):
        raise suspicious


def _check_content_types(content_types: bytes, field: str) -> None:
    if len(content_types) > MAX_CONTENT_TYPES_BYTES:
        raise _refuse("suspicious_archive", "文件结构异常，已拒收", field)
    if any(marker in content_types.lower().decode("utf-8", "replace") for marker in _MACRO_MARKERS):
        raise _refuse("macro_document", "文件含有宏（可能是改名的 .docm），请另存为普通 .docx 后上传", field)
    try:
        root = etree.fromstring(content_types, _XML_PARSER)
    except etree.XMLSyntaxError:
        raise _refuse("not_word_document", "文件不是有效的 Word 文档", field) from None
    kinds = {o.get("ContentType", "") for o in root.iter(f"{_CT}Override")}
    if _WORD_MAIN not in kinds:
        raise _refuse("not_word_document", "文件不是 Word 文档（.docx）", field)
