"""Opening files the service did not produce (uploaded .docx, .xlsx and zip packages), with limits.

Every reader of an uploaded Office package or zip goes through here, and nothing here trusts the
file: the zip's end record is read before its central directory (so a directory of a million
entries is refused, not parsed), every member's declared size, the total and the compression ratio
are bounded before anything is inflated, members are read as bounded streams (never ``read()``
whole), and XML is parsed incrementally by a hardened lxml parser (no DTD, no entities, no network,
no huge trees) that counts elements and nesting depth and forgets what it has passed. What breaks a
limit, or is not what it claims to be, raises ``UnsafeFile`` with a Chinese message; callers turn it
into a 422 on their field (``UnsafeFile.refusal``) or a failed check.

Limits are per use: a verification upload only ever needs its main part, an import workbook a few
sheets, an archived material whatever it holds.
"""

from __future__ import annotations

import contextlib
import lzma
import re
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, cast

from lxml import etree

from workflows.errors import FieldError, ValidationFailed

CHUNK = 64 * 1024
SPOOL_IN_MEMORY = 1 << 20
# A central directory entry is 46 bytes plus its name and extra fields; Office packages use short names.
DIRECTORY_BYTES_PER_MEMBER = 1024
_EOCD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_EOCD = b"PK\x06\x06"


@dataclass(frozen=True)
class Limits:
    """How much of an untrusted package may be read."""

    max_members: int = 2_000
    max_member_bytes: int = 64 << 20
    max_total_bytes: int = 256 << 20
    # Real documents compress a few times; zip bombs by hundreds or thousands. Small members may
    # compress extremely well (a run of spaces) and are harmless, so the ratio applies above the floor.
    max_ratio: int = 200
    ratio_floor: int = 1 << 20
    max_elements: int = 2_000_000
    max_depth: int = 200


DEFAULT_LIMITS = Limits()


class UnsafeFile(Exception):
    """An untrusted file refused: a stable English ``code`` and a Chinese ``message``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def refusal(self, field: str = "file") -> ValidationFailed:
        """The same refusal as a 422 on ``field``."""
        return ValidationFailed([FieldError(field, self.code, self.message)])


def _bomb() -> UnsafeFile:
    return UnsafeFile("suspicious_archive", "文件解压后体积过大或压缩比异常（疑似“压缩炸弹”），未予读取")


def _not_zip() -> UnsafeFile:
    return UnsafeFile("not_a_package", "文件已损坏，或不是有效的 Office 文档（.docx/.xlsx）或 ZIP 压缩包")


def _zip64_directory(file: BinaryIO, eocd_at: int) -> tuple[int, int]:
    """(entries, directory size) from the ZIP64 end record that the locator before ``eocd_at`` points to."""
    if eocd_at < 20:
        raise _not_zip()
    file.seek(eocd_at - 20)
    locator = file.read(20)
    if not locator.startswith(_ZIP64_LOCATOR):
        raise _not_zip()
    file.seek(int.from_bytes(locator[8:16], "little"))
    record = file.read(56)
    if len(record) < 56 or not record.startswith(_ZIP64_EOCD):
        raise _not_zip()
    return int.from_bytes(record[32:40], "little"), int.from_bytes(record[40:48], "little")


def declared_directory(file: BinaryIO) -> tuple[int, int]:
    """(entries, central directory bytes) as the end record declares them, read from the file's tail."""
    file.seek(0, 2)
    size = file.tell()
    tail_length = min(size, 22 + 0xFFFF)
    file.seek(size - tail_length)
    tail = file.read(tail_length)
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < 22:
        raise _not_zip()
    entries = int.from_bytes(tail[at + 10 : at + 12], "little")
    directory = int.from_bytes(tail[at + 12 : at + 16], "little")
    if entries == 0xFFFF or directory == 0xFFFFFFFF:
        entries, directory = _zip64_directory(file, size - tail_length + at)
    return entries, directory


class _BoundedMember:
    """A member's bytes as a stream that refuses to give more than ``limit`` bytes."""

    def __init__(self, stream: BinaryIO, limit: int) -> None:
        self._stream, self._limit, self.consumed = stream, limit, 0

    def read(self, size: int = -1) -> bytes:
        want = CHUNK if size is None or size < 0 else min(size, CHUNK * 4)
        try:
            data = self._stream.read(want)
        except (
            zipfile.BadZipFile,
            zlib.error,
            lzma.LZMAError,
            EOFError,
            OSError,
            ValueError,
            NotImplementedError,
        ) as exc:
            raise UnsafeFile("damaged_member", "文件已损坏：压缩包内的部分内容无法解压") from exc
        self.consumed += len(data)
        if self.consumed > self._limit:
            raise _bomb()
        return data

    def close(self) -> None:
        self._stream.close()


class UntrustedArchive:
    """A zip package opened under ``limits``: its directory is judged before any member is inflated."""

    def __init__(self, file: BinaryIO, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        entries, directory = declared_directory(file)
        if entries > limits.max_members or directory > limits.max_members * DIRECTORY_BYTES_PER_MEMBER:
            raise UnsafeFile("too_many_members", "压缩包内的文件过多，未予读取")
        file.seek(0)
        try:
            self._zip = zipfile.ZipFile(file)
        except Exception as exc:  # whatever zipfile trips over, the directory is not a zip's
            raise _not_zip() from exc
        members = [m for m in self._zip.infolist() if not m.is_dir()]
        if len(members) > limits.max_members:
            raise UnsafeFile("too_many_members", "压缩包内的文件过多，未予读取")
        if sum(m.file_size for m in members) > limits.max_total_bytes:
            raise _bomb()
        for member in members:
            dense = member.file_size > limits.ratio_floor and member.file_size > limits.max_ratio * max(
                member.compress_size, 1
            )
            if member.file_size > limits.max_member_bytes or dense:
                raise _bomb()
        self.members = members
        self._by_name = {m.filename: m for m in members}

    def __enter__(self) -> UntrustedArchive:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()

    @property
    def encrypted(self) -> bool:
        return any(m.flag_bits & 0x1 for m in self.members)

    def names(self) -> list[str]:
        return list(self._by_name)

    def has(self, name: str) -> bool:
        return name in self._by_name

    def size_of(self, name: str) -> int:
        return self._by_name[name].file_size

    @contextlib.contextmanager
    def open(self, name: str, *, limit: int | None = None) -> Iterator[_BoundedMember]:
        """The member ``name`` as a bounded stream (zipfile also stops at the declared size)."""
        member = self._by_name.get(name)
        if member is None:
            raise UnsafeFile("missing_part", f"文件不完整：缺少 {name}")
        if member.flag_bits & 0x1:
            raise UnsafeFile("encrypted", "文件已加密，请去除密码后再上传")
        try:
            raw = self._zip.open(member)
        except (zipfile.BadZipFile, NotImplementedError, OSError, ValueError) as exc:
            raise UnsafeFile("damaged_member", f"文件已损坏：{name} 无法解压") from exc
        stream = _BoundedMember(cast(BinaryIO, raw), limit or self.limits.max_member_bytes)
        try:
            yield stream
        finally:
            stream.close()

    def read(self, name: str, *, limit: int) -> bytes:
        """A small member whole (a content-types list, a style sheet); refused when larger than ``limit``."""
        if self._by_name.get(name) is not None and self._by_name[name].file_size > limit:
            raise UnsafeFile("part_too_large", f"文件结构异常：{name} 过大")
        parts = []
        with self.open(name, limit=limit) as stream:
            while chunk := stream.read(CHUNK):
                parts.append(chunk)
        return b"".join(parts)

    def scan(self, name: str, pattern: re.Pattern[bytes], *, max_bytes: int) -> bytes | None:
        """The first match of ``pattern`` in the first ``max_bytes`` of member ``name`` (streamed), if any."""
        if name not in self._by_name:
            return None
        overlap, carry, seen = 256, b"", 0
        with self.open(name) as stream:
            while seen < max_bytes and (chunk := stream.read(min(CHUNK, max_bytes - seen))):
                seen += len(chunk)
                window = carry + chunk
                if (match := pattern.search(window)) is not None:
                    return match.group(0)
                carry = window[-overlap:]
        return None

    def iterparse(self, name: str) -> Iterator[tuple[str, etree._Element]]:
        """("start" | "end", element) for member ``name``, parsed incrementally and safely.

        Each element is cleared once its "end" has been handled, with its finished earlier
        siblings, so what stays in memory is the path from the root to the current element: read
        what you need at the event. Element count and depth are bounded; a DTD is refused; broken
        XML raises ``UnsafeFile`` (``malformed_xml``)."""
        limits = self.limits
        with self.open(name) as stream:
            events = etree.iterparse(
                stream,
                events=("start", "end"),
                resolve_entities=False,
                no_network=True,
                load_dtd=False,
                huge_tree=False,
                remove_comments=True,
                remove_pis=True,
            )
            count = depth = 0
            try:
                for event, element in events:
                    if event == "start":
                        count += 1
                        depth += 1
                        if count == 1 and element.getroottree().docinfo.doctype:
                            raise UnsafeFile("xml_dtd", f"文件结构异常：{name} 含有文档类型声明（DTD），未予读取")
                        if count > limits.max_elements or depth > limits.max_depth:
                            raise UnsafeFile("xml_too_complex", f"文件结构异常：{name} 的元素过多或嵌套过深，未予读取")
                        yield event, element
                    else:
                        depth -= 1
                        yield event, element
                        element.clear(keep_tail=True)
                        parent = element.getparent()
                        while parent is not None and element.getprevious() is not None:
                            del parent[0]
            except etree.XMLSyntaxError as exc:
                if "excessive depth" in str(exc).lower() or "huge" in str(exc).lower():
                    # libxml2's own limits (without huge_tree) can strike before ours within one chunk.
                    raise UnsafeFile("xml_too_complex", f"文件结构异常：{name} 的元素过多或嵌套过深，未予读取") from exc
                raise UnsafeFile("malformed_xml", f"文件内容已损坏：{name} 不是有效的 XML") from exc

    def check_xml(self, name: str) -> int:
        """Parse member ``name`` to its end under the limits; the number of elements."""
        return sum(1 for event, _ in self.iterparse(name) if event == "start")


@contextlib.contextmanager
def seekable(stream: BinaryIO, *, max_bytes: int) -> Iterator[BinaryIO]:
    """``stream`` from its start, seekable: itself when it can seek, else spooled (refused past ``max_bytes``)."""
    if getattr(stream, "seekable", lambda: False)():
        stream.seek(0)
        yield stream
        return
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
        copied = 0
        while chunk := stream.read(CHUNK):
            copied += len(chunk)
            if copied > max_bytes:
                raise UnsafeFile("too_large", f"文件过大：不能超过 {max_bytes // (1024 * 1024)} MB")
            spool.write(chunk)
        spool.seek(0)
        yield cast(BinaryIO, spool)


@contextlib.contextmanager
def open_archive(
    stream: BinaryIO, limits: Limits = DEFAULT_LIMITS, *, max_bytes: int = 64 << 20
) -> Iterator[UntrustedArchive]:
    """An uploaded package (any stream) opened under ``limits``."""
    with seekable(stream, max_bytes=max_bytes) as file, UntrustedArchive(file, limits) as archive:
        yield archive
