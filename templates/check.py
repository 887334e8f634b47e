"""Check the templates under ``templates/files`` before anyone renders them (``kinderflow templates check``).

For each .docx it lists the variables the template uses and reports, as problems:
- variables not declared for it in ``templates/catalog.py`` (``TEMPLATE_VARIABLES``), or a template
  with no entry there;
- tags Word split so that docxtpl cannot put them back together: a tag running across paragraphs or
  table cells, stray ``}}``/``%}`` left in the text, tags typed with full-width braces (｛｛ ｝｝, as a
  Chinese input method produces), and any Jinja syntax error after docxtpl's patch;
- a file that does not compile at all.
Declared variables the template no longer uses are warnings: the form may have lost a field.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import TemplateSyntaxError, meta

from templates.catalog import TEMPLATE_VARIABLES
from templates.docx import TEMPLATE_DIR, BrokenTemplate, compile_docx, patch_part, templated_parts
from templates.rendering import ENVIRONMENT

# docxtpl's own notion of a tag in raw XML (patch_xml's striptags step), closers included.
_RAW_TAG = re.compile(r"\{%(?:(?!%\}).)*%\}|\{#(?:(?!#\}).)*#\}|\{\{(?:(?!\}\}).)*\}\}", re.DOTALL)
_MARKUP = re.compile(r"<[^>]*>")
_STRAY_CLOSER = re.compile(r"\}\}|%\}|#\}")
# Two-character tag delimiters, overlapping (a lookahead), of which full-width ones are reported.
_DELIMITER = re.compile(r"(?=([｛{][｛{%％]|[%％｝}][｝}]))")


@dataclass
class TemplateReport:
    """What ``check_templates`` found in one template file."""

    name: str
    variables: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _text(xml: str) -> str:
    return _MARKUP.sub("", xml)


def _split_tags(part: str, raw: str) -> list[str]:
    problems = []
    for match in _RAW_TAG.finditer(raw):
        if "</w:p>" in match.group(0):
            problems.append(f"{part}：标签跨越了段落或单元格 / tag split across paragraphs: {_text(match.group(0))!r}")
    for match in _DELIMITER.finditer(_text(raw)):
        if any(ch in "｛｝％" for ch in match.group(1)):
            problems.append(f"{part}：全角括号写的标签 / tag typed with full-width braces: {match.group(1)!r}")
    return problems


def _check_source(part: str, source: str) -> tuple[set[str], list[str]]:
    """Variables and problems of one part's Jinja source (after docxtpl's patch)."""
    try:
        tokens = list(ENVIRONMENT.lex(source))
        tree = ENVIRONMENT.parse(source)
    except TemplateSyntaxError as exc:
        lines = source.splitlines()
        near = _text("".join(lines[max((exc.lineno or 1) - 2, 0) : (exc.lineno or 1) + 1]))[:120]
        return set(), [f"{part}：模板语法错误 / syntax error: {exc.message}（附近文字 near: {near!r}）"]
    problems = [
        f"{part}：拆散后未能拼合的标签碎片 / fragment of a split tag: {_text(value)!r}"
        for _, kind, value in tokens
        if kind == "data" and _STRAY_CLOSER.search(_text(value))
    ]
    return set(meta.find_undeclared_variables(tree)) - set(ENVIRONMENT.globals), problems


def check_template(path: Path, declared: frozenset[str] | None) -> TemplateReport:
    """Check one .docx template against its declared variables (None: the template is not declared)."""
    report = TemplateReport(path.name)
    try:
        parts = templated_parts(path.read_bytes(), name=path.name)
    except BrokenTemplate as exc:
        report.problems.append(str(exc))
        return report
    used: set[str] = set()
    for part, (raw, wordprocessing) in parts.items():
        if wordprocessing:
            report.problems += _split_tags(part, raw)
        variables, problems = _check_source(part, patch_part(raw) if wordprocessing else raw)
        used |= variables
        report.problems += problems
    report.variables = sorted(used)
    if declared is None:
        report.problems.append("未在 templates/catalog.py 的 TEMPLATE_VARIABLES 中声明 / not declared in the catalog")
    else:
        report.problems += [f"未声明的变量 / unknown variable: {v}" for v in sorted(used - declared)]
        report.warnings += [f"已声明但未使用 / declared but unused: {v}" for v in sorted(declared - used)]
    if report.ok:
        try:
            compile_docx(path.read_bytes(), name=path.name)
        except BrokenTemplate as exc:
            report.problems.append(str(exc))
    return report


def check_templates(
    folder: Path = TEMPLATE_DIR, catalog: Mapping[str, frozenset[str]] = TEMPLATE_VARIABLES
) -> list[TemplateReport]:
    """A report for every .docx in ``folder`` and every catalog entry whose file is missing."""
    files = sorted(p for p in folder.glob("*.docx") if not p.name.startswith("~$"))  # ~$: Word's lock files
    reports = [check_template(path, catalog.get(path.name)) for path in files]
    present = {path.name for path in files}
    for name in sorted(set(catalog) - present):
        reports.append(TemplateReport(name, problems=[f"模板文件不存在 / file missing: {folder / name}"]))
    return reports


def format_report(reports: Sequence[TemplateReport], folder: Path) -> str:
    lines = [f"模板检查 / template check: {folder}"]
    for report in reports:
        status = "通过 OK  " if report.ok else "失败 FAIL"
        lines.append(f"{status} {report.name}（{len(report.variables)} 个变量 variables）")
        if report.variables:
            lines.append("    变量 variables: " + ", ".join(report.variables))
        lines += [f"    ✗ {problem}" for problem in report.problems]
        lines += [f"    ! {warning}" for warning in report.warnings]
    failed = sum(not r.ok for r in reports)
    lines.append(
        f"结果 result: {len(reports)} 个模板，{failed} 个有问题 / {len(reports)} template(s), {failed} with problems"
        if reports
        else "结果 result: 没有模板 / no templates found"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the report; exit code 1 when any template has a problem (or none was found)."""
    parser = argparse.ArgumentParser(prog="kinderflow templates check", description="Check the .docx templates.")
    parser.add_argument("folder", nargs="?", type=Path, default=TEMPLATE_DIR)
    args = parser.parse_args(argv)
    reports = check_templates(args.folder)
    print(format_report(reports, args.folder))
    return 0 if reports and all(r.ok for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
