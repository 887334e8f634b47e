"""The Atom 1.0 feed (RFC 4287) the district information site (教体信息网) pulls.

Ids are URNs that never change with the host name: the feed's is fixed, an entry's is its report's
UUID. Links are absolute, from ``base_url``. Entry content is HTML carried as escaped text
(``type="html"``); each consented photo is also an ``enclosure`` link.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from html import escape

from lxml import etree

from templates.district import BUREAU_NAME
from workflows.publishing.public import NewsEntry

ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
FEED_ID = uuid.uuid5(uuid.NAMESPACE_URL, "kinderflow:news")
FEED_TITLE = "青山湖区1+1+N幼教联盟 活动报道"
PUBLISHER = BUREAU_NAME
# The feed's "updated" before anything was ever published.
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
    if text is not None:
        element.text = text
    return element


def media_url(base_url: str, photo_id: uuid.UUID) -> str:
    return f"{base_url}/news/media/{photo_id}"


def entry_html(entry: NewsEntry, base_url: str) -> str:
    """The entry's content: the report's HTML, then its consented photos."""
    images = "".join(
        f'<p><img src="{escape(media_url(base_url, p.id))}" alt="{escape(entry.title)} 活动照片"/></p>'
        for p in entry.photos
    )
    return entry.body_html + ("\n" + images if images else "")


def build_feed(entries: list[NewsEntry], *, base_url: str, updated: datetime | None = None) -> bytes:
    """The feed document as UTF-8 bytes."""
    base_url = base_url.rstrip("/")
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})
    feed.set(XML_LANG, "zh-CN")
    _sub(feed, "id", FEED_ID.urn)
    _sub(feed, "title", FEED_TITLE)
    _sub(feed, "subtitle", "各联盟教研活动报道，经龙头园审定后发布")
    _sub(feed, "updated", rfc3339(max([updated or EPOCH, *(e.updated_at for e in entries)])))
    _sub(feed, "link", rel="self", type="application/atom+xml", href=f"{base_url}/news/feed.atom")
    _sub(feed, "link", rel="alternate", type="text/html", href=f"{base_url}/news")
    author = _sub(feed, "author")
    _sub(author, "name", PUBLISHER)
    _sub(feed, "generator", "Kinderflow")
    for entry in entries:
        item = _sub(feed, "entry")
        _sub(item, "id", entry.id.urn)
        _sub(item, "title", entry.title)
        _sub(item, "updated", rfc3339(entry.updated_at))
        _sub(item, "published", rfc3339(entry.published_at))
        by = _sub(item, "author")
        _sub(by, "name", entry.alliance_name)
        _sub(item, "link", rel="alternate", type="text/html", href=f"{base_url}/news/{entry.id}")
        for n, photo in enumerate(entry.photos, start=1):
            _sub(
                item,
                "link",
                rel="enclosure",
                type=photo.content_type,
                length=str(photo.size),
                href=media_url(base_url, photo.id),
                title=f"活动照片 {n}",
            )
        _sub(item, "category", term=entry.alliance_name)
        if entry.summary:
            _sub(item, "summary", entry.summary)
        _sub(item, "content", entry_html(entry, base_url), type="html")
    document: bytes = etree.tostring(feed, xml_declaration=True, encoding="utf-8", pretty_print=True)
    return document
