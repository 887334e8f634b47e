"""Seal images: uploaded scans (PNG), demo specimens marked 样章, and the stamps shown on signed PDFs.

A seal image is only what the reader sees; what binds a party is its signer's key. Demo specimens
are drawn plainly (a ring, the name, 样章 in the middle, no star) so they cannot pass for real seals.
"""

from __future__ import annotations

import io
import math
import shutil
import subprocess
import uuid
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy.orm import Session

from storage.objects import ObjectStore
from storage.settings import Settings
from workflows import audit
from workflows.access import Viewer
from workflows.agreements.models import Agreement, BureauSeal
from workflows.agreements.parties import BUREAU_PARTY_NAME, BUREAU_SEAL_CODE
from workflows.errors import FieldError, NotFound, ServiceUnavailable, ValidationFailed
from workflows.registry.models import Kindergarten
from workflows.roles import Role
from workflows.uploads import PNG, sniff

RED = (200, 16, 16, 255)
FONT_FALLBACKS = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
)
MAX_SEAL_PIXELS = 4000
MIN_SEAL_PIXELS = 100
MAX_SEAL_BYTES = 5 * 1024 * 1024


class NoChineseFont(ServiceUnavailable):
    """No font with Chinese glyphs is installed (Debian package fonts-noto-cjk): a 503 naming the package."""

    code = "chinese_font_missing"
    message = "未找到中文字体，无法绘制印章或签章（请安装 fonts-noto-cjk）"


@lru_cache(maxsize=1)
def chinese_font() -> tuple[str, int]:
    """The file and collection index of a Simplified Chinese font, via fontconfig or known paths."""
    candidates = list(FONT_FALLBACKS)
    if shutil.which("fc-match"):
        found = subprocess.run(
            ["fc-match", "Noto Sans CJK SC:lang=zh-cn", "--format=%{file}:%{index}"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout
        found_path, _, found_index = found.rpartition(":")
        if "CJK" in found_path or "wqy" in found_path.lower():
            candidates.insert(0, (found_path, int(found_index or 0)))
    for path, index in candidates:
        if Path(path).is_file():
            return path, index
    raise NoChineseFont()


def font(size: int) -> ImageFont.FreeTypeFont:
    path, index = chinese_font()
    return ImageFont.truetype(path, size, index=index)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def draw_specimen_seal(name: str, *, size: int = 480) -> bytes:
    """A round red specimen seal: ``name`` around the top, 样章 in the middle (PNG, transparent)."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    ring = size // 28
    draw.ellipse((ring, ring, size - ring, size - ring), outline=RED, width=ring)
    centre = size / 2
    chars = list(name)[:24]
    char_size = int(size * (0.13 if len(chars) <= 12 else 0.10))
    glyph_font = font(char_size)
    span = min(250.0, 21.0 * len(chars) * (char_size / (size * 0.13)))
    radius = centre - ring * 2 - char_size * 0.65
    for i, char in enumerate(chars):
        # Clockwise from the left end of the arc; each glyph stands on the circle, facing out.
        angle = 90 + span / 2 - (span * (i + 0.5) / len(chars))
        glyph = Image.new("RGBA", (char_size * 2, char_size * 2), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text((char_size, char_size), char, font=glyph_font, fill=RED, anchor="mm")
        glyph = glyph.rotate(angle - 90, resample=Image.Resampling.BICUBIC)
        x = centre + radius * math.cos(math.radians(angle))
        y = centre - radius * math.sin(math.radians(angle))
        image.alpha_composite(glyph, (int(x - char_size), int(y - char_size)))
    draw.text((centre, centre + size * 0.03), "样章", font=font(int(size * 0.2)), fill=RED, anchor="mm")
    draw.text((centre, centre + size * 0.22), "演示专用", font=font(int(size * 0.07)), fill=RED, anchor="mm")
    return _png(image)


def stamp_image(seal_png: bytes, *, lines: list[str], width: int, height: int) -> Image.Image:
    """The visible appearance of a PDF signature: the seal, and under it who signed and when."""
    image = Image.new("RGB", (width, height), "white")
    line_height = max(12, height // 9)
    seal_size = min(width, height - line_height * len(lines) - line_height // 2)
    with Image.open(io.BytesIO(seal_png)) as scan:
        seal = scan.convert("RGBA").resize((seal_size, seal_size), Image.Resampling.LANCZOS)
    image.paste(seal, ((width - seal_size) // 2, 0), seal)
    draw = ImageDraw.Draw(image)
    text_font = font(int(line_height * 0.8))
    top = seal_size + line_height // 4
    for n, line in enumerate(lines):
        draw.text((width / 2, top + n * line_height), line, font=text_font, fill=(20, 20, 20), anchor="ma")
    return image


def seal_byte_limit(settings: Settings) -> int:
    """The largest seal scan accepted, in bytes."""
    return min(settings.max_upload_bytes, MAX_SEAL_BYTES)


def _check_png(stream: BinaryIO, settings: Settings) -> bytes:
    sniff(stream, allowed={PNG: "png"})
    limit = seal_byte_limit(settings)
    content = stream.read(limit + 1)
    if len(content) > limit:
        raise ValidationFailed(
            [FieldError("file", "too_large", f"印章图片过大：不能超过 {limit / 1024 / 1024:.0f} MB")]
        )
    try:
        with Image.open(io.BytesIO(content)) as image:
            if max(image.size) > MAX_SEAL_PIXELS:
                raise ValidationFailed(
                    [FieldError("file", "too_large", f"印章图片不能超过 {MAX_SEAL_PIXELS} 像素见方")]
                )
            if min(image.size) < MIN_SEAL_PIXELS:
                raise ValidationFailed(
                    [
                        FieldError(
                            "file", "too_small", f"印章图片太小：宽和高至少 {MIN_SEAL_PIXELS} 像素，请上传清晰的扫描件"
                        )
                    ]
                )
            image.verify()
    except (OSError, SyntaxError):
        raise ValidationFailed([FieldError("file", "unreadable", "无法读取印章图片")]) from None
    return content


def store_kindergarten_seal(
    *, session: Session, objects: ObjectStore, kindergarten: Kindergarten, content: bytes, actor: audit.Actor
) -> Kindergarten:
    """Store a seal image and point the kindergarten at it (object first, then the row)."""
    stored = objects.put(io.BytesIO(content), filename=f"{kindergarten.code}_印章.png", content_type=PNG)
    kindergarten.seal_key = stored.key
    session.flush()
    audit.append(
        session,
        entity_type="kindergarten",
        entity_id=kindergarten.id,
        event="seal_uploaded",
        actor=actor,
        data={"sha256": stored.sha256},
    )
    return kindergarten


def store_bureau_seal(*, session: Session, objects: ObjectStore, content: bytes, actor: audit.Actor) -> BureauSeal:
    """Store the bureau's (成幼科) seal image."""
    stored = objects.put(io.BytesIO(content), filename="成幼科_印章.png", content_type=PNG)
    seal = session.get(BureauSeal, BUREAU_SEAL_CODE) or BureauSeal(code=BUREAU_SEAL_CODE, name=BUREAU_PARTY_NAME)
    seal.seal_key = stored.key
    session.add(seal)
    session.flush()
    audit.append(
        session, entity_type="bureau", entity_id=BUREAU_SEAL_CODE, event="seal_uploaded", actor=actor,
        data={"sha256": stored.sha256},
    )  # fmt: skip
    return seal


def upload_kindergarten_seal(
    *,
    session: Session,
    viewer: Viewer,
    objects: ObjectStore,
    settings: Settings,
    kindergarten_id: uuid.UUID,
    stream: BinaryIO,
) -> Kindergarten:
    """A kindergarten's own accounts or the bureau's officers upload its seal scan (PNG)."""
    kindergarten = session.get(Kindergarten, kindergarten_id)
    allowed = viewer.role in (Role.OFFICER, Role.ADMIN) or viewer.kindergarten_id == kindergarten_id
    if kindergarten is None or not allowed:
        raise NotFound("幼儿园不存在")
    content = _check_png(stream, settings)
    return store_kindergarten_seal(
        session=session, objects=objects, kindergarten=kindergarten, content=content, actor=viewer.actor
    )


def upload_bureau_seal(
    *, session: Session, viewer: Viewer, objects: ObjectStore, settings: Settings, stream: BinaryIO
) -> BureauSeal:
    """Officers and admins upload the bureau seal used for the supervising party."""
    viewer.require_role(Role.OFFICER, Role.ADMIN)
    return store_bureau_seal(session=session, objects=objects, content=_check_png(stream, settings), actor=viewer.actor)


def own_seal(session: Session, viewer: Viewer) -> tuple[str, str | None] | None:
    """The seal a viewer keeps (their kindergarten's, or the bureau's for an officer): owner name and
    object key (None while not uploaded); None for accounts that keep no seal."""
    if viewer.role in (Role.APPLICANT, Role.LEAD, Role.PILLAR) and viewer.kindergarten_id is not None:
        kindergarten = session.get(Kindergarten, viewer.kindergarten_id)
        return (kindergarten.name, kindergarten.seal_key) if kindergarten else None
    if viewer.role == Role.OFFICER:
        bureau = session.get(BureauSeal, BUREAU_SEAL_CODE)
        return BUREAU_PARTY_NAME, bureau.seal_key if bureau else None
    return None


def seal_key(session: Session, agreement: Agreement, party: str) -> str | None:
    """The object key of the seal image of one party, if uploaded."""
    if party == "bureau":
        seal = session.get(BureauSeal, BUREAU_SEAL_CODE)
        return seal.seal_key if seal else None
    kindergarten = session.get(Kindergarten, agreement.kindergarten_of(party))
    return kindergarten.seal_key if kindergarten else None


def read_object(objects: ObjectStore, key: str) -> bytes:
    with objects.open(key) as stream:
        return stream.read()
