"""The lead–pillar agreement as documents, with real LibreOffice, pdftotext and pyHanko: no 丙方 block
anywhere (not even an empty one), special clauses printed as written, three signature rows with each
visible signature in its own; and signing on a machine whose fonts cannot print Chinese answers a
clear message before any PIN is tried."""

from __future__ import annotations

import io
import re
import subprocess
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from docx import Document as WordDocument
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from sqlalchemy import func, select

from templates.build_agreement import LEAD_PILLAR_ORDER, signature_box
from tests.fixtures.agreements import PIN, fire
from workflows import audit
from workflows.agreements import seals

CLAUSES = "甲乙双方每学期互派骨干教师跟岗一周。A&B<幼儿园> 与 {{ 不是模板 }} 按原样印出。"
PAGE_HEIGHT = 841.89


def all_text(content: bytes) -> str:
    word = WordDocument(io.BytesIO(content))
    cells = [c.text for t in word.tables for r in t.rows for c in r.cells]
    return "\n".join([p.text for p in word.paragraphs] + cells)


def pdf_text(path: Path, *args: str) -> str:
    return subprocess.run(["pdftotext", *args, str(path), "-"], capture_output=True, text=True, check=True).stdout


@contextmanager
def without_chinese_font(folder: Path) -> Iterator[None]:
    """A machine without fonts-noto-cjk: fontconfig knows no font, and no CJK font file is where we look."""
    config = folder / "fonts.conf"
    config.write_text('<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig></fontconfig>')
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FONTCONFIG_FILE", str(config))
        patch.setattr(seals, "FONT_FALLBACKS", ((str(folder / "absent.ttc"), 0),))
        seals.chinese_font.cache_clear()
        try:
            yield
        finally:
            seals.chinese_font.cache_clear()


def test_lead_pillar_documents_have_no_third_party(client, login, runtime, signing_world, tmp_path):
    officer = login("officer")
    a = client.post(f"/api/alliances/{signing_world.alliances['A'].id}/agreements/lead-pillar", headers=officer).json()
    a = client.put(
        f"/api/agreements/{a['id']}", headers=officer, json={"version": a["version"], "special_clauses": CLAUSES}
    )
    assert a.status_code == 200, a.text
    a = a.json()

    def download(kind: str) -> bytes:
        docs = client.get(f"/api/agreements/{a['id']}/documents", headers=officer).json()
        doc = next(d for d in docs if d["kind"] == kind)
        return client.get(f"/api/documents/{doc['id']}/content", headers=officer).content

    draft = download("agreement_draft")
    text = all_text(draft)
    assert "丙方" not in text and "成员园）" not in text
    assert CLAUSES in text and "A-LEAD A&B<幼儿园>" in text and "A-PIL A&B<幼儿园>" in text
    assert "甲方为测试联盟A龙头园，乙方为测试联盟A支柱园" in text
    word = WordDocument(io.BytesIO(draft))
    parties, signature_page = word.tables[0], word.tables[1]
    assert [r.cells[0].text for r in parties.rows] == [
        "当事方",
        "甲方（龙头园）",
        "乙方（支柱园）",
        "监督方（区教科体局）",
    ]
    assert [r.cells[0].text for r in signature_page.rows] == [
        "当事方",
        "甲方（龙头园）",
        "乙方（支柱园）",
        "监督方（区教科体局）",
    ]
    with zipfile.ZipFile(io.BytesIO(draft)) as z:
        xml = z.read("word/document.xml").decode()
    assert "A&amp;B&lt;幼儿园&gt;" in xml and "{{" not in xml.replace("{{ 不是模板 }}", "")

    # Sending freezes it: three seals and the QR code, and a PDF of the same text.
    a = fire(client, officer, a, "send").json()
    assert a["state"] == "signing" and a["frozen_pdf_id"], a
    with zipfile.ZipFile(io.BytesIO(download("agreement_final"))) as z:
        assert len([n for n in z.namelist() if n.startswith("word/media/")]) == 4
    frozen = tmp_path / "frozen.pdf"
    frozen.write_bytes(download("agreement_pdf"))
    printed = pdf_text(frozen)
    assert "丙方" not in printed and "A&B<幼儿园>" in printed

    # No Chinese font on this machine: the stamp cannot be drawn; say which package, before the PIN.
    with without_chinese_font(tmp_path):
        r = fire(client, login("lead-a"), a, "sign", pin="000000")  # a wrong PIN is not even tried
    assert r.status_code == 503 and r.json()["code"] == "chinese_font_missing", r.text
    assert "fonts-noto-cjk" in r.json()["message"]
    with runtime.db.session() as s:
        assert s.scalar(select(func.count()).where(audit.AuditEntry.event == "pin_refused")) == 0

    for username in ("lead-a", "pillar-a", "officer"):
        r = fire(client, login(username), a, "sign", pin=PIN)
        assert r.status_code == 200, (username, r.text)
        a = r.json()
    assert a["state"] == "effective"

    signed = tmp_path / "signed.pdf"
    signed.write_bytes(client.get(f"/api/documents/{a['signed_pdf_id']}/content", headers=officer).content)
    embedded = PdfFileReader(io.BytesIO(signed.read_bytes())).embedded_signatures
    assert [e.field_name for e in embedded] == ["lead-round1", "pillar-round1", "bureau-round1"]
    assert all(validate_pdf_signature(e).intact for e in embedded)
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(
        ["pdfinfo", str(signed)], capture_output=True, text=True, check=True).stdout).group(1))  # fmt: skip
    bbox = pdf_text(signed, "-f", str(pages), "-l", str(pages), "-bbox")
    rows = [
        (float(m.group(1)), float(m.group(2)))
        for m in re.finditer(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">（电子签名）<', bbox)
    ]
    assert len(rows) == 3  # three rows on the signature page, none for 丙方
    for party, (top, bottom) in zip(LEAD_PILLAR_ORDER, rows, strict=True):
        _, y0, _, y1 = signature_box(party, parties=LEAD_PILLAR_ORDER)
        assert y0 < PAGE_HEIGHT - bottom and PAGE_HEIGHT - top < y1, party
