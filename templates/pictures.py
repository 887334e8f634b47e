"""Pictures in rendered Word documents: a template holds a named placeholder picture, and the rendered
file gets the real image (a QR code, a seal) in its place, same size and position.

A placeholder is an inline picture whose ``wp:docPr`` carries a ``name`` (python-docx:
``shape._inline.docPr.set("name", ...)``). Each placeholder needs an image part of its own: python-docx
shares one part between identical images, so give each placeholder different bytes. Only PNG goes in
(the part keeps its ``.png`` name and content type). The output is a deterministic zip: the same
inputs give the same bytes.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Mapping

from lxml import etree

from templates.rendering import deflate, write_zip

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_WP = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_PARTS_WITH_PICTURES = re.compile(r"word/(document|header\d*|footer\d*)\.xml")


def _rels_name(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _targets(parts: Mapping[str, bytes], part: str, wanted: set[str]) -> dict[str, str]:
    """Picture name -> image part, for the named placeholders found in ``part``."""
    root = etree.fromstring(parts[part])
    embeds: dict[str, str] = {}
    for doc_pr in root.iter(f"{{{_WP}}}docPr"):
        name = doc_pr.get("name")
        if name not in wanted:
            continue
        drawing = doc_pr.getparent()
        blip = None if drawing is None else next(drawing.iter(f"{{{_A}}}blip"), None)
        if blip is not None and blip.get(f"{{{_R}}}embed"):
            embeds[name] = blip.get(f"{{{_R}}}embed")
    if not embeds:
        return {}
    rels = etree.fromstring(parts[_rels_name(part)])
    by_id = {r.get("Id"): r.get("Target") for r in rels.iter(f"{{{_PKG_RELS}}}Relationship")}
    folder = posixpath.dirname(part)
    return {name: posixpath.normpath(posixpath.join(folder, by_id[rid])) for name, rid in embeds.items()}


def replace_pictures(docx: bytes, pictures: Mapping[str, bytes]) -> bytes:
    """``docx`` with the image of each named placeholder replaced by the given PNG bytes."""
    for name, content in pictures.items():
        if not content.startswith(PNG_SIGNATURE):
            raise ValueError(f"picture {name!r}: only PNG images can replace a placeholder")
    with zipfile.ZipFile(io.BytesIO(docx)) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist() if not info.is_dir()}
    found: dict[str, str] = {}
    for part in parts:
        if _PARTS_WITH_PICTURES.fullmatch(part):
            found.update(_targets(parts, part, set(pictures) - set(found)))
    missing = sorted(set(pictures) - set(found))
    if missing:
        raise KeyError(f"no placeholder picture named {', '.join(missing)}")
    shared = {t for t in found.values() if list(found.values()).count(t) > 1}
    if shared:
        raise ValueError(f"placeholders share an image part ({', '.join(sorted(shared))}); give each its own image")
    for name, target in found.items():
        if not target.endswith(".png"):
            raise ValueError(f"placeholder {name!r} is not a PNG picture ({target})")
        parts[target] = pictures[name]
    return write_zip(deflate(name, content) for name, content in parts.items())


def replace_picture(docx: bytes, *, name: str, content: bytes) -> bytes:
    """``docx`` with the placeholder picture ``name`` showing ``content`` (PNG) instead."""
    return replace_pictures(docx, {name: content})
