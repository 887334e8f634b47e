"""The document renderer: values stay values, output is deterministic, Chinese has its font, and the
application form survives Word's reader (python-docx) and LibreOffice's PDF export."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docxtpl import Listing
from jinja2.sandbox import SecurityError
from lxml import etree
from openpyxl import Workbook, load_workbook

from templates import build_files
from templates.check import check_templates
from templates.check import main as check_main
from templates.docx import (
    _DOCXTPL,
    MissingValue,
    load_template,
    render_docx,
    resolve_breaks,
    template_path,
)
from templates.xlsx import display_width, fit_column_widths, save_workbook_deterministic

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
NASTY = "A&B<幼儿园>\"'"
INJECTION = "{{ 7*7 }} {% for %} {_{ x }_}"
CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


def form_context(**overrides: Any) -> dict[str, Any]:
    context: dict[str, Any] = {
        "name": "青山湖区阳光幼儿园", "credit_code": "52360111MJB123456X", "licence_no": "教民136011170000123号",
        "licence_issued_on": "2019-08-01", "sponsor": "南昌市青山湖区阳光教育咨询有限公司",
        "legal_representative": "张三", "head_name": "李四", "head_phone": "13800000000",
        "contact_name": "王五", "contact_phone": "0791-88888888", "address": "南昌市青山湖区湖滨东路100号",
        "town": "湖坊镇", "ownership_label": "民办非营利", "inclusive_label": "是", "classes": "6",
        "children": "180", "staff": "32", "teachers": "14", "certified_teachers": "12",
        "certification_rate": "86%", "site_area_m2": "2400", "building_area_m2": "1800",
        "last_inspection_year": "2024", "last_inspection_result": "合格", "penalties_last_3_years": "无",
        "safety_incidents_last_3_years": "无", "preferred_alliance_name": "青山湖区第一幼教联盟",
        "reasons": "希望提升课程质量。\n希望龙头园帮扶游戏活动。", "needs_label": "课程、游戏",
        "commitments": "本园承诺：按时参加联盟组织的各项教研活动。",
        "attachments": [
            {"kind_label": "办园许可证", "filename": "许可证.pdf", "size_label": "1.2 MB",
             "sha256_short": "0123456789abcdef"},
            {"kind_label": "年检证明", "filename": "年检.jpg", "size_label": "300 KB", "sha256_short": "fedcba9876543210"},
        ],
        "eligibility": [
            {"label": "办园许可证满一年", "result": "符合", "detail": "发证日期 2019-08-01"},
            {"label": "班级数不少于3个", "result": "待核实", "detail": ""},
        ],
        "application_no": "QSH-2026-0001", "version_no": "1", "generated_on": "2026-03-01",
        "submitted_on": "2026年3月1日", "review_opinion": "", "decision_line": "", "reviewer": "区教科体局成幼科",
        "decided_on": "________年____月____日",
    }  # fmt: skip
    return {**context, **overrides}


def part(document: bytes, name: str = "word/document.xml") -> bytes:
    with zipfile.ZipFile(io.BytesIO(document)) as archive:
        return archive.read(name)


def all_text(document: bytes) -> str:
    """Every paragraph of the body, its tables and footers, as python-docx reads them."""
    doc = Document(io.BytesIO(document))
    texts = [p.text for p in doc.paragraphs]
    texts += [cell.text for table in doc.tables for row in table.rows for cell in row.cells]
    texts += [p.text for section in doc.sections for p in section.footer.paragraphs]
    return "\n".join(texts)


def make_template(path: Path, build: Callable[[Any], None]) -> Path:
    """A .docx written by python-docx, as an office clerk's Word file would be."""
    doc = Document()
    build(doc)
    doc.save(path)
    return path


# --- values are values ------------------------------------------------------------------------------


def test_values_print_literally_and_the_xml_stays_valid() -> None:
    document = render_docx("application_form.docx", form_context(name=NASTY, reasons=INJECTION, sponsor="a\x01b\x0bc"))

    etree.fromstring(part(document))  # well-formed
    text = all_text(document)
    assert NASTY in text
    assert INJECTION in text
    assert "49" not in text
    assert "abc" in text  # control characters XML cannot carry are dropped
    assert b"A&amp;B&lt;" in part(document)  # escaped once, not twice
    assert b"&amp;amp;" not in part(document)


def test_line_breaks_in_a_value_become_line_breaks() -> None:
    document = render_docx("application_form.docx", form_context(reasons="第一行\r\n第二行\n第三行"))

    cell = next(c for t in Document(io.BytesIO(document)).tables for r in t.rows for c in r.cells if "第一行" in c.text)
    assert cell.text == "第一行\n第二行\n第三行"
    assert part(document).count(b"<w:br/>") == 2


def test_listing_values_are_escaped_once_and_keep_their_breaks() -> None:
    document = render_docx("application_form.docx", form_context(reasons=Listing("A&B\n第二行")))
    assert "A&B\n第二行" in all_text(document)
    assert b"&amp;amp;" not in part(document)


def test_docxtpl_literal_brace_escapes_print_braces(tmp_path: Path) -> None:
    template = make_template(tmp_path / "braces.docx", lambda doc: doc.add_paragraph("{_{ 不是标签 }_} {{ name }}"))
    assert "{{ 不是标签 }} 名字" in all_text(load_template(template).render({"name": "名字"}))


def test_only_the_needed_paragraphs_are_resolved_the_way_docxtpl_would() -> None:
    source = load_template(template_path("application_form.docx")).parts[0]
    xml = source.template.render(form_context(reasons="一\n二\t三")).replace("\n<w:p", "<w:p")

    assert resolve_breaks(xml) == _DOCXTPL.resolve_listing(xml)


def test_a_missing_value_is_named() -> None:
    context = form_context()
    del context["town"]
    with pytest.raises(MissingValue) as missing:
        render_docx("application_form.docx", context)
    assert missing.value.name == "town"
    assert "town" in str(missing.value) and "application_form.docx" in str(missing.value)

    attachment = {"kind_label": "办园许可证", "size_label": "1 KB", "sha256_short": "00"}
    with pytest.raises(MissingValue) as missing:
        render_docx("application_form.docx", form_context(attachments=[attachment]))
    assert missing.value.name == "filename"


def test_the_sandbox_refuses_attribute_tricks(tmp_path: Path) -> None:
    for expression in ("''.__class__.__mro__", "name.__class__.__base__.__subclasses__()", "name.__init__"):
        template = make_template(tmp_path / "evil.docx", lambda doc, e=expression: doc.add_paragraph(f"{{{{ {e} }}}}"))
        with pytest.raises(SecurityError):
            load_template(template).render({"name": "x"})


# --- deterministic bytes ----------------------------------------------------------------------------


def test_same_context_same_bytes_and_a_different_context_different_bytes() -> None:
    first = render_docx("application_form.docx", form_context())
    assert render_docx("application_form.docx", form_context()) == first
    assert render_docx("application_form.docx", form_context(version_no="2")) != first

    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        infos = archive.infolist()
        assert archive.testzip() is None
    assert infos[0].filename == "[Content_Types].xml"
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    core = part(first, "docProps/core.xml")
    assert b"2000-01-01T00:00:00Z</dcterms:created>" in core and b"2000-01-01T00:00:00Z</dcterms:modified>" in core
    assert b"w:rsid" not in part(first) and b"w14:paraId" not in part(first)


def test_concurrent_renders_agree() -> None:
    contexts = [form_context(version_no=str(i % 3)) for i in range(24)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda c: render_docx("application_form.docx", c), contexts))
    for context, result in zip(contexts, results, strict=True):
        assert result == render_docx("application_form.docx", context)


def test_the_template_is_compiled_once_per_file_version(tmp_path: Path) -> None:
    path = make_template(tmp_path / "t.docx", lambda doc: doc.add_paragraph("{{ name }}"))
    compiled = load_template(path)
    assert load_template(path) is compiled

    make_template(path, lambda doc: doc.add_paragraph("新：{{ name }}"))
    os.utime(path, ns=(1, 1))  # a different modification time, whatever the clock's resolution
    assert load_template(path) is not compiled
    assert "新：x" in all_text(load_template(path).render({"name": "x"}))


def test_the_committed_template_is_what_the_build_script_makes() -> None:
    assert build_files.build("application_form.docx") == build_files.build("application_form.docx")
    assert build_files.main(["--check"]) == 0


# --- Chinese fonts, repeated rows ---------------------------------------------------------------------


def test_every_run_with_chinese_text_names_an_east_asian_font() -> None:
    document = render_docx("application_form.docx", form_context(reasons="一\n二\t三"))
    for name in ("word/document.xml", "word/footer1.xml"):
        runs = [
            r
            for r in etree.fromstring(part(document, name)).iter(f"{W}r")
            if CJK.search("".join(t.text or "" for t in r.iter(f"{W}t")))
        ]
        assert runs
        for run in runs:
            fonts = run.find(f"{W}rPr/{W}rFonts")
            assert fonts is not None and fonts.get(f"{W}eastAsia"), etree.tostring(run, encoding="unicode")
            assert fonts.get(f"{W}eastAsiaTheme") is None
    styles = etree.fromstring(part(document, "word/styles.xml"))
    assert styles.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr/{W}rFonts").get(f"{W}eastAsia") == "SimSun"


def test_runs_keep_the_east_asian_font_their_style_gives_them(tmp_path: Path) -> None:
    def build(doc: Any) -> None:
        doc.add_paragraph("{{ title }}", style="Title")  # python-docx's Title: the theme's major font
        doc.add_paragraph("正文 {{ name }}")

    compiled = load_template(make_template(tmp_path / "styled.docx", build))
    root = etree.fromstring(part(compiled.render({"title": "标题", "name": "名字"})))
    fonts = [r.find(f"{W}rPr/{W}rFonts").get(f"{W}eastAsia") for r in root.iter(f"{W}r")]
    assert all(fonts) and len(fonts) == 2


def test_tr_loops_repeat_rows() -> None:
    attachments = [
        {"kind_label": f"材料{i}", "filename": f"文件{i}.pdf", "size_label": "1 KB", "sha256_short": f"{i:016x}"}
        for i in range(5)
    ]
    document = render_docx("application_form.docx", form_context(attachments=attachments))
    table = next(t for t in Document(io.BytesIO(document)).tables if t.rows[0].cells[0].text == "材料类别")
    assert [row.cells[1].text for row in table.rows[1:]] == [f"文件{i}.pdf" for i in range(5)]

    empty = render_docx("application_form.docx", form_context(attachments=[]))
    table = next(t for t in Document(io.BytesIO(empty)).tables if t.rows[0].cells[0].text == "材料类别")
    assert [row.cells[0].text for row in table.rows[1:]] == ["（无）"]


# --- LibreOffice ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_application_form_converts_to_pdf(tmp_path: Path) -> None:
    source = tmp_path / "申请表.docx"
    source.write_bytes(render_docx("application_form.docx", form_context(name=NASTY)))
    subprocess.run(
        [shutil.which("soffice") or "soffice", "--headless", "--norestore",
         f"-env:UserInstallation=file://{tmp_path / 'profile'}",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(source)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    pdf = tmp_path / "申请表.pdf"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    assert NASTY in text
    assert "加入申请表" in text and "申请园意见" in text and "成幼科" in text and "QSH-2026-0001" in text
    assert "龙头园意见" not in text  # the lead has no step in the application, so no block to leave empty
    fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True).stdout
    assert "NotoSerifCJK" in fonts  # SimSun found its Linux stand-in


# --- templates check -------------------------------------------------------------------------------------


def test_the_real_templates_pass_the_check(capsys: pytest.CaptureFixture[str]) -> None:
    reports = check_templates()
    assert reports and all(report.ok for report in reports), reports
    assert not any(report.warnings for report in reports)
    assert check_main([]) == 0
    assert "application_form.docx" in capsys.readouterr().out


def test_a_tag_word_split_across_runs_is_put_back_together(tmp_path: Path) -> None:
    def build(doc: Any) -> None:
        paragraph = doc.add_paragraph("园所：")
        paragraph.add_run("{")
        paragraph.add_run("{ na").bold = True  # as Word splits a tag when part of it is reformatted
        paragraph.add_run("me }")
        paragraph.add_run("}")

    template = make_template(tmp_path / "runs.docx", build)
    [report] = check_templates(tmp_path, {"runs.docx": frozenset({"name"})})
    assert report.ok and report.variables == ["name"]
    assert "园所：阳光幼儿园" in all_text(load_template(template).render({"name": "阳光幼儿园"}))


def test_the_check_finds_a_tag_split_across_paragraphs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def build(doc: Any) -> None:
        doc.add_paragraph("园所名称：{{ na")
        doc.add_paragraph("me }}")

    make_template(tmp_path / "split.docx", build)
    [report] = check_templates(tmp_path, {"split.docx": frozenset({"name"})})
    assert not report.ok
    assert any("split across paragraphs" in problem for problem in report.problems)
    assert check_main([str(tmp_path)]) == 1
    assert "失败 FAIL" in capsys.readouterr().out


def test_the_check_finds_fragments_and_full_width_braces(tmp_path: Path) -> None:
    make_template(tmp_path / "stray.docx", lambda doc: doc.add_paragraph("{ {name}}"))
    make_template(tmp_path / "wide.docx", lambda doc: doc.add_paragraph("｛｛ name ｝｝"))
    reports = {
        r.name: r for r in check_templates(tmp_path, {n: frozenset({"name"}) for n in ("stray.docx", "wide.docx")})
    }
    assert any("fragment" in problem for problem in reports["stray.docx"].problems)
    assert any("full-width" in problem for problem in reports["wide.docx"].problems)


def test_the_check_finds_unknown_and_undeclared(tmp_path: Path) -> None:
    make_template(
        tmp_path / "typo.docx", lambda doc: doc.add_paragraph("{{ nmae }}{% for a in items %}{{ a.x }}{% endfor %}")
    )
    make_template(tmp_path / "stranger.docx", lambda doc: doc.add_paragraph("{{ name }}"))
    catalog = {"typo.docx": frozenset({"name", "items"}), "gone.docx": frozenset({"name"})}
    reports = {r.name: r for r in check_templates(tmp_path, catalog)}

    assert reports["typo.docx"].variables == ["items", "nmae"]
    assert reports["typo.docx"].problems == ["未声明的变量 / unknown variable: nmae"]
    assert reports["typo.docx"].warnings == ["已声明但未使用 / declared but unused: name"]
    assert not reports["stranger.docx"].ok  # no catalog entry
    assert not reports["gone.docx"].ok  # catalog entry, no file


def test_the_check_reports_syntax_errors(tmp_path: Path) -> None:
    make_template(tmp_path / "bad.docx", lambda doc: doc.add_paragraph("{% if name %}没有结束"))
    [report] = check_templates(tmp_path, {"bad.docx": frozenset({"name"})})
    assert any("syntax error" in problem for problem in report.problems)


# --- xlsx helpers ----------------------------------------------------------------------------------------


def test_workbooks_save_to_the_same_bytes() -> None:
    def workbook() -> Workbook:
        book = Workbook()
        sheet = book.active
        sheet.append(["园所名称", "code"])
        sheet.append(["青山湖区阳光幼儿园", "x"])
        fit_column_widths(sheet)
        return book

    book = workbook()
    first = save_workbook_deterministic(book)
    assert save_workbook_deterministic(book) == first == save_workbook_deterministic(workbook())
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert load_workbook(io.BytesIO(first)).active["A2"].value == "青山湖区阳光幼儿园"


def test_column_widths_count_chinese_double() -> None:
    assert display_width("幼儿园ab，") == 10
    book = Workbook()
    sheet = book.active
    sheet.append(["青山湖区阳光幼儿园", "abc"])
    sheet.append(["很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长"])
    sheet.merge_cells("A3:B3")
    sheet["A3"] = "合并单元格不参与列宽计算合并单元格不参与列宽计算合并单元格不参与列宽计算"
    fit_column_widths(sheet)
    assert sheet.column_dimensions["B"].width == 6  # the minimum
    assert sheet.column_dimensions["A"].width == 60  # the maximum

    sheet = Workbook().active
    sheet.append(["青山湖区阳光幼儿园", "abc"])
    sheet.append(["合并单元格不参与列宽计算合并单元格不参与列宽计算合并单元格不参与列宽计算"])
    sheet.merge_cells("A2:B2")
    fit_column_widths(sheet)
    assert sheet.column_dimensions["A"].width == 18 + 2  # nine characters, two cells each, and padding
