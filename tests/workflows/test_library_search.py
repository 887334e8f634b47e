"""Chinese full-text search of the resource library: segmentation, extraction, and both databases."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select, text

from tests.fixtures.activity_records import FileSpec, docx_bytes, make_activity
from tests.fixtures.files import png_bytes
from workflows.access import viewer_for
from workflows.accounts.models import User
from workflows.library import service
from workflows.library.extraction import docx_blocks
from workflows.library.schemas import ItemUpdate, PromoteBody
from workflows.library.search import Filters, fts5_query, search
from workflows.library.segmentation import index_text, query_words, words
from workflows.library.text import read_text
from workflows.publishing.report_html import blocks_to_html
from workflows.untrusted import UnsafeFile

CASE_TEXT = "本课例记录了一次幼儿科学探究活动：孩子们用磁铁寻找教室里的铁制品。"


def test_search_mode_segmentation_is_stable_and_drops_punctuation():
    assert query_words("科学探究") == ["科学", "探究"]
    assert set(query_words("科学探究")) <= set(words("幼儿科学探究活动"))
    assert words("大班《有趣的磁铁》，A&B") == ["大班", "有趣", "的", "磁铁", "a", "b"]
    # Field words stay whole rather than splitting into 大 / 班.
    assert "中班" in words("中班幼儿语言活动反思")
    assert index_text("幼儿科学探究活动", "", "大班") == "幼儿 科学 探究 活动 大班"
    assert query_words("，。！") == []


def test_fts5_query_quotes_every_word():
    assert fts5_query(["科学", 'a"b', "OR"]) == '"科学" "a""b" "OR"'


def test_docx_text_in_reading_order_with_headings_and_tables():
    content = docx_bytes("第一段。", "第二段 <b>&", heading="活动报道", table=[["时间", "地点"], ["上午", "多功能厅"]])
    blocks = docx_blocks(io.BytesIO(content))
    assert [b.text for b in blocks] == ["活动报道", "第一段。", "第二段 <b>&", "时间", "地点", "上午", "多功能厅"]
    assert [b.heading for b in blocks][:3] == [True, False, False]
    html = blocks_to_html([(b.text, b.heading) for b in blocks[:3]])
    assert html == "<h3>活动报道</h3>\n<p>第一段。</p>\n<p>第二段 &lt;b&gt;&amp;</p>"
    with pytest.raises(UnsafeFile) as refused:
        docx_blocks(io.BytesIO(b"not a zip"))
    assert refused.value.code == "not_a_package" and "不是有效的 Office 文档" in refused.value.message


def _viewer(runtime, username):
    with runtime.db.session() as s:
        user = s.scalar(select(User).where(User.username == username))
        return viewer_for(s, user)


@pytest.fixture
def promoted(runtime, world):
    made = make_activity(
        runtime,
        world,
        files=[
            FileSpec("lesson_case", "磁铁课例.docx", docx_bytes(CASE_TEXT, heading="大班科学活动《有趣的磁铁》")),
            FileSpec("reflection", "语言活动反思.docx", docx_bytes("中班语言活动后的教学反思：绘本阅读。")),
            FileSpec("lesson_plan", "扫描教案.pdf", b"%PDF-1.4 scanned", "application/pdf"),
            FileSpec("media", "照片.png", png_bytes(), "image/png"),
        ],
    )
    lead = _viewer(runtime, "lead-a")
    items = {}
    with runtime.db.session() as s:
        for name, age in (("磁铁课例.docx", "大班"), ("语言活动反思.docx", "中班"), ("扫描教案.pdf", None)):
            body = PromoteBody(
                material_id=made.materials[name], age_group=age, keywords=["磁铁"] if age == "大班" else []
            )
            items[name] = service.promote(session=s, viewer=lead, body=body).id
    # What the outbox task does after the commit: read each .docx (in a bounded child process) and index it.
    states = {name: read_text(db=runtime.db, objects=runtime.objects, item_id=i) for name, i in items.items()}
    assert states == {"磁铁课例.docx": "ready", "语言活动反思.docx": "ready", "扫描教案.pdf": "skipped"}
    return made, items


def test_search_finds_a_word_inside_a_longer_phrase_on_both_databases(runtime, promoted, backend):
    _, items = promoted
    with runtime.db.session() as s:
        found = search(session=s, query="科学探究")
        assert [i.id for i in found.items] == [items["磁铁课例.docx"]]
        assert found.words == ["科学", "探究"]
        assert search(session=s, query="探究 绘本").total == 0  # every word must match
        assert [i.id for i in search(session=s, query="绘本阅读").items] == [items["语言活动反思.docx"]]
        # Title and tags are indexed too; a PDF is found by them only.
        assert {i.id for i in search(session=s, query="教案").items} == {items["扫描教案.pdf"]}
        assert search(session=s, query="磁铁", filters=Filters(age_group="中班")).total == 0
        assert search(session=s, query="磁铁", filters=Filters(age_group="大班", category="lesson_case")).total == 1
        assert search(session=s, query="", filters=Filters(domain="科学", year=2026)).total == 3
        assert search(session=s, query="！？").items == []
        pdf = next(i for i in search(session=s).items if i.id == items["扫描教案.pdf"])
        assert pdf.text_indexed is False
    if backend == "postgresql":
        with runtime.db.engine.connect() as conn:
            conn.execute(text("SET enable_seqscan = off"))  # three rows: make the planner show the index
            plan = "\n".join(
                conn.execute(
                    text(
                        "EXPLAIN SELECT id FROM library_items WHERE "
                        "to_tsvector('simple'::regconfig, search_tokens) @@ plainto_tsquery('simple'::regconfig, '科学')"
                    )
                ).scalars()
            )
        assert "ix_library_items_search" in plan


def test_retagging_and_removal_keep_the_index_in_step(runtime, promoted):
    _, items = promoted
    lead = _viewer(runtime, "lead-a")
    case_id = items["磁铁课例.docx"]
    with runtime.db.session() as s:
        item = service.get_visible(session=s, viewer=lead, item_id=case_id)
        service.update_tags(
            session=s,
            viewer=lead,
            item_id=case_id,
            body=ItemUpdate(version=item.version, keywords=["磁力", "户外游戏"], age_group="大班"),
        )
    with runtime.db.session() as s:
        assert [i.id for i in search(session=s, query="户外游戏").items] == [case_id]
        assert [i.id for i in search(session=s, query="科学探究").items] == [case_id]
        assert search(session=s, query="磁铁 户外").total == 1
        version = service.get_visible(session=s, viewer=lead, item_id=case_id).version
        service.remove(session=s, viewer=lead, item_id=case_id, version=version)
    with runtime.db.session() as s:
        assert search(session=s, query="科学探究").total == 0
