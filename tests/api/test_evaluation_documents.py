"""The evaluation form (.docx) and the summary workbook (.xlsx) show the same numbers as the API,
read back with python-docx/openpyxl and through LibreOffice."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook

from templates.xlsx import display_width
from tests.fixtures.evaluation_year import YEAR, build_year
from workflows.evaluations.documents import number_text

SELF = [{"key": "outcomes", "score": 12}, {"key": "safety", "score": 5}, {"key": "bonus", "score": 3}]


def _event(client, headers, evaluation, name, **body):
    r = client.post(f"/api/evaluations/{evaluation['id']}/events/{name}", headers=headers,
                    json={"version": evaluation["version"], **body})  # fmt: skip
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
def published(client, login, runtime, world):
    """Both alliances scored; A published as 不合格 with a note on safety, B left scored as 优秀."""
    build_year(runtime, world)
    opened = {e["alliance_code"]: e for e in
              client.post("/api/evaluations/open", headers=login("officer"), json={"year": YEAR}).json()}  # fmt: skip
    result = {}
    for code, lead, outcomes in (("TA", "lead-a", 0.5), ("TB", "lead-b", 12)):
        e = _event(client, login(lead), opened[code], "self_assess", items=SELF, comment="自评 A&B<说明>")
        e = _event(client, login("researcher"), e, "score",
                   scores=[{"key": "outcomes", "score": outcomes, "comment": "按成效材料评定"}])  # fmt: skip
        e = _event(client, login("officer"), e, "score", scores=[
            {"key": "safety", "score": 2, "comment": "安全预案不全"}, {"key": "bonus", "score": 1.5, "comment": "区级展示"}])  # fmt: skip
        result[code] = e
    result["TA"] = _event(client, login("officer"), result["TA"], "publish", comment="限期整改")
    return result


def _form(client, login, evaluation) -> tuple[bytes, Document]:
    docs = client.get(f"/api/evaluations/{evaluation['id']}/documents", headers=login("officer")).json()
    content = client.get(f"/api/documents/{docs[0]['id']}/content", headers=login("officer")).content
    return content, Document(io.BytesIO(content))


def _items_table(document):
    return next(t for t in document.tables if t.rows[0].cells[0].text == "序号")


def test_the_form_shows_the_api_numbers(client, login, published):
    a = published["TA"]
    content, document = _form(client, login, a)
    rows = _items_table(document).rows[1:]
    assert len(rows) == len(a["items"]) == 12
    for row, item in zip(rows, a["items"], strict=True):
        cells = [c.text for c in row.cells]
        assert cells[1].startswith(item["label"])
        assert cells[2] == number_text(item["max_points"])
        assert cells[6] == number_text(item["final"]), item["key"]
        assert cells[5] == number_text(item["self_score"])
    attendance = next(r for r in rows if r.cells[1].text == "出勤率")
    assert "出勤率 73.3%" in attendance.cells[3].text
    text = "\n".join(p.text for p in document.paragraphs) + "\n".join(
        c.text for t in document.tables for r in t.rows for c in r.cells
    )
    assert f"{a['total']:g}" in text and "不合格" in text and "测试联盟A" in text
    assert "自评 A&B<说明>" in text and "限期整改" in text and "未公布" not in text
    # The stored document is the exact bytes the API hands out; rendering is deterministic.
    again = client.get(f"/api/evaluations/{a['id']}/form.docx", headers=login("lead-a")).content
    assert again == content


def test_an_unpublished_form_says_so(client, login, published):
    r = client.get(f"/api/evaluations/{published['TB']['id']}/form.docx", headers=login("lead-b"))
    assert r.status_code == 200
    assert "attachment" in r.headers["content-disposition"]
    document = Document(io.BytesIO(r.content))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "（未公布，仅供核对）" in text
    result = next([c.text for c in row.cells] for t in document.tables for row in t.rows if row.cells[0].text == "总分")
    assert result == ["总分", "待评分", "等次", "待评分"]  # the bureau's running total stays off the form
    assert client.get(f"/api/evaluations/{published['TB']['id']}/form.docx", headers=login("lead-a")).status_code == 404


def test_the_summary_workbook_ranks_the_alliances_with_the_api_numbers(client, login, published):
    assert (
        client.get("/api/evaluations/summary.xlsx", params={"year": YEAR}, headers=login("lead-a")).status_code == 404
    )
    assert (
        client.get("/api/evaluations/summary.xlsx", params={"year": 2031}, headers=login("officer")).status_code == 404
    )
    r = client.get("/api/evaluations/summary.xlsx", params={"year": YEAR}, headers=login("officer"))
    assert r.status_code == 200, r.text
    sheet = load_workbook(io.BytesIO(r.content))[f"{YEAR}年度考核汇总"]
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["排名", "联盟代码", "联盟名称", "龙头园"] and header[-4:] == [
        "总分",
        "等次",
        "否决项",
        "状态",
    ]
    rows = {row[1]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    b, a = published["TB"], published["TA"]
    assert (rows["TB"][0], rows["TA"][0]) == (1, 2)
    for evaluation in (a, b):
        row = rows[evaluation["alliance_code"]]
        assert row[4:-4] == tuple(i["final"] for i in evaluation["items"])
        assert row[-4:-1] == (evaluation["total"], evaluation["grade"], None)
    assert sheet.freeze_panes == "E2" and sheet.auto_filter.ref == "A1:T3"
    rules = [(str(cf.sqref), rule.formula[0]) for cf in sheet.conditional_formatting for rule in cf.rules]
    assert ("A2:T3", '$R2="不合格"') in rules and ("A2:T3", '$R2="优秀"') in rules
    for column in ("B", "C", "D", "S"):  # Chinese characters count as two cells wide
        longest = max(display_width(str(c.value or "")) for c in sheet[column])
        assert sheet.column_dimensions[column].width >= longest, column
    again = client.get("/api/evaluations/summary.xlsx", params={"year": YEAR}, headers=login("researcher")).content
    assert again == r.content


@pytest.mark.slow
def test_libreoffice_opens_the_form_and_the_workbook_with_the_same_numbers(client, login, published, tmp_path: Path):
    a = published["TA"]
    content, _ = _form(client, login, a)
    (tmp_path / "form.docx").write_bytes(content)
    workbook = client.get("/api/evaluations/summary.xlsx", params={"year": YEAR}, headers=login("officer")).content
    (tmp_path / "summary.xlsx").write_bytes(workbook)

    def convert(target: str, source: str) -> None:
        subprocess.run(
            [shutil.which("soffice") or "soffice", "--headless", "--norestore",
             f"-env:UserInstallation=file://{tmp_path / 'profile'}",
             "--convert-to", target, "--outdir", str(tmp_path), str(tmp_path / source)],
            check=True, capture_output=True, timeout=180,
        )  # fmt: skip

    convert("pdf", "form.docx")
    convert("csv:Text - txt - csv (StarCalc):44,34,76", "summary.xlsx")
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "form.pdf"), "-"], check=True,
                          capture_output=True, text=True).stdout  # fmt: skip
    assert "年度考核评价表" in text and "不合格" in text and f"{a['total']:g}" in text
    for item in a["items"]:
        assert number_text(item["final"]) in text
    rows = list(csv.reader((tmp_path / "summary.csv").read_text(encoding="utf-8").splitlines()))
    by_code = {row[1]: row for row in rows[1:]}
    for evaluation in (published["TA"], published["TB"]):
        row = by_code[evaluation["alliance_code"]]
        assert [float(v) for v in row[4:-4]] == [i["final"] for i in evaluation["items"]]
        assert (float(row[-4]), row[-3]) == (evaluation["total"], evaluation["grade"])
