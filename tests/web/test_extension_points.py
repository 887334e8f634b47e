"""Later areas plug into the pages through the menu model and the 待办 providers."""

from __future__ import annotations

from api.web import nav, todo
from workflows.roles import Role


def test_an_area_adds_its_menu_entry_and_its_todo_items(browser, world, monkeypatch):
    monkeypatch.setattr(nav, "_items", dict(nav._items))
    monkeypatch.setattr(todo, "_providers", dict(todo._providers))
    nav.register(nav.NavItem("agreements", "协议签署", "/agreements", roles=frozenset({Role.LEAD}), order=20))

    def to_sign(session, viewer):
        return [todo.TodoItem("联盟协议", "签署联盟协议书 <甲方>", "/agreements/x", urgent=True)]

    todo.register("agreements", to_sign, roles={Role.LEAD}, order=20)
    lead = browser("lead-a").get("/").text
    assert '<a href="/agreements">协议签署</a>' in lead
    assert "签署联盟协议书 &lt;甲方&gt;" in lead
    officer = browser("officer").get("/").text
    assert "协议签署" not in officer and "签署联盟协议书" not in officer


def test_menu_order_and_role_specific_labels():
    officer = [i.label_for(Role.OFFICER) for i in nav.items_for(Role.OFFICER)]
    assert officer[:2] == ["首页", "申请审核"]
    assert "安排表" in officer
    applicant = [i.label_for(Role.APPLICANT) for i in nav.items_for(Role.APPLICANT)]
    assert "入盟申请" in applicant and "安排表" not in applicant
    assert nav.items_for(None) == []
