"""The ``Walker`` of ``test_notification_links``: it opens, as the person each was meant for, every
notification link, every channel message's link and every 待办 link, and fails on a dead end."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from api.web import todo
from workflows.access import viewer_for
from workflows.accounts.models import User
from workflows.notifications import Notification

CHINESE_HEADING = re.compile(r"<h1[^>]*>[^<]*[\u4e00-\u9fff]")


@dataclass
class Walker:
    """Opens links as the person they were meant for, once per person and link."""

    runtime: Any
    world: Any
    browser: Callable[..., Any]
    browsers: dict[str, Any] = field(default_factory=dict)
    opened: set[tuple[str, str]] = field(default_factory=set)
    kinds: set[str] = field(default_factory=set)
    todos: set[tuple[str, str]] = field(default_factory=set)

    def open(self, username: str, link: str, what: str) -> None:
        if (username, link) in self.opened:
            return
        if username not in self.browsers:
            self.browsers[username] = self.browser(username)
        r = self.browsers[username].get(link)
        where = f"{what} → {link} as {username}"
        assert r.status_code == 200, f"{where}: {r.status_code}"
        assert r.headers["content-type"].startswith("text/html"), where
        assert urlsplit(str(r.url)).path != "/login", f"{where}: sent to the login page"
        assert '<html lang="zh-CN">' in r.text and "error-card" not in r.text, where
        assert CHINESE_HEADING.search(r.text), f"{where}: no Chinese heading"
        self.opened.add((username, link))

    def checkpoint(self) -> None:
        """Open every notification link so far as its recipient, and every account's 待办 links now."""
        with self.runtime.db.session() as s:
            rows = s.execute(select(Notification, User.username).join(User, User.id == Notification.user_id)).all()
            notices = [(n.kind, n.link, username) for n, username in rows]
            todos = []
            for user in self.world.users.values():
                viewer = viewer_for(s, s.get(User, user.id))
                for key, provider, roles in todo.registered():
                    if viewer.role in roles:
                        todos += [(key, item, user.username) for item in provider(s, viewer)]
        for kind, link, username in notices:
            self.kinds.add(kind)
            assert link.startswith("/"), f"{kind}: {link!r} is no page of this site"
            self.open(username, link, f"notification {kind}")
        for key, item, username in todos:
            self.todos.add((key, item.title))
            self.open(username, item.link, f"待办 {key}「{item.title}」")


@dataclass(frozen=True)
class Scenario:
    run: Callable[..., None]
    kinds: frozenset[str]
    # (provider key, a fragment of the item's title) that the scenario must have shown.
    todos: frozenset[tuple[str, str]] = frozenset()


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    return response.json()
