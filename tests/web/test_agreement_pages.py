"""The agreement pages and the verification page on the agreement services: signing with the PIN,
refusals as Chinese messages, object-level 404s, and verification by code and by file."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from sqlalchemy import delete, select

from tests.fixtures.agreements import PIN, SIGNERS, drain
from workflows.agreements.models import SigningKey
from workflows.documents.models import Document

pytestmark = pytest.mark.usefixtures("without_libreoffice")


def version_of(html: str) -> str:
    return re.search(r'name="version" value="(\d+)"', html).group(1)


def post_event(b, agreement_id, event, **data):
    page = b.get(f"/agreements/{agreement_id}").text
    return b.post(f"/agreements/{agreement_id}/events/{event}", {"version": version_of(page), **data})


@pytest.fixture
def sent(browser, draft_agreement, runtime):
    officer = browser("officer")
    r = post_event(officer, draft_agreement["id"], "send")
    assert r.status_code == 303, r.text
    drain(runtime)  # the final files are made after the send
    return draft_agreement["id"]


def post_signature(b, agreement_id, **data):
    """Sign on the signing page, as its form posts (the box 「我已阅读协议全文」 ticked unless said otherwise)."""
    page = b.get(f"/agreements/{agreement_id}/sign").text
    if 'name="version"' not in page:  # not this signer's turn: post by hand with what the detail page shows
        page = b.get(f"/agreements/{agreement_id}").text
    return b.post(f"/agreements/{agreement_id}/sign", {"version": version_of(page), "read_confirmed": "true", **data})


def sign_in_order(browser, agreement_id, order=("member", "lead", "pillar", "bureau")):
    for party in order:
        r = post_signature(browser(SIGNERS[party]), agreement_id, pin=PIN)
        assert r.status_code == 303, (party, r.text)


def test_lists_show_only_visible_agreements(browser, draft_agreement):
    assert draft_agreement["number"] in browser("officer").get("/agreements").text
    assert draft_agreement["number"] in browser("kg-a1").get("/agreements").text
    assert draft_agreement["number"] not in browser("lead-b").get("/agreements").text
    assert browser("lead-b").get(f"/agreements/{draft_agreement['id']}").status_code == 404
    assert browser("kg-out").get(f"/agreements/{draft_agreement['id']}").status_code == 404
    assert browser().get("/agreements", follow_redirects=False).status_code == 303  # sign in first


def test_officer_sees_send_and_void_the_member_sees_no_buttons(browser, draft_agreement):
    officer = browser("officer").get(f"/agreements/{draft_agreement['id']}").text
    assert "/events/send" in officer and "/events/void" in officer
    member = browser("kg-a1").get(f"/agreements/{draft_agreement['id']}").text
    assert "/events/" not in member and "丙方" in member
    assert "发出签署" in browser("officer").get("/").text  # 待办: drafts to send


def test_signing_in_order_with_pin(browser, sent):
    member = browser("kg-a1")
    assert "签署联盟协议书" in member.get("/").text  # 待办 for the signer whose turn it is
    page = member.get(f"/agreements/{sent}").text
    assert f'href="/agreements/{sent}/sign"' in page and "当前" in page
    assert 'name="pin"' in member.get(f"/agreements/{sent}/sign").text
    # Out of turn: 409 with the service's message, on the page.
    r = post_signature(browser("pillar-a"), sent, pin=PIN)
    assert r.status_code == 409 and 'role="alert"' in r.text
    # Wrong PIN: 403, the message next to the PIN input.
    r = post_signature(member, sent, pin="000000")
    assert r.status_code == 403
    assert re.search(r'id="ev-sign-pin-err" role="alert">签名密码错误', r.text)
    # No PIN: the form comes back with the field's Chinese error.
    r = post_signature(member, sent)
    assert r.status_code == 200 and "请输入签名密码" in r.text
    sign_in_order(browser, sent)
    page = browser("officer").get(f"/agreements/{sent}").text
    assert "已生效" in page and page.count("已签署") == 4
    assert "/events/terminate" in page


def test_a_signer_without_a_pin_is_sent_to_my_account_before_typing_anything(browser, runtime, signing_world, sent):
    with runtime.db.session() as s:  # day one: the member's principal never set a signing PIN
        s.execute(delete(SigningKey).where(SigningKey.user_id == signing_world.users["kg-a1"].id))
    member = browser("kg-a1")
    page = member.get(f"/agreements/{sent}/sign").text
    assert "您尚未设置签名密钥，请先在「我的账号」设置签名密码" in page and 'href="/account#pin-card"' in page
    assert 'name="pin"' not in page and "协议全文" in page  # the text is there to read; no PIN box to try
    # Posted anyway (an old tab): refused with 409 and the same message, not a server error.
    r = post_signature(member, sent, pin=PIN)
    assert r.status_code == 409 and "您尚未设置签名密钥" in r.text


def test_events_need_the_csrf_token(browser, sent):
    b = browser("kg-a1")
    page = b.get(f"/agreements/{sent}/sign").text
    r = b.client.post(f"/agreements/{sent}/sign", data={"version": version_of(page), "pin": PIN, "read_confirmed": "true"},
                      follow_redirects=False)  # fmt: skip
    assert r.status_code == 403 and "页面已过期" in r.text


def test_void_needs_a_reason(browser, draft_agreement):
    r = post_event(browser("officer"), draft_agreement["id"], "void")
    assert r.status_code == 200
    assert re.search(r'id="ev-void-comment-err" role="alert">[^<]+<', r.text)


def code_of(html: str) -> str:
    return re.search(r"/verify\?code=([A-Z0-9-]+)", html).group(1)


def test_verification_by_code_and_by_tampered_file(browser, runtime, sent):
    sign_in_order(browser, sent)
    code = code_of(browser("officer").get(f"/agreements/{sent}").text)
    visitor = browser()
    r = visitor.post("/verify", {"code": code.lower()})
    assert r.status_code == 200 and "核验通过" in r.text and "各方已全部签署" in r.text
    assert "核验通过" in visitor.get(f"/verify?code={code}").text
    assert "核验未通过" in visitor.post("/verify", {"code": "AAAA-BBBB-CCCC"}).text

    with runtime.db.session() as s:
        final = s.scalar(
            select(Document).where(Document.kind == "agreement_final").order_by(Document.created_at.desc())
        )
    original = browser("officer").get(f"/documents/{final.id}/download").content
    r = visitor.post("/verify", files={"file": ("协议.docx", original, "application/octet-stream")})
    assert "核验通过" in r.text, r.text
    r = visitor.post("/verify", files={"file": ("协议.docx", flip_a_byte(original), "application/octet-stream")})
    assert "核验未通过" in r.text
    assert "与存档的任何文件都不一致" in r.text and "文件内容已被改动" in r.text


def flip_a_byte(docx: bytes) -> bytes:
    """One byte changed inside a part other than the text, so the code printed in it is still readable."""
    with zipfile.ZipFile(io.BytesIO(docx)) as archive:
        info = next(i for i in archive.infolist() if i.filename != "word/document.xml" and i.compress_size > 40)
    data = bytearray(docx)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0x01
    return bytes(data)
