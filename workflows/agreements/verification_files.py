"""An uploaded file on the public verifier, read no further than the answer needs.

Anyone may upload anything, so the file is hashed first, in chunks (a byte-for-byte archived file
needs nothing more); only a file the archive does not know is looked into, and only where the
verification code is printed: a .docx's main part (``word/document.xml``, through
``workflows.untrusted``, its first few MB), a PDF's signature reasons (``/Reason`` strings found by
scanning the raw bytes, never by parsing the file). A PDF the archive does not know is compared
with the archived signed PDF, byte against byte, instead of being parsed: where the first
difference falls says which signatures cover changed content. Memory stays at a few chunks.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from workflows.untrusted import Limits, UnsafeFile, UntrustedArchive

CHUNK = 64 * 1024
CODE = re.compile(rb"[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}")
# Our documents print the code in the body; the part is read no further than this.
CODE_PART = "word/document.xml"
CODE_SCAN_BYTES = 8 << 20
# A .docx from this service is well inside these; anything beyond them is not one of ours.
UPLOAD_LIMITS = Limits(max_members=500, max_member_bytes=32 << 20, max_total_bytes=64 << 20)
MAX_REASONS = 32
REASON_BYTES = 2048


@dataclass(frozen=True)
class Upload:
    """What hashing the upload found: its SHA-256, size and kind (pdf, docx or other)."""

    sha256: str
    size: int
    kind: str


class TooLarge(Exception):
    """The upload is over the size limit (it was counted, not kept)."""


def chunks(file: BinaryIO, *, start: int = 0) -> Iterator[bytes]:
    file.seek(start)
    while chunk := file.read(CHUNK):
        yield chunk


def inspect_upload(file: BinaryIO, *, max_bytes: int) -> Upload:
    """Hash ``file`` in chunks and tell its kind by its first bytes; TooLarge past ``max_bytes``."""
    digest, size = hashlib.sha256(), 0
    for chunk in chunks(file):
        size += len(chunk)
        if size > max_bytes:
            raise TooLarge()
        digest.update(chunk)
    file.seek(0)
    head = file.read(8)
    file.seek(0)
    kind = "pdf" if head.startswith(b"%PDF") else "docx" if head.startswith(b"PK") else "other"
    return Upload(sha256=digest.hexdigest(), size=size, kind=kind)


def codes_inside(file: BinaryIO, kind: str) -> tuple[list[str], str | None]:
    """The verification codes printed in the file, and why it could not be read when it could not."""
    if kind == "pdf":
        return _codes_of_reasons(file), None
    if kind != "docx":
        return [], None
    try:
        with UntrustedArchive(file, UPLOAD_LIMITS) as archive:
            found = archive.scan(CODE_PART, CODE, max_bytes=CODE_SCAN_BYTES)
    except UnsafeFile as exc:
        return [], exc.message
    finally:
        file.seek(0)
    return ([found.decode()] if found else []), None


def _codes_of_reasons(file: BinaryIO) -> list[str]:
    """Codes in the PDF's ``/Reason`` strings, read from the raw bytes (signature dictionaries are
    never compressed: their contents are written in place after the file is laid out)."""
    codes: list[str] = []
    reasons = 0
    carry, offset = b"", 0
    for chunk in chunks(file):
        window = carry + chunk
        base = offset - len(carry)
        for match in re.finditer(rb"/Reason", window):
            if reasons >= MAX_REASONS:
                break
            reasons += 1
            file.seek(base + match.end())
            text = _pdf_string(file.read(REASON_BYTES))
            file.seek(offset + len(chunk))
            if (
                text
                and (found := CODE.search(text.encode("ascii", "replace")))
                and found.group(0).decode() not in codes
            ):
                codes.append(found.group(0).decode())
        carry = window[-(len(b"/Reason") - 1) :]
        offset += len(chunk)
    file.seek(0)
    return codes


_ESCAPES = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("f"): b"\f"}


def _pdf_string(data: bytes) -> str | None:
    """The PDF string object at the start of ``data`` (after blanks), decoded, or None."""
    data = data.lstrip(b" \t\r\n\f\x00")
    raw: bytes | None
    if data.startswith(b"<") and not data.startswith(b"<<"):
        end = data.find(b">")
        if end < 0:
            return None
        hex_digits = re.sub(rb"\s", b"", data[1:end])
        try:
            raw = bytes.fromhex((hex_digits + b"0" * (len(hex_digits) % 2)).decode("ascii"))
        except ValueError:
            return None
    elif data.startswith(b"("):
        raw = _literal(data[1:])
        if raw is None:
            return None
    else:
        return None
    if raw.startswith(b"\xfe\xff"):
        return raw[2:].decode("utf-16-be", errors="replace")
    return raw.decode("latin-1")


def _literal(data: bytes) -> bytes | None:
    """A literal string's bytes up to its closing parenthesis (escapes and nesting undone)."""
    out = bytearray()
    depth, i = 0, 0
    while i < len(data):
        byte = data[i]
        if byte == ord("\\") and i + 1 < len(data):
            following = data[i + 1]
            if 48 <= following <= 55:  # up to three octal digits
                j = i + 1
                while j < min(i + 4, len(data)) and 48 <= data[j] <= 55:
                    j += 1
                out.append(int(data[i + 1 : j], 8) & 0xFF)
                i = j
                continue
            if following in (ord("\r"), ord("\n")):
                i += 2  # a line continuation
                continue
            out += _ESCAPES.get(following, bytes([following]))
            i += 2
            continue
        if byte == ord("("):
            depth += 1
        elif byte == ord(")"):
            if depth == 0:
                return bytes(out)
            depth -= 1
        out.append(byte)
        i += 1
    return None


def first_difference(upload: BinaryIO, archived: BinaryIO) -> int | None:
    """The offset of the first byte where the two files differ (the shorter one's length if one is a
    prefix of the other), or None when they are equal. Read chunk by chunk."""
    upload.seek(0)
    archived.seek(0)
    offset = 0
    while True:
        mine, theirs = upload.read(CHUNK), archived.read(CHUNK)
        if mine != theirs:
            shorter = min(len(mine), len(theirs))
            lo, hi = 0, shorter  # the first index < shorter where they differ, else ``shorter``
            while lo < hi:
                mid = (lo + hi) // 2
                if mine[lo : mid + 1] == theirs[lo : mid + 1]:
                    lo = mid + 1
                else:
                    hi = mid
            upload.seek(0)
            return offset + lo
        if not mine:
            upload.seek(0)
            return None
        offset += len(mine)


@dataclass(frozen=True)
class SignedRange:
    """Where one signature of the archived PDF sits: what it covers ends at ``end``; ``gap`` holds it."""

    party: str
    gap_start: int
    gap_end: int
    end: int


def compare_with_archive(
    upload: BinaryIO, upload_size: int, archived: BinaryIO, archived_size: int, ranges: list[SignedRange]
) -> tuple[list[tuple[str, str]], str]:
    """Why each signature of the archived PDF does not hold for ``upload`` ((party, what is wrong), to
    follow the party's name), judged by where the upload first differs from the archive, and what
    happened to the file as a whole."""
    difference = first_difference(upload, archived)
    verdicts: list[tuple[str, str]] = []
    for signed in ranges:
        if difference is None or difference >= signed.end:
            verdicts.append((signed.party, "签名所覆盖的内容未变，但签名之后文件被改动"))
        elif signed.gap_start <= difference < signed.gap_end:
            verdicts.append((signed.party, "的 PDF 签名本身被改动，签名无效"))
        else:
            verdicts.append((signed.party, "的 PDF 签名所覆盖的内容已被改动"))
    appended = difference == archived_size and upload_size > archived_size
    return verdicts, ("文件在最后一个签名之后被追加了内容" if appended else "文件与存档的签署文件不一致，已被改动")
