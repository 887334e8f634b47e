"""File checks before archiving: good files pass; macros, encryption, truncation and bombs are caught."""

from __future__ import annotations

import hashlib
import io
import random
import struct
import zipfile
import zlib
from typing import BinaryIO, cast

import docx
import openpyxl
import pytest
from PIL import Image

from tests.fixtures.files import jpeg_bytes, pdf_bytes
from workflows.archive_checks import MAX_IMAGE_PIXELS, CheckResult, check_file, safe_member_path

MIB = 1 << 20


def check(data: bytes, filename: str, expected_sha256: str | None = None) -> CheckResult:
    return check_file(io.BytesIO(data), filename=filename, expected_sha256=expected_sha256)


class OneWay:
    """A readable stream that cannot seek, like an object store response."""

    def __init__(self, data: bytes) -> None:
        self._body = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._body.read(size)

    def seekable(self) -> bool:
        return False


def docx_bytes(text: str = "教研活动记录") -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def xlsx_bytes() -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active.append(["姓名", "园所"])
    buf = io.BytesIO()
    workbook.save(buf)
    return buf.getvalue()


def rezip(source: bytes, *, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None) -> bytes:
    """A copy of the zip ``source`` with some members replaced or added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, (replace or {}).get(info.filename, src.read(info.filename)))
        for name, data in (add or {}).items():
            dst.writestr(name, data)
    return out.getvalue()


def macro_docx() -> bytes:
    """A macro-enabled document (.docm) renamed to .docx."""
    good = docx_bytes()
    with zipfile.ZipFile(io.BytesIO(good)) as zf:
        types = zf.read("[Content_Types].xml")
    types = types.replace(
        b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        b"application/vnd.ms-word.document.macroEnabled.main+xml",
    )
    return rezip(good, replace={"[Content_Types].xml": types}, add={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0VBA"})


def bomb_docx(size: int = 64 * MIB) -> bytes:
    """A .docx whose document.xml inflates ~1000-fold: a decompression bomb."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx_bytes())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != "word/document.xml":
                dst.writestr(info.filename, src.read(info.filename))
        with dst.open("word/document.xml", "w", force_zip64=True) as member:
            for _ in range(size // MIB):
                member.write(b"\0" * MIB)
    return out.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` × ``height`` pixels but carries almost no data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def noisy_png() -> bytes:
    image = Image.frombytes("RGB", (200, 150), random.Random(3).randbytes(200 * 150 * 3))
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def mp4_bytes() -> bytes:
    return (
        box(b"ftyp", b"isom\0\0\2\0isomiso2mp41") + box(b"moov", box(b"mvhd", b"\0" * 100)) + box(b"mdat", b"x" * 5000)
    )


def test_good_files_pass() -> None:
    samples = {
        "教案.docx": docx_bytes(),
        "签到表.xlsx": xlsx_bytes(),
        "照片.png": noisy_png(),
        "照片.jpg": jpeg_bytes((64, 48)),
        "报道.pdf": pdf_bytes("report"),
        "课例.mp4": mp4_bytes(),
        "说明.txt": "活动说明".encode(),
    }
    for name, data in samples.items():
        digest = hashlib.sha256(data).hexdigest()
        result = check(data, name, expected_sha256=digest)
        assert result == CheckResult(usable=True, secure=True, problems=[]), name
        # A stream that cannot seek (an object store body) is checked the same way.
        assert check_file(cast(BinaryIO, OneWay(data)), filename=name, expected_sha256=digest) == result


def test_checking_leaves_a_seekable_stream_at_its_start() -> None:
    stream = io.BytesIO(docx_bytes())
    assert check_file(stream, filename="a.docx", expected_sha256=None).usable
    assert stream.tell() == 0


def test_hash_mismatch_and_empty_file_are_unusable() -> None:
    result = check(pdf_bytes(), "a.pdf", expected_sha256="0" * 64)
    assert not result.usable and result.secure
    assert any("SHA-256" in p for p in result.problems)
    empty = check(b"", "a.docx")
    assert (empty.usable, empty.problems) == (False, ["文件为空"])


def test_macro_document_renamed_docx_is_insecure() -> None:
    result = check(macro_docx(), "教案.docx")
    assert not result.secure
    assert any("宏" in p for p in result.problems)
    # A .docm name is refused as such too.
    assert not check(docx_bytes(), "教案.docm").secure


def test_encrypted_files_are_insecure() -> None:
    pdf = pdf_bytes().replace(b"/Root 1 0 R >>", b"/Root 1 0 R /Encrypt 6 0 R >>")
    result = check(pdf, "报道.pdf")
    assert result.usable and not result.secure
    assert any("加密" in p for p in result.problems)
    # An encrypted OOXML package is an OLE compound file holding an EncryptedPackage stream.
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504 + "EncryptedPackage".encode("utf-16-le") + b"\0" * 4000
    result = check(ole, "签到表.xlsx")
    assert not result.usable and not result.secure
    assert any("加密" in p for p in result.problems)
    legacy = check(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "_VBA_PROJECT".encode("utf-16-le"), "旧.doc")
    assert not legacy.secure and any("宏" in p for p in legacy.problems)


def test_pdf_with_script_is_insecure() -> None:
    pdf = pdf_bytes().replace(b"/Type /Catalog", b"/Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >>")
    assert not check(pdf, "a.pdf").secure


def test_truncated_files_are_unusable() -> None:
    png = noisy_png()
    result = check(png[: len(png) // 2], "照片.png")
    assert not result.usable and result.secure
    assert any("图片" in p for p in result.problems)
    jpeg = jpeg_bytes((400, 300))
    assert not check(jpeg[: len(jpeg) // 2], "照片.jpg").usable
    pdf = check(pdf_bytes()[:-20], "a.pdf")
    assert not pdf.usable and any("%%EOF" in p for p in pdf.problems)
    assert not check(b"plain text", "a.pdf").usable
    assert not check(mp4_bytes()[:-100], "a.mp4").usable
    assert not check(b"\0\0\0\x08free" + b"x" * 100, "a.mp4").usable
    assert not check(docx_bytes()[:-200], "a.docx").usable
    assert not check(b"not a zip at all", "a.xlsx").usable


def test_zip_bomb_docx_is_refused_before_parsing() -> None:
    result = check(bomb_docx(), "报告.docx")
    assert not result.secure and not result.usable
    assert any("压缩炸弹" in p for p in result.problems)


def test_image_bomb_is_refused_before_decoding() -> None:
    side = int(MAX_IMAGE_PIXELS**0.5) + 100
    result = check(png_header(side, side), "大图.png")
    assert not result.secure and not result.usable
    assert any("解压炸弹" in p for p in result.problems)


def test_zip_with_unsafe_member_paths_is_insecure() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("ok/readme.txt", b"fine")
        zf.writestr("../../etc/evil", b"escape")
    result = check(out.getvalue(), "资料.zip")
    assert not result.secure
    assert any("../../etc/evil" in p for p in result.problems)
    safe = io.BytesIO()
    with zipfile.ZipFile(safe, "w") as zf:
        zf.writestr("ok/readme.txt", b"fine")
    assert check(safe.getvalue(), "资料.zip") == CheckResult(usable=True, secure=True, problems=[])


@pytest.mark.parametrize(
    ("path", "safe"),
    [
        ("01_签到表/签到表.docx", True),
        ("a/b/", True),
        ("readme.txt", True),
        ("../x", False),
        ("a/../../x", False),
        ("/etc/passwd", False),
        ("a\\b", False),
        ("C:/windows", False),
        ("c:evil", False),
        ("a/./b", False),
        ("a//b", False),
        ("a\x00b", False),
        ("a\nb", False),
        ("", False),
        ("..", False),
    ],
)
def test_safe_member_path(path: str, safe: bool) -> None:
    assert safe_member_path(path) is safe


def test_large_photo_is_decoded_at_reduced_scale_yet_truncation_is_caught() -> None:
    size = (3000, 2000)
    image = Image.frombytes("RGB", size, random.Random(4).randbytes(size[0] * size[1] * 3))
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=85)
    photo = buf.getvalue()
    assert check(photo, "活动照片.jpg") == CheckResult(usable=True, secure=True, problems=[])
    assert not check(photo[: len(photo) * 2 // 3], "活动照片.jpg").usable
