"""Word documents from the .docx templates in ``templates/files``: context in, bytes out.

    render_docx("application_form.docx", context) -> bytes

A template is a Word file with docxtpl tags (``{{ name }}``, ``{%tr for a in attachments %}``,
``{%p if ... %}``). It is read once and kept compiled (per path and modification time): docxtpl's
``patch_xml`` turns the XML of the document, headers, footers and footnotes into Jinja source,
which is compiled by the sandboxed, autoescaping environment of ``rendering``. A render runs those
compiled templates, deflates only the parts it rendered and copies every other part's compressed
bytes into a deterministic zip, so equal inputs give equal bytes.

At load time every run is given its East Asian font explicitly (the one its styles would give it,
or SimSun 宋体), as is the document default: Chinese text never depends on a theme font.
Revision ids (``w:rsid*``, ``w14:paraId``/``textId``) are dropped so repeated rows do not repeat ids.
Pictures and sub-documents (docxtpl ``InlineImage``/``Subdoc``) are not supported.
"""

from __future__ import annotations

import io
import itertools
import re
import threading
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.parsers import expat

from docxtpl import DocxTemplate
from jinja2 import Template, TemplateSyntaxError
from lxml import etree

from templates.rendering import (
    CONTENT_TYPES,
    ENVIRONMENT,
    BrokenTemplate,
    MissingValue,
    ZipMember,
    content_types_first,
    deflate,
    pin_core_properties,
    write_zip,
)

__all__ = [
    "TEMPLATE_DIR", "BrokenTemplate", "CompiledDocx", "MissingValue", "compile_docx",
    "load_template", "patch_part", "render_docx", "template_path", "templated_parts",
]  # fmt: skip

TEMPLATE_DIR = Path(__file__).resolve().parent / "files"
DEFAULT_EAST_ASIA_FONT = "SimSun"  # 宋体; fontconfig knows it as a serif Chinese face
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_W14 = "http://schemas.microsoft.com/office/word/2010/wordml"
_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
_WML = "application/vnd.openxmlformats-officedocument.wordprocessingml."
# The parts docxtpl renders: body, headers, footers, footnotes (core properties are handled apart).
_TEMPLATED_TYPES = frozenset(
    [_WML + kind + "+xml" for kind in ("document.main", "template.main", "header", "footer", "footnotes")]
    + ["application/vnd.ms-word.document.macroEnabled.main+xml"]
)
_STYLES_TYPE = _WML + "styles+xml"
_THEME_TYPE = "application/vnd.openxmlformats-officedocument.theme+xml"
_CORE_TYPE = "application/vnd.openxmlformats-package.core-properties+xml"
_DROPPED_ATTRIBUTES = frozenset({f"{{{_W14}}}paraId", f"{{{_W14}}}textId"})
_KEEP_WHITESPACE = frozenset({f"{{{_W}}}{tag}" for tag in ("t", "delText", "instrText")})
_BREAK_TEXT = re.compile(r"<w:t(?: [^>]*)?>[^<]*[\n\t\a\f]")  # a text node with a line break or tab
_DOCPR_ID = re.compile(r'(<wp:docPr\b[^>]*?\sid=")\d+(")')
# Tags that change a table's column count, which docxtpl's fix_tables then repairs.
_TABLE_SHAPE_TAGS = re.compile(r"\{[%{]-?tc\s|\{%-?\s*(?:colspan|hm)\b")
# docxtpl's escapes for literal braces, resolved at compile time: after rendering, a value that
# contains "{_{" must stay as written.
_LITERAL_BRACES = {"{_{": "{{ '{{' }}", "}_}": "{{ '}}' }}", "{_%": "{{ '{%' }}", "%_}": "{{ '%}' }}"}

_DOCXTPL = DocxTemplate(None)  # its patch_xml, resolve_listing and fix_tables are pure functions


def _w(tag: str) -> str:
    return f"{{{_W}}}{tag}"


@dataclass(frozen=True)
class TemplatePart:
    """One templated part: the Jinja source docxtpl's patch produced, and its compiled form."""

    name: str
    source: str
    template: Template
    wordprocessing: bool = True  # False for docProps/core.xml, which keeps its own declaration
    fix_tables: bool = False  # {%tc %} loops or colspans change a table's column count

    def render(self, context: Mapping[str, Any], docpr_ids: itertools.count[int]) -> bytes:
        text = self.template.render(context)
        if not self.wordprocessing:
            return text.encode("utf-8")
        text = text.replace("\n<w:p", "<w:p")
        text = resolve_breaks(text)
        if self.fix_tables:
            text = etree.tostring(_DOCXTPL.fix_tables(text), encoding="unicode")
        if "<wp:docPr" in text:  # pictures repeated by a loop need unique ids
            text = _DOCPR_ID.sub(lambda m: f"{m.group(1)}{next(docpr_ids)}{m.group(2)}", text)
        return (XML_DECLARATION + text).encode("utf-8")


@dataclass(frozen=True)
class CompiledDocx:
    """A template ready to render: templated parts compiled, every other part already deflated."""

    name: str
    members: tuple[ZipMember | TemplatePart, ...]

    @property
    def parts(self) -> tuple[TemplatePart, ...]:
        return tuple(m for m in self.members if isinstance(m, TemplatePart))

    def render(self, context: Mapping[str, Any]) -> bytes:
        """The document for ``context``; MissingValue names a value the template needs but lacks."""
        docpr_ids = itertools.count(1001)
        out: list[ZipMember] = []
        for member in self.members:
            if isinstance(member, TemplatePart):
                try:
                    content = member.render(context, docpr_ids)
                except MissingValue as exc:
                    raise MissingValue(exc.name, self.name) from None
                _check_well_formed(content, f"{self.name} {member.name}")
                member = deflate(member.name, content)
            out.append(member)
        return write_zip(out)


def _check_well_formed(content: bytes, where: str) -> None:
    """Values are escaped, so only template logic (a {%p if %} closing the wrong paragraph) can break
    the XML; Word would call the file corrupt. expat checks it in a third of a render's time."""
    parser = expat.ParserCreate(namespace_separator=" ")
    try:
        parser.Parse(content, True)
    except expat.ExpatError as exc:
        raise BrokenTemplate(f"模板 {where} 渲染结果不是合法的 XML / rendered XML is malformed: {exc}") from None


def resolve_breaks(xml: str) -> str:
    """docxtpl's resolve_listing (\\n line break, \\t tab, \\a paragraph, \\f page), run only on
    the paragraphs that need it: over a whole document it costs more than the rest of a render."""
    pieces, done = [], 0
    for match in _BREAK_TEXT.finditer(xml):
        if match.start() < done:
            continue  # in a paragraph already resolved
        start = max(xml.rfind("<w:p>", done, match.start()), xml.rfind("<w:p ", done, match.start()))
        end = xml.find("</w:p>", match.end())
        if start < 0 or end < 0:
            continue  # not in a paragraph: leave it as docxtpl would
        end += len("</w:p>")
        pieces += [xml[done:start], _DOCXTPL.resolve_listing(xml[start:end])]
        done = end
    return "".join(pieces) + xml[done:] if pieces else xml


# --- fonts -----------------------------------------------------------------------------------------


class _EastAsiaFonts:
    """The East Asian font a run gets from its styles, the document defaults and the theme."""

    def __init__(self, styles: etree._Element | None, theme: etree._Element | None) -> None:
        self.theme: dict[str, str] = {}  # eastAsiaTheme value -> typeface (Simplified Chinese first)
        for kind in ("major", "minor"):
            for path in (f"{{{_A}}}font[@script='Hans']", f"{{{_A}}}ea"):
                element = None if theme is None else theme.find(f".//{{{_A}}}{kind}Font/{path}")
                face = None if element is None else element.get("typeface")
                if face:
                    self.theme[f"{kind}EastAsia"] = face
                    break
        self.styles: dict[str, etree._Element] = {}
        self.default_paragraph_style: str | None = None
        self.default_font = DEFAULT_EAST_ASIA_FONT
        if styles is None:
            return
        for style in styles.iter(_w("style")):
            style_id = style.get(_w("styleId"))
            if style_id:
                self.styles[style_id] = style
                if style.get(_w("type")) == "paragraph" and style.get(_w("default")) in ("1", "true", "on"):
                    self.default_paragraph_style = style_id
        defaults = styles.find(f"{_w('docDefaults')}/{_w('rPrDefault')}/{_w('rPr')}")
        self.default_font = self._font(defaults) or DEFAULT_EAST_ASIA_FONT

    def _font(self, rpr: etree._Element | None) -> str | None:
        fonts = None if rpr is None else rpr.find(_w("rFonts"))
        if fonts is None:
            return None
        theme = fonts.get(_w("eastAsiaTheme"))  # takes precedence over eastAsia
        if theme:
            return self.theme.get(theme, DEFAULT_EAST_ASIA_FONT)
        east_asia: str | None = fonts.get(_w("eastAsia"))
        return east_asia

    def style_font(self, style_id: str | None) -> str | None:
        seen: set[str] = set()
        while style_id and style_id not in seen and style_id in self.styles:
            seen.add(style_id)
            style = self.styles[style_id]
            font = self._font(style.find(_w("rPr")))
            if font:
                return font
            based_on = style.find(_w("basedOn"))
            style_id = None if based_on is None else based_on.get(_w("val"))
        return None

    def run_font(self, run: etree._Element) -> str:
        rpr = run.find(_w("rPr"))
        font = self._font(rpr)
        if font:
            return font
        run_style = None if rpr is None else rpr.find(_w("rStyle"))
        if run_style is not None and (font := self.style_font(run_style.get(_w("val")))):
            return font
        paragraph = next((a for a in run.iterancestors(_w("p"))), None)
        style_id = self.default_paragraph_style
        if paragraph is not None:
            p_style = paragraph.find(f"{_w('pPr')}/{_w('pStyle')}")
            if p_style is not None:
                style_id = p_style.get(_w("val"))
        return self.style_font(style_id) or self.default_font


def _set_east_asia(rpr: etree._Element, font: str) -> None:
    fonts = rpr.find(_w("rFonts"))
    if fonts is None:
        fonts = etree.Element(_w("rFonts"))
        first = rpr[0] if len(rpr) else None
        rpr.insert(1 if first is not None and first.tag == _w("rStyle") else 0, fonts)
    fonts.attrib.pop(_w("eastAsiaTheme"), None)
    fonts.set(_w("eastAsia"), font)


def _fix_styles(styles: etree._Element, fonts: _EastAsiaFonts) -> None:
    """Give the document defaults an explicit East Asian font (not a theme font)."""
    defaults = styles.find(_w("docDefaults"))
    if defaults is None:
        defaults = etree.Element(_w("docDefaults"))
        styles.insert(0, defaults)
    rpr_default = defaults.find(_w("rPrDefault"))
    if rpr_default is None:
        rpr_default = etree.Element(_w("rPrDefault"))
        defaults.insert(0, rpr_default)
    rpr = rpr_default.find(_w("rPr"))
    if rpr is None:
        rpr = etree.SubElement(rpr_default, _w("rPr"))
    _set_east_asia(rpr, fonts.default_font)


def _prepare_part(root: etree._Element, fonts: _EastAsiaFonts) -> None:
    for element in root.iter(etree.Element):
        for attribute in [a for a in element.attrib if a in _DROPPED_ATTRIBUTES or a.startswith(f"{{{_W}}}rsid")]:
            del element.attrib[attribute]
        # Indentation between elements is no text; dropping it keeps "\n" for values' line breaks.
        if element.tag not in _KEEP_WHITESPACE and element.text and not element.text.strip() and len(element):
            element.text = None
        if element.tail and not element.tail.strip():
            element.tail = None
    for run in root.iter(_w("r")):
        font = fonts.run_font(run)
        rpr = run.find(_w("rPr"))
        if rpr is None:
            rpr = etree.Element(_w("rPr"))
            run.insert(0, rpr)
        _set_east_asia(rpr, font)


# --- compiling ---------------------------------------------------------------------------------------


def _content_types(parts: Mapping[str, bytes]) -> dict[str, str]:
    """Each part's content type, from the overrides and extension defaults of [Content_Types].xml."""
    root = etree.fromstring(parts[CONTENT_TYPES])
    defaults = {d.get("Extension", "").lower(): d.get("ContentType", "") for d in root.iter(f"{{{_CT}}}Default")}
    overrides = {o.get("PartName", "").lstrip("/"): o.get("ContentType", "") for o in root.iter(f"{{{_CT}}}Override")}
    return {p: overrides.get(p) or defaults.get(p.rsplit(".", 1)[-1].lower(), "") for p in parts}


def _compile(name: str, part: str, source: str) -> Template:
    try:
        return ENVIRONMENT.from_string(source)
    except TemplateSyntaxError as exc:
        lines = source.splitlines()
        near = re.sub(r"<[^>]+>", "", "".join(lines[max(exc.lineno - 2, 0) : exc.lineno + 1]))[:200]
        raise BrokenTemplate(
            f"模板 {name} 的 {part} 第 {exc.lineno} 段有语法错误：{exc.message}（附近文字：{near}）"
        ) from exc


def patch_part(xml: str) -> str:
    """docxtpl's tag reassembly for one part's XML, with literal-brace escapes made safe."""
    patched = _DOCXTPL.patch_xml(xml)
    for escaped, literal in _LITERAL_BRACES.items():
        patched = patched.replace(escaped, literal)
    return re.sub(r"<w:p([ >])", r"\n<w:p\1", patched)  # one paragraph per line: error lines point somewhere


def _read_package(package: bytes, name: str) -> tuple[dict[str, bytes], dict[str, str]]:
    """The parts of a .docx and their content types."""
    try:
        with zipfile.ZipFile(io.BytesIO(package)) as archive:
            raw = {info.filename: archive.read(info) for info in archive.infolist() if not info.is_dir()}
    except zipfile.BadZipFile as exc:
        raise BrokenTemplate(f"模板 {name} 不是有效的 .docx 文件 / not a .docx file") from exc
    if CONTENT_TYPES not in raw:
        raise BrokenTemplate(f"模板 {name} 缺少 {CONTENT_TYPES} / not a .docx file")
    return raw, _content_types(raw)


def templated_parts(package: bytes, *, name: str) -> dict[str, tuple[str, bool]]:
    """The parts of a .docx that are rendered, as written (part -> (XML, is a WordprocessingML part))."""
    raw, kinds = _read_package(package, name)
    parts = {p: (raw[p].decode("utf-8"), True) for p, kind in kinds.items() if kind in _TEMPLATED_TYPES}
    for part, kind in kinds.items():
        if kind == _CORE_TYPE and _has_tags(text := raw[part].decode("utf-8")):
            parts[part] = (text, False)
    return parts


def _has_tags(text: str) -> bool:
    return "{{" in text or "{%" in text


def compile_docx(package: bytes, *, name: str) -> CompiledDocx:
    """Compile a .docx template held in memory (``name`` is used in error messages)."""
    raw, kinds = _read_package(package, name)
    styles_name = next((p for p, t in kinds.items() if t == _STYLES_TYPE), None)
    theme_name = next((p for p, t in sorted(kinds.items()) if t == _THEME_TYPE), None)
    styles = etree.fromstring(raw[styles_name]) if styles_name else None
    fonts = _EastAsiaFonts(styles, etree.fromstring(raw[theme_name]) if theme_name else None)
    if styles is not None and styles_name:
        _fix_styles(styles, fonts)
        raw[styles_name] = XML_DECLARATION.encode() + etree.tostring(styles, encoding="utf-8")

    members: list[ZipMember | TemplatePart] = []
    for part in content_types_first(raw):
        content, kind = raw[part], kinds[part]
        if kind in _TEMPLATED_TYPES:
            root = etree.fromstring(content)
            _prepare_part(root, fonts)
            xml = etree.tostring(root, encoding="unicode")
            source = patch_part(xml)
            fix_tables = bool(_TABLE_SHAPE_TAGS.search(re.sub(r"<[^>]+>", "", xml)))
            members.append(TemplatePart(part, source, _compile(name, part, source), fix_tables=fix_tables))
            continue
        if kind == _CORE_TYPE:
            content = pin_core_properties(content)
            text = content.decode("utf-8")
            if _has_tags(text):
                members.append(TemplatePart(part, text, _compile(name, part, text), wordprocessing=False))
                continue
        members.append(deflate(part, content))
    return CompiledDocx(name, tuple(members))


# --- the cache and the public entry point ----------------------------------------------------------

_cache: dict[Path, tuple[tuple[int, int], CompiledDocx]] = {}
_cache_lock = threading.Lock()


def template_path(template_name: str) -> Path:
    """The file of a template under ``templates/files``; names only, no paths."""
    if Path(template_name).name != template_name or not template_name.endswith(".docx"):
        raise ValueError(f"not a template name: {template_name!r}")
    return TEMPLATE_DIR / template_name


def load_template(path: Path) -> CompiledDocx:
    """The compiled template at ``path``, compiled once per modification of the file."""
    path = path.resolve()
    with _cache_lock:
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        cached = _cache.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        compiled = compile_docx(path.read_bytes(), name=path.name)
        _cache[path] = (stamp, compiled)
        return compiled


def render_docx(template_name: str, context: Mapping[str, Any]) -> bytes:
    """Render ``templates/files/<template_name>`` with ``context``: the same inputs, the same bytes."""
    return load_template(template_path(template_name)).render(context)
