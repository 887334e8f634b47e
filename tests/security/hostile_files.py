"""Hostile files, made on the fly: polyglots, zip bombs, XXE and billion-laughs packages."""

from __future__ import annotations

import io
import zipfile

from openpyxl import Workbook

from tests.fixtures.activities import docx_bytes
from tests.fixtures.files import jpeg_bytes, pdf_bytes

HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
XXE_DOCTYPE = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode() for i in range(1, 10)
    )
    + b"]>"
)


def jpeg_zip_polyglot() -> bytes:
    """A valid JPEG that is also a valid zip holding an HTML page (zip readers look at the end)."""
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("index.html", HTML)
    return jpeg_bytes() + inner.getvalue()


def pdf_html_polyglot() -> bytes:
    """A PDF whose body also carries an HTML page with a script."""
    pdf = pdf_bytes()
    return pdf.replace(b"%%EOF", b"%" + HTML + b"\n%%EOF")


def html_with_late_pdf_signature() -> bytes:
    return HTML + b"\n%PDF-1.4\n"


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("a.txt", "zip")
    return out.getvalue()


def rezip(source: bytes, replace: dict[str, bytes], *, level: int = 6) -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(source)) as old,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as new,
    ):
        for item in old.infolist():
            new.writestr(item.filename, replace.get(item.filename, old.read(item.filename)))
        for name, data in replace.items():
            if name not in old.namelist():
                new.writestr(name, data)
    return out.getvalue()


def _prolog_swap(xml: bytes, doctype: bytes) -> bytes:
    body = xml.split(b"?>", 1)[1] if xml.startswith(b"<?xml") else xml
    return doctype + body


def docx_with_xxe() -> bytes:
    base = docx_bytes("XXE")
    with zipfile.ZipFile(io.BytesIO(base)) as z:
        types, document = z.read("[Content_Types].xml"), z.read("word/document.xml")
    document = _prolog_swap(document, XXE_DOCTYPE).replace(b"XXE", b"&xxe;")
    return rezip(base, {"[Content_Types].xml": _prolog_swap(types, XXE_DOCTYPE), "word/document.xml": document})


def docx_with_billion_laughs() -> bytes:
    base = docx_bytes("laughs")
    with zipfile.ZipFile(io.BytesIO(base)) as z:
        types, document = z.read("[Content_Types].xml"), z.read("word/document.xml")
    types = _prolog_swap(types, LAUGHS).replace(b"<Types ", b"<Types data='&lol9;' ", 1)
    return rezip(base, {"[Content_Types].xml": types, "word/document.xml": _prolog_swap(document, LAUGHS)})


def zip_bomb_docx(expanded: int = 64 * 1024 * 1024) -> bytes:
    return rezip(docx_bytes("bomb"), {"word/media/padding.bin": b"\0" * expanded}, level=9)


def xlsx_with(replace: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    Workbook().save(out)
    return rezip(out.getvalue(), replace)


def xlsx_with_xxe() -> bytes:
    sheet = XXE_DOCTYPE + b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' \
        b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row></sheetData></worksheet>'  # fmt: skip
    return xlsx_with({"xl/worksheets/sheet1.xml": sheet})


def xlsx_with_billion_laughs() -> bytes:
    sheet = LAUGHS + b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' \
        b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>'  # fmt: skip
    return xlsx_with({"xl/worksheets/sheet1.xml": sheet})


def xlsx_zip_bomb(expanded: int = 256 * 1024 * 1024) -> bytes:
    """A workbook whose sheet inflates to ``expanded`` bytes of whitespace."""
    head = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    tail = b"</sheetData></worksheet>"
    out = io.BytesIO()

    base = io.BytesIO()
    Workbook().save(base)
    with zipfile.ZipFile(base) as old, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as new:
        for item in old.infolist():
            if item.filename == "xl/worksheets/sheet1.xml":
                info = zipfile.ZipInfo(item.filename)
                info.compress_type = zipfile.ZIP_DEFLATED
                with new.open(info, "w", force_zip64=True) as member:
                    member.write(head)
                    block = b" " * (1 << 20)
                    for _ in range(expanded >> 20):
                        member.write(block)
                    member.write(tail)
            else:
                new.writestr(item, old.read(item.filename))
    return out.getvalue()
