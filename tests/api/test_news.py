"""Publishing activity news: lead approval, guardian consent per photo, the public page and the Atom feed."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest
from docx import Document
from lxml import etree

from tests.fixtures.activity_records import FileSpec, make_activity
from tests.fixtures.agreements import drain
from tests.fixtures.files import jpeg_bytes, png_bytes

ATOM = "{http://www.w3.org/2005/Atom}"
SCHEMA = etree.RelaxNG(etree.parse(str(Path(__file__).parents[1] / "fixtures" / "atom.rng")))


def report_docx() -> bytes:
    """A report with a heading, text that must be escaped, and a picture pasted into the Word file."""
    document = Document()
    document.add_heading("联盟开展大班科学探究公开课", level=1)
    document.add_paragraph("10月15日，测试联盟A在龙头园举行公开课。<script>alert(1)</script> A&B")
    document.add_picture(io.BytesIO(png_bytes((20, 20), "green")))
    document.add_paragraph("活动由区教研员现场指导。")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def activity(runtime, world):
    return make_activity(
        runtime,
        world,
        state="held",
        files=[
            FileSpec("report", "活动报道.docx", report_docx()),
            FileSpec("media", "同意.jpg", jpeg_bytes((30, 20)), "image/jpeg"),
            FileSpec("media", "不同意.png", png_bytes((31, 20)), "image/png"),
            FileSpec("media", "未登记.png", png_bytes((32, 20)), "image/png"),
        ],
    )


def consent(client, headers, activity, name, value, note="监护人同意书 2026-01"):
    path = f"/api/news/activities/{activity.activity_id}/photos/{activity.materials[name]}/consent"
    return client.put(path, headers=headers, json={"consent": value, "note": note})


def fire(client, headers, report, event, **body):
    return client.post(
        f"/api/news/reports/{report['id']}/events/{event}", headers=headers, json={"version": report["version"], **body}
    )


def check_atom(feed_bytes: bytes) -> etree._Element:
    """RFC 4287: the RELAX NG schema of Appendix B, and the rules it states in prose (its Schematron)."""
    feed = etree.fromstring(feed_bytes)
    assert SCHEMA.validate(feed), SCHEMA.error_log
    entries = feed.findall(f"{ATOM}entry")
    feed_has_author = feed.find(f"{ATOM}author") is not None
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(ids) == len(set(ids))
    for entry in entries:
        assert feed_has_author or entry.find(f"{ATOM}author") is not None  # §4.1.1
        links = entry.findall(f"{ATOM}link")
        alternates = [
            (link.get("type"), link.get("hreflang")) for link in links if link.get("rel", "alternate") == "alternate"
        ]
        assert len(alternates) == len(set(alternates))  # §4.1.2
        assert entry.find(f"{ATOM}content") is not None or alternates
    self_links = [link.get("href") for link in feed.findall(f"{ATOM}link") if link.get("rel") == "self"]
    assert self_links == ["http://127.0.0.1:8000/news/feed.atom"]
    return feed


def test_publishing_leaves_out_photos_without_consent(client, login, runtime, activity):
    lead, officer = login("lead-a"), login("officer")
    consented, refused, unrecorded = (activity.materials[n] for n in ("同意.jpg", "不同意.png", "未登记.png"))
    assert consent(client, login("kg-a1"), activity, "同意.jpg", True).status_code == 403
    assert consent(client, login("lead-b"), activity, "同意.jpg", True).status_code == 404
    assert consent(client, lead, activity, "同意.jpg", True).status_code == 200
    assert consent(client, lead, activity, "不同意.png", False).status_code == 200
    photos = client.get(f"/api/news/activities/{activity.activity_id}/photos", headers=login("kg-a2")).json()
    assert {p["filename"]: p["consent"] for p in photos} == {"同意.jpg": True, "不同意.png": False, "未登记.png": None}

    body = {
        "activity_id": str(activity.activity_id),
        "material_id": str(activity.materials["活动报道.docx"]),
        "title": "科学探究公开课 <b>报道</b>",
        "summary": "龙头园承办",
    }
    assert client.post("/api/news/reports", headers=login("kg-a1"), json=body).status_code == 403
    wrong = {**body, "material_id": str(consented)}
    assert client.post("/api/news/reports", headers=lead, json=wrong).status_code == 422
    r = client.post("/api/news/reports", headers=lead, json=body)
    assert r.status_code == 201, r.text
    report = r.json()
    assert {m["filename"]: m["publishable"] for m in report["media"]} == {
        "同意.jpg": True,
        "不同意.png": False,
        "未登记.png": False,
    }
    assert client.post("/api/news/reports", headers=lead, json=body).status_code == 409

    # Nothing is public before publication.
    assert "科学探究公开课" not in client.get("/news").text
    assert client.get(f"/news/{report['id']}").status_code == 404
    assert client.get(f"/news/media/{consented}").status_code == 404

    assert fire(client, officer, report, "approve").status_code == 403  # the lead approves
    assert fire(client, login("pillar-a"), report, "approve").status_code == 403
    assert fire(client, lead, report, "publish").status_code == 409  # not approved yet
    r = fire(client, lead, report, "approve")
    assert r.status_code == 200 and r.json()["state"] == "approved"
    report = r.json()
    edit = {"version": report["version"], "title": "改标题"}
    assert client.put(f"/api/news/reports/{report['id']}", headers=lead, json=edit).status_code == 409
    r = fire(client, officer, report, "publish")
    assert r.status_code == 200, r.text
    report = r.json()
    # The report's text is read by a task after publication: 「处理中」, and not public, until it has been.
    assert (report["state"], report["body_state"], report["body_state_label"]) == ("published", "pending", "处理中")
    assert report["public_url"] is None
    drain(runtime)
    report = client.get(f"/api/news/reports/{report['id']}", headers=lead).json()
    assert report["body_state"] == "ready" and report["public_url"].endswith(f"/news/{report['id']}")

    page = client.get("/news")  # public: no sign-in
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "科学探究公开课 &lt;b&gt;报道&lt;/b&gt;" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; A&amp;B" in html and "<script>" not in html
    assert f"/news/media/{consented}" in html
    assert str(refused) not in html and str(unrecorded) not in html
    assert html.count("<img") == 1  # the picture inside the Word file is not published either
    assert client.get(f"/news/{report['id']}").status_code == 200

    served = client.get(f"/news/media/{consented}")
    assert served.status_code == 200 and served.content == jpeg_bytes((30, 20))
    assert served.headers["content-type"] == "image/jpeg"
    assert f"photo-{consented}.jpg" in served.headers["content-disposition"]  # never the uploaded name
    for other in (refused, unrecorded, activity.materials["活动报道.docx"], uuid.uuid4()):
        assert client.get(f"/news/media/{other}").status_code == 404

    r = client.get("/news/feed.atom")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
    feed = check_atom(r.content)
    (entry,) = feed.findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}id") == f"urn:uuid:{report['id']}"
    assert entry.findtext(f"{ATOM}title") == "科学探究公开课 <b>报道</b>"
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == "测试联盟A"
    enclosures = [link for link in entry.findall(f"{ATOM}link") if link.get("rel") == "enclosure"]
    assert [(e.get("href"), e.get("type"), e.get("length")) for e in enclosures] == [
        (f"http://127.0.0.1:8000/news/media/{consented}", "image/jpeg", str(len(jpeg_bytes((30, 20)))))
    ]
    content = entry.find(f"{ATOM}content")
    assert content.get("type") == "html"
    assert "<h3>联盟开展大班科学探究公开课</h3>" in content.text  # the HTML travels escaped
    assert "&lt;script&gt;" in content.text and content.text.count("<img") == 1
    assert str(refused) not in r.text and str(unrecorded) not in r.text
    assert "同意.jpg" not in r.text and "同意.jpg" not in html
    published = entry.findtext(f"{ATOM}updated")

    # Consent withdrawn after publication: the photo leaves the page, the feed and its URL.
    assert consent(client, lead, activity, "同意.jpg", False, note="家长撤回同意").status_code == 200
    assert client.get(f"/news/media/{consented}").status_code == 404
    r = client.get("/news/feed.atom")
    entry = check_atom(r.content).find(f"{ATOM}entry")
    assert not [link for link in entry.findall(f"{ATOM}link") if link.get("rel") == "enclosure"]
    assert entry.findtext(f"{ATOM}updated") >= published
    assert "<img" not in client.get("/news").text

    assert fire(client, lead, report, "withdraw").status_code == 422  # a reason is required
    r = fire(client, officer, report, "withdraw", comment="信息有误")
    assert r.status_code == 200 and r.json()["state"] == "withdrawn"
    assert client.get(f"/news/{report['id']}").status_code == 404
    feed = check_atom(client.get("/news/feed.atom").content)
    assert feed.findall(f"{ATOM}entry") == []
    history = client.get(f"/api/news/reports/{report['id']}/history", headers=login("kg-a1")).json()
    assert [h["event"] for h in history] == ["create", "approve", "publish", "withdraw"]
    assert client.get(f"/api/news/reports/{report['id']}", headers=login("kg-b1")).status_code == 404


def test_drafts_choose_photos_and_go_back_for_changes(client, login, runtime, world, activity):
    lead = login("lead-a")
    consented = activity.materials["同意.jpg"]
    consent(client, lead, activity, "同意.jpg", True)
    body = {
        "activity_id": str(activity.activity_id),
        "material_id": str(activity.materials["活动报道.docx"]),
        "media_ids": [],
    }
    report = client.post("/api/news/reports", headers=lead, json=body).json()
    assert report["title"] == "大班科学探究活动研讨" and report["media"] == []
    r = client.put(
        f"/api/news/reports/{report['id']}",
        headers=lead,
        json={"version": report["version"], "title": "新标题", "media_ids": [str(consented)]},
    )
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["title"] == "新标题" and [m["publishable"] for m in report["media"]] == [True]
    bad = {"version": report["version"], "media_ids": [str(activity.materials["活动报道.docx"])]}
    assert client.put(f"/api/news/reports/{report['id']}", headers=lead, json=bad).status_code == 422
    report = fire(client, lead, report, "approve").json()
    assert fire(client, lead, report, "return").status_code == 422
    r = fire(client, lead, report, "return", comment="请补充照片说明")
    assert r.json()["state"] == "draft" and r.json()["approver_name"] == ""

    planned = make_activity(runtime, world, state="planned", files=[FileSpec("report", "r.docx", report_docx())])
    early = {"activity_id": str(planned.activity_id), "material_id": str(planned.materials["r.docx"])}
    assert client.post("/api/news/reports", headers=lead, json=early).status_code == 409
    # The feed is valid with no entries at all.
    check_atom(client.get("/news/feed.atom").content)
