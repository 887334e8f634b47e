"""File checks before archiving (四性检测, the usability and security parts): can the file be opened,
and is it free of macros, encryption, unsafe zip members and decompression bombs.

Checks read the file in bounded pieces: a non-seekable stream is spooled to a temporary file first,
zip members are judged from the central directory before anything is decompressed and Office parts
are parsed as streams under element and depth limits (``workflows.untrusted``), and images are
measured from their header before their pixels are decoded.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, cast

from PIL import Image

from storage.bundles import check_member_path
from storage.objects import CHUNK_SIZE
from workflows.untrusted import Limits, UnsafeFile, UntrustedArchive

# Zip-bomb guard, applied to the declared sizes before any member is decompressed.
MAX_ZIP_MEMBERS = 10_000
MAX_ZIP_UNCOMPRESSED = 1 << 30
MAX_ZIP_RATIO = 100
RATIO_FLOOR = 1 << 20  # small members may compress extremely well without harm
ARCHIVE_LIMITS = Limits(
    max_members=MAX_ZIP_MEMBERS,
    max_member_bytes=MAX_ZIP_UNCOMPRESSED,
    max_total_bytes=MAX_ZIP_UNCOMPRESSED,
    max_ratio=MAX_ZIP_RATIO,
    ratio_floor=RATIO_FLOOR,
)
# Image size limits, read from the header before decoding. JPEGs are decoded at 1/8 scale (every
# scan is still read), so phone photos up to Pillow's own refusal threshold pass; other formats are
# decoded whole, so they get a lower bound.
MAX_JPEG_PIXELS = 2 * (Image.MAX_IMAGE_PIXELS or 89_478_485)
MAX_IMAGE_PIXELS = 50_000_000
SPOOL_IN_MEMORY = 8 << 20

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
OOXML_SUFFIXES = {"docx", "docm", "xlsx", "xlsm", "pptx", "pptm"}
OLE_SUFFIXES = {"doc", "xls", "ppt"}
IMAGE_SUFFIXES = {"jpg", "jpeg", "png", "gif", "bmp", "webp", "tif", "tiff"}
MP4_SUFFIXES = {"mp4", "m4v", "mov"}
_MACRO_TYPES = re.compile(rb"macroEnabled|vnd\.ms-office\.vbaProject", re.IGNORECASE)
_PDF_ENCRYPT = re.compile(rb"/Encrypt\s*(?:\d+\s+\d+\s+R|<<)")
_PDF_ACTIVE = re.compile(rb"/(?:JavaScript|JS|Launch)\b")
_OVERLAP = 64

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckResult:
    """``usable``: opens as its type and matches its recorded hash; ``secure``: nothing active or hidden."""

    usable: bool
    secure: bool
    problems: list[str] = field(default_factory=list)


class _Findings:
    def __init__(self) -> None:
        self.usable = True
        self.secure = True
        self.problems: list[str] = []

    def unusable(self, problem: str) -> None:
        self.usable = False
        self.problems.append(problem)

    def insecure(self, problem: str) -> None:
        self.secure = False
        self.problems.append(problem)


def safe_member_path(path: str) -> bool:
    """True if ``path`` is a relative archive member path that cannot escape the folder it unpacks into."""
    try:
        check_member_path(path)
    except ValueError:
        return False
    return True


def check_file(stream: BinaryIO, *, filename: str, expected_sha256: str | None) -> CheckResult:
    """Check one file for usability and security; problems are worded for the archivist, in Chinese."""
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    found = _Findings()
    with _seekable(stream) as (file, sha256, size):
        if expected_sha256 is not None and sha256 != expected_sha256.lower():
            found.unusable("文件校验值（SHA-256）与登记值不符，文件可能已被修改或损坏")
        if size == 0:
            found.unusable("文件为空")
            return _result(found)
        head = file.read(8)
        file.seek(0)
        if head == OLE_MAGIC and suffix in OOXML_SUFFIXES | OLE_SUFFIXES:
            _check_ole(file, suffix, found)
        elif suffix in OOXML_SUFFIXES:
            _check_ooxml(file, suffix, found)
        elif suffix == "zip":
            _check_zip(file, found)
        elif suffix in IMAGE_SUFFIXES:
            _check_image(file, found)
        elif suffix == "pdf":
            _check_pdf(file, size, found)
        elif suffix in MP4_SUFFIXES:
            _check_mp4(file, size, found)
    return _result(found)


def _result(found: _Findings) -> CheckResult:
    return CheckResult(usable=found.usable, secure=found.secure, problems=found.problems)


@contextlib.contextmanager
def _seekable(stream: BinaryIO) -> Iterator[tuple[BinaryIO, str, int]]:
    """The stream from its start, seekable (spooled unless it is seekable at 0), with its SHA-256 and size."""
    direct = getattr(stream, "seekable", lambda: False)() and stream.tell() == 0
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
        target = stream if direct else cast(BinaryIO, spool)
        digest, size = hashlib.sha256(), 0
        while chunk := stream.read(CHUNK_SIZE):
            digest.update(chunk)
            size += len(chunk)
            if not direct:
                spool.write(chunk)
        target.seek(0)
        try:
            yield target, digest.hexdigest(), size
        finally:
            if direct:
                stream.seek(0)


def _check_ole(file: BinaryIO, suffix: str, found: _Findings) -> None:
    """An OLE compound file: legacy Office, or an encrypted OOXML package (an EncryptedPackage stream)."""
    names = _scan(
        file, [re.compile(re.escape(name.encode("utf-16-le"))) for name in ("EncryptedPackage", "_VBA_PROJECT")]
    )
    if names[0] or suffix in OOXML_SUFFIXES:
        found.insecure("文件已加密（设有打开密码），无法检查内容，也无法长期保存")
        found.unusable("文件已加密，打开需要密码")
    if names[1]:
        found.insecure("文件含有宏（VBA 代码），归档文件不得含有可执行内容")


def _zip_members(file: BinaryIO, found: _Findings) -> UntrustedArchive | None:
    """Open the zip's directory and apply the path and bomb checks; None if it must not be parsed further."""
    try:
        archive = UntrustedArchive(file, ARCHIVE_LIMITS)
    except UnsafeFile as exc:
        if exc.code == "not_a_package":
            found.unusable("文件已损坏：不是完整的 ZIP/Office 文件")
        else:
            found.insecure("压缩包解压后体积异常（疑似“压缩炸弹”），未予解析")
            found.unusable("压缩包解压后体积异常，无法安全打开")
        return None
    unsafe = [name for name in archive.names() if not safe_member_path(name)]
    if unsafe:
        found.insecure(f"压缩包内含有不安全的路径：{'、'.join(unsafe[:3])}")
    if archive.encrypted:
        found.insecure("压缩包内有加密的文件")
    return archive


def _check_zip(file: BinaryIO, found: _Findings) -> None:
    archive = _zip_members(file, found)
    if archive is not None:
        archive.close()


def _check_ooxml(file: BinaryIO, suffix: str, found: _Findings) -> None:
    archive = _zip_members(file, found)
    if archive is None:
        return
    with archive:
        names = {name.lower(): name for name in archive.names()}
        try:
            content_types = (
                archive.read(names["[content_types].xml"], limit=1 << 20) if "[content_types].xml" in names else b""
            )
        except UnsafeFile:
            content_types = b""
        if (
            suffix.endswith("m")
            or any(n.rsplit("/", 1)[-1] == "vbaproject.bin" for n in names)
            or _MACRO_TYPES.search(content_types)
        ):
            found.insecure("文件含有宏（VBA 代码），归档文件不得含有可执行内容")
        main_parts = _OOXML_MAIN_PARTS.get(suffix[:3] + "x")
        if main_parts is None:
            if "ppt/presentation.xml" not in names:
                found.unusable("演示文稿已损坏：缺少 ppt/presentation.xml")
            return
        label = "Word 文档" if suffix.startswith("doc") else "Excel 表格"
        try:
            # Opening means its main parts are there and parse, streamed under the element and depth limits.
            for prefix in main_parts:
                parts = [name for lower, name in names.items() if lower == prefix or lower.startswith(prefix)]
                if not parts:
                    raise UnsafeFile("missing_part", f"缺少 {prefix}")
                for part in parts:
                    archive.check_xml(part)
        except UnsafeFile as exc:
            logger.info("%s does not open: %s", suffix, exc.code)
            if exc.code == "xml_too_complex":
                found.insecure(f"{label}结构异常（元素过多或嵌套过深），未予解析")
            found.unusable(f"{label}无法打开：文件结构损坏，或内容与扩展名不符")


# The parts that must be present and well-formed for a package to open (a prefix ending in "/" is a folder).
_OOXML_MAIN_PARTS: dict[str, tuple[str, ...]] = {
    "docx": ("word/document.xml",),
    "xlsx": ("xl/workbook.xml", "xl/worksheets/"),
}


def _check_image(file: BinaryIO, found: _Findings) -> None:
    try:
        with warnings.catch_warnings():
            # Pillow warns from ~89 MP; the limits below decide instead (it still refuses past twice that).
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(file) as image:
                width, height = image.size
                limit = MAX_JPEG_PIXELS if image.format == "JPEG" else MAX_IMAGE_PIXELS
                if width * height > limit:
                    found.insecure(f"图片尺寸异常（{width}×{height} 像素），疑似“解压炸弹”，未予解码")
                    found.unusable("图片尺寸过大，无法安全打开")
                    return
                image.verify()
            file.seek(0)
            with Image.open(file) as image:
                if image.format == "JPEG":
                    image.draft(image.mode, (max(width // 8, 1), max(height // 8, 1)))
                image.load()
    except Image.DecompressionBombError:
        found.insecure("图片尺寸异常，疑似“解压炸弹”，未予解码")
        found.unusable("图片尺寸过大，无法安全打开")
    except Exception:  # Pillow raises many kinds for a broken file
        logger.info("image does not open", exc_info=True)
        found.unusable("图片已损坏或不完整，无法打开")


def _check_pdf(file: BinaryIO, size: int, found: _Findings) -> None:
    head = file.read(1024)
    file.seek(max(size - 1024, 0))
    tail = file.read()
    if b"%PDF-" not in head:
        found.unusable("不是有效的 PDF 文件：缺少 %PDF 文件头")
    if b"%%EOF" not in tail:
        found.unusable("PDF 文件不完整：缺少 %%EOF 结束标记")
    encrypted, active = _scan(file, [_PDF_ENCRYPT, _PDF_ACTIVE])
    if encrypted:
        found.insecure("PDF 已加密，无法检查内容，也无法长期保存")
    if active:
        found.insecure("PDF 含有脚本或启动动作（JavaScript/Launch）")


def _check_mp4(file: BinaryIO, size: int, found: _Findings) -> None:
    """Walk the top-level boxes: ftyp first, a moov somewhere, the last box ending at the end of the file."""
    offset, boxes = 0, []
    while offset < size:
        file.seek(offset)
        header = file.read(16)
        if len(header) < 8:
            break
        box_size, kind = int.from_bytes(header[:4], "big"), header[4:8]
        if box_size == 1 and len(header) == 16:
            box_size = int.from_bytes(header[8:16], "big")
        elif box_size == 0:
            box_size = size - offset
        if box_size < 8:
            break
        boxes.append(kind)
        offset += box_size
    if not boxes or boxes[0] != b"ftyp":
        found.unusable("不是有效的 MP4 视频：缺少 ftyp 文件头")
    elif offset != size:
        found.unusable("视频文件不完整（被截断）")
    elif b"moov" not in boxes:
        found.unusable("视频文件缺少索引（moov），无法播放")


def _scan(file: BinaryIO, patterns: list[re.Pattern[bytes]]) -> list[bool]:
    """Which of ``patterns`` occur anywhere in the file, read chunk by chunk with a small overlap."""
    hits = [False] * len(patterns)
    file.seek(0)
    carry = b""
    while chunk := file.read(CHUNK_SIZE):
        window = carry + chunk
        for i, pattern in enumerate(patterns):
            hits[i] = hits[i] or pattern.search(window) is not None
        carry = window[-_OVERLAP:]
    file.seek(0)
    return hits
