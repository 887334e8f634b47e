"""What docx.py and xlsx.py share: the Jinja environment values pass through, and deterministic zips.

Values never become template code: templates are compiled once by a sandboxed, autoescaping
environment, and every ``{{ value }}`` is cleaned of characters XML cannot hold, then escaped once.
A missing value raises ``MissingValue`` naming it, instead of printing an empty cell.

Office files are zips; the same parts written the same way give the same bytes: entries carry the
zip epoch (1980-01-01 00:00) as their time, ``[Content_Types].xml`` comes first and the rest keep
their order, every part is deflated at ``COMPRESSION_LEVEL``, and the core properties carry
``PROPERTIES_TIME`` instead of "now".
"""

from __future__ import annotations

import functools
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, UndefinedError
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import missing

COMPRESSION_LEVEL = 6
PROPERTIES_TIME = "2000-01-01T00:00:00Z"
CONTENT_TYPES = "[Content_Types].xml"

# Characters XML 1.0 cannot carry, plus \a and \f, which docxtpl would turn into paragraph and
# page breaks: user text gets line breaks (\n) and tabs (\t) only. Lone surrogates cannot be encoded.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class MissingValue(Exception):
    """The context lacks a value the template prints (``name``: the missing variable or key)."""

    def __init__(self, name: str, template: str | None = None) -> None:
        self.name = name
        self.template = template
        where = f"（模板 {template}）" if template else ""
        super().__init__(f"模板变量缺失：{name}{where} / missing template value: {name!r}")


class BrokenTemplate(Exception):
    """A template file that cannot be compiled, or whose output is not well-formed XML."""


def _missing_value(name: str, message: str) -> MissingValue:
    return MissingValue(name)


class _Undefined(StrictUndefined):
    """StrictUndefined whose failures raise MissingValue; sandbox refusals stay SecurityError."""

    __slots__ = ()

    def __init__(
        self, hint: str | None = None, obj: Any = missing, name: Any = None, exc: Any = UndefinedError
    ) -> None:
        if exc is UndefinedError and name is not None:
            exc = functools.partial(_missing_value, str(name))
        super().__init__(hint, obj, name, exc)


def clean_text(value: str) -> str:
    """User text as XML can hold it: \\r\\n and \\r become \\n, forbidden control characters go."""
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _NOT_XML.sub("", value)


def _finalize(value: Any) -> Any:
    if value is None:
        return ""
    if hasattr(value, "__html__"):  # already escaped (docxtpl Listing, markupsafe Markup)
        return value
    return clean_text(value if isinstance(value, str) else str(value))


def new_environment() -> SandboxedEnvironment:
    """The Jinja environment of every template: sandboxed, autoescaping, strict about missing values."""
    return SandboxedEnvironment(
        autoescape=True,
        undefined=_Undefined,
        finalize=_finalize,
    )


ENVIRONMENT = new_environment()


# --- deterministic zips ----------------------------------------------------------------------------

_DOS_DATE = (1 << 5) | 1  # 1980-01-01
_DOS_TIME = 0
_VERSION = 20  # 2.0: deflate; made by MS-DOS (0) so no platform-specific attributes are implied
_UTF8_NAME = 1 << 11


@dataclass(frozen=True, slots=True)
class ZipMember:
    """One zip entry, already compressed: written verbatim, so unchanged parts cost nothing."""

    name: str
    crc: int
    size: int
    data: bytes
    method: int = zipfile.ZIP_DEFLATED


def deflate(name: str, content: bytes, level: int = COMPRESSION_LEVEL) -> ZipMember:
    """A zip entry for ``content``, deflated as zipfile would at ``level``."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    data = compressor.compress(content) + compressor.flush()
    return ZipMember(name, zlib.crc32(content), len(content), data)


def write_zip(members: Iterable[ZipMember]) -> bytes:
    """A zip of ``members`` in the given order, with fixed times and no extra fields."""
    out = io.BytesIO()
    central = []
    for m in members:
        name = m.name.encode("utf-8")
        flags = 0 if m.name.isascii() else _UTF8_NAME
        fields = (m.method, _DOS_TIME, _DOS_DATE, m.crc, len(m.data), m.size, len(name))
        offset = out.tell()
        out.write(struct.pack("<4s2H", b"PK\x03\x04", _VERSION, flags))
        out.write(struct.pack("<3H3I2H", *fields, 0))
        out.write(name)
        out.write(m.data)
        central.append(
            struct.pack("<4s3H", b"PK\x01\x02", _VERSION, _VERSION, flags)
            + struct.pack("<3H3I5H2I", *fields, 0, 0, 0, 0, 0, offset)
            + name
        )
    start = out.tell()
    for record in central:
        out.write(record)
    size = out.tell() - start
    out.write(struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, len(central), len(central), size, start, 0))
    return out.getvalue()


def content_types_first(names: Iterable[str]) -> list[str]:
    """Part order for a package: ``[Content_Types].xml`` first, the rest as given."""
    names = list(names)
    return [n for n in names if n == CONTENT_TYPES] + [n for n in names if n != CONTENT_TYPES]


_CORE_TIMES = re.compile(
    rb"(<dcterms:(created|modified)\b[^>]*>)[^<]*(</dcterms:\2>)|<cp:lastPrinted\b[^>]*>[^<]*</cp:lastPrinted>"
)


def pin_core_properties(xml: bytes) -> bytes:
    """docProps/core.xml with created/modified at PROPERTIES_TIME and no last-printed time."""
    pinned = PROPERTIES_TIME.encode()
    return _CORE_TIMES.sub(lambda m: m.group(1) + pinned + m.group(3) if m.group(1) else b"", xml)


def rewrite_zip(package: bytes) -> bytes:
    """A zip package (docx, xlsx) rewritten deterministically: same parts, same bytes every time."""
    with zipfile.ZipFile(io.BytesIO(package)) as source:
        parts = {info.filename: source.read(info) for info in source.infolist() if not info.is_dir()}
    if "docProps/core.xml" in parts:
        parts["docProps/core.xml"] = pin_core_properties(parts["docProps/core.xml"])
    return write_zip(deflate(name, parts[name]) for name in content_types_first(parts))
