"""Application forms rendered per second, one template and one context throughout:

- ours:  ``templates.docx.render_docx`` (compiled once; unchanged parts copied already deflated);
- naive: ``DocxTemplate(path).render(context, autoescape=True)`` and ``save`` per document;
- floor: no templating at all: read every part of the template (held in memory) and write a new
  zip at the same compression level. A renderer that deflates every part cannot beat it.

Targets: ours at least 3x naive, and at least 0.8x the floor.
"""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Callable
from typing import Any

from docxtpl import DocxTemplate

from templates.docx import load_template, render_docx, template_path
from templates.rendering import COMPRESSION_LEVEL

TEMPLATE = "application_form.docx"
TARGET_VS_NAIVE = 3.0
TARGET_VS_FLOOR = 0.8


def sample_context() -> dict[str, Any]:
    """A fully filled-in application, as a busy week's submissions look."""
    return {
        "name": "南昌市青山湖区阳光雨露幼儿园", "credit_code": "52360111MJB123456X",
        "licence_no": "教民136011170000123号", "licence_issued_on": "2019-08-01",
        "sponsor": "南昌市青山湖区阳光雨露教育咨询有限公司", "legal_representative": "张三",
        "head_name": "李四", "head_phone": "13800000000", "contact_name": "王五",
        "contact_phone": "0791-88888888", "address": "江西省南昌市青山湖区湖滨东路100号",
        "town": "湖坊镇", "ownership_label": "民办非营利", "inclusive_label": "是", "classes": "6",
        "children": "180", "staff": "32", "teachers": "14", "certified_teachers": "12",
        "certification_rate": "86%", "site_area_m2": "2400", "building_area_m2": "1800",
        "last_inspection_year": "2024", "last_inspection_result": "合格", "penalties_last_3_years": "无",
        "safety_incidents_last_3_years": "无", "preferred_alliance_name": "青山湖区第一幼教联盟（龙头园：区实验幼儿园）",
        "reasons": "一、本园课程建设薄弱，希望在龙头园指导下完善园本课程。\n"
                   "二、教师队伍年轻，专业成长需要系统的教研支持。\n三、希望共享联盟的游戏活动资源与环境创设经验。",
        "needs_label": "管理、课程、游戏、环境、保育",
        "commitments": "本园承诺：按时参加联盟组织的各项教研活动；按要求提交活动资料并及时归档；"
                       "如实填报各项信息；接受联盟和区教科体局的指导与年度考核评价。",
        "attachments": [
            {"kind_label": kind, "filename": f"{kind}.pdf", "size_label": "1.2 MB", "sha256_short": f"{i:016x}"}
            for i, kind in enumerate(("办园许可证", "年检证明", "消防验收证明", "食品经营许可证", "安全承诺书"))
        ],
        "eligibility": [
            {"label": "办园许可证满一年且年检合格", "result": "符合", "detail": "发证 2019-08-01，2024 年检合格"},
            {"label": "班级数不少于3个", "result": "符合", "detail": "6 个班"},
            {"label": "近三年无行政处罚", "result": "符合", "detail": "申报：无"},
            {"label": "无安全隐患和违规办园行为", "result": "待核实", "detail": "需龙头园实地核实"},
        ],
        "application_no": "QSH-2026-0001", "version_no": "1", "generated_on": "2026-03-01",
        "submitted_on": "2026年3月1日", "review_opinion": "", "decision_line": "", "reviewer": "区教科体局成幼科",
        "decided_on": "________年____月____日",
    }  # fmt: skip


def _rate(make: Callable[[], bytes], *, seconds: float, min_docs: int) -> tuple[float, int]:
    """Documents per second over at least ``seconds`` and ``min_docs`` documents."""
    make()  # warm: caches, imports
    done, start = 0, time.perf_counter()
    while True:
        for _ in range(10):
            make()
        done += 10
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and done >= min_docs:
            return round(done / elapsed, 1), done


def run(*, quick: bool = False) -> dict[str, Any]:
    path = template_path(TEMPLATE)
    context = sample_context()
    template_bytes = path.read_bytes()

    def ours() -> bytes:
        return render_docx(TEMPLATE, context)

    def naive() -> bytes:
        document = DocxTemplate(path)
        document.render(context, autoescape=True)
        buffer = io.BytesIO()
        document.save(buffer)
        return buffer.getvalue()

    def floor() -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(template_bytes)) as source:
            parts = [(info.filename, source.read(info)) for info in source.infolist()]
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESSION_LEVEL) as target:
            for name, content in parts:
                target.writestr(name, content)
        return buffer.getvalue()

    started = time.perf_counter()
    load_template(path)
    compile_ms = (time.perf_counter() - started) * 1000
    seconds, min_docs = (0.5, 20) if quick else (5.0, 200)
    rates = {name: _rate(make, seconds=seconds, min_docs=min_docs) for name, make in
             (("ours", ours), ("naive", naive), ("floor", floor))}  # fmt: skip
    vs_naive = round(rates["ours"][0] / rates["naive"][0], 2)
    vs_floor = round(rates["ours"][0] / rates["floor"][0], 2)
    return {
        "template": TEMPLATE,
        "document_bytes": {"ours": len(ours()), "naive": len(naive()), "floor": len(floor())},
        "documents": {name: count for name, (_, count) in rates.items()},
        "compile_ms": round(compile_ms, 2),
        "metrics": [
            {"metric": "ours", "value": rates["ours"][0], "unit": "docs/s", "target": None, "passed": None},
            {"metric": "naive docxtpl", "value": rates["naive"][0], "unit": "docs/s", "target": None, "passed": None},
            {"metric": "floor (zip rewrite)", "value": rates["floor"][0], "unit": "docs/s", "target": None,
             "passed": None},
            {"metric": "ours / naive", "value": vs_naive, "unit": "x", "target": TARGET_VS_NAIVE,
             "passed": vs_naive >= TARGET_VS_NAIVE},
            {"metric": "ours / floor", "value": vs_floor, "unit": "x", "target": TARGET_VS_FLOOR,
             "passed": vs_floor >= TARGET_VS_FLOOR},
        ],
    }  # fmt: skip
