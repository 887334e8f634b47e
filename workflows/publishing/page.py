"""The public news page (HTML, Chinese, printable): published reports with their consented photos."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from workflows.clock import BEIJING
from workflows.publishing.feed import FEED_TITLE
from workflows.publishing.public import NewsEntry

_ENVIRONMENT = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("html")),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_news_page(entries: list[NewsEntry], *, base_url: str, single: bool = False) -> str:
    """The list of reports, or one report when ``single``; every value escaped but the report HTML,
    which ``blocks_to_html`` built from escaped text."""
    base_url = base_url.rstrip("/")
    shown = [
        {
            **asdict(e),
            "body_html": Markup(e.body_html),  # noqa: S704 - built from escaped text only
            "published_label": e.published_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M"),
        }
        for e in entries
    ]
    return _ENVIRONMENT.get_template("news.html").render(
        page_title=entries[0].title if single and entries else FEED_TITLE,
        feed_title=FEED_TITLE,
        feed_url=f"{base_url}/news/feed.atom",
        base_url=base_url,
        entries=shown,
        single=single,
    )
