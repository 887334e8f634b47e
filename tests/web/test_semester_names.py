"""Everywhere a person reads a semester it reads 2026年秋季学期, never the code ``2026-autumn``: pages
(as each role sees them), documents (sign-in sheet, plan, archive bundle with its cover, index, report and
manifest, evaluation form, ledger), file names of downloads and bundle members, and notifications.

The code may stay where nobody reads it: URLs, form values, the JSON API."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import unquote

from sqlalchemy import select

from tests.fixtures.activities import (
    MATERIALS,
    PLAN_FORM,
    SEMESTER,
    create_activity,
    docx_bytes,
    fire,
    record_all,
    upload,
)
from tests.fixtures.agreements import drain
from workflows.activities.compliance import send_reminders
from workflows.activities.models import Semester
from workflows.notifications import Notification

NAME = "2026年秋季学期"
# Attributes whose text is shown or spoken to people (not href, action, value: those are addresses and data).
READ_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "data-confirm", "label"}


class _Readable(HTMLParser):
    """The text of a page as a person meets it: content, plus titles, labels and confirmations."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.parts += [v for k, v in attrs if k in READ_ATTRIBUTES and v]

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def readable(html: str) -> str:
    parser = _Readable()
    parser.feed(html)
    return "\n".join(parser.parts)


def office_text(content: bytes) -> str:
    """Every text part of a .docx or .xlsx (document, headers, footers, shared strings, sheets)."""
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        parts = [z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml") and "_rels" not in n]
    return "\n".join(re.sub(r"<[^>]+>", "", p) for p in parts)


def download_name(response) -> str:  # type: ignore[no-untyped-def]
    disposition = response.headers["content-disposition"]
    return unquote(disposition.split("filename*=UTF-8''")[-1])


def test_no_page_document_file_name_or_notification_shows_the_semester_code(
    client, browser, world, login, runtime, semester
):
    assert semester == SEMESTER == "2026-autumn"
    lead, officer = login("lead-a"), login("officer")
    alliance = world.alliances["A"].id
    read: dict[str, str] = {}

    # --- an activity through its whole life, the plan and summary, an evaluation -------------------
    planned = create_activity(client, login, runtime, world)
    a = create_activity(client, login, runtime, world)
    assert NAME in a["number"] and a["semester_name"] == NAME
    a = fire(client, lead, fire(client, lead, a, "announce").json(), "hold").json()
    a = record_all(client, lead, a).json()
    for category, content, name in [*MATERIALS, ("lesson_case", docx_bytes, "课例.docx"),
                                    ("discussion", docx_bytes, "研讨记录.docx")]:  # fmt: skip
        assert upload(client, lead, a["id"], category, content(), name).status_code == 201
    for kind in ("plan", "summary"):
        form = PLAN_FORM if kind == "plan" else {"overview": "概况", "outcomes": "成效"}
        r = client.put(f"/api/semesters/{semester}/alliances/{alliance}/{kind}", headers=lead, json={"form": form})
        assert r.status_code == 200, r.text
        doc = client.get(f"/api/semesters/{semester}/alliances/{alliance}/{kind}/content", headers=lead)
        read[f"{kind} file name"] = download_name(doc)
        read[f"{kind} document"] = office_text(doc.content)
    sheet = client.get(f"/api/activities/{a['id']}/sign-in-sheet", headers=lead)
    read["sign-in sheet file name"], read["sign-in sheet"] = download_name(sheet), office_text(sheet.content)
    a = fire(client, lead, client.get(f"/api/activities/{a['id']}", headers=lead).json(), "archive").json()
    drain(runtime)
    bundle = client.get(f"/api/activities/{a['id']}/bundle", headers=lead)
    assert bundle.status_code == 200, bundle.text
    read["bundle file name"] = download_name(bundle)
    with zipfile.ZipFile(io.BytesIO(bundle.content)) as z:
        read["bundle member names"] = "\n".join(z.namelist())
        for member in z.namelist():
            data = z.read(member)
            read[member] = office_text(data) if member.endswith((".docx", ".xlsx")) else data.decode("utf-8", "replace")
    opened = client.post("/api/evaluations/open", headers=officer, json={"year": 2026})
    assert opened.status_code == 201, opened.text
    evaluation = next(e for e in opened.json() if e["alliance_code"] == "TA")
    form = client.get(f"/api/evaluations/{evaluation['id']}/form.docx", headers=officer)
    read["evaluation form file name"], read["evaluation form"] = download_name(form), office_text(form.content)
    ledger = client.get("/api/ledger", params={"year": 2026}, headers=officer)
    read["ledger"] = office_text(ledger.content)

    # --- reminders of the plan and summary deadlines ----------------------------------------------
    with runtime.db.session() as s:
        sem = s.scalars(select(Semester)).one()
        for due in (sem.plan_due_on, sem.summary_due_on):
            send_reminders(session=s, today=due - timedelta(days=3))
        notices = list(s.scalars(select(Notification)))
    assert any(NAME in n.title for n in notices), [n.title for n in notices]
    read["notifications"] = "\n".join(f"{n.title}\n{n.body}" for n in notices)

    # --- every page where a semester shows, as the people who open it -----------------------------
    pages = {
        "lead-a": ["/", "/activities", f"/activities?semester={semester}", f"/activities/{a['id']}",
                   f"/activities/{planned['id']}", f"/activities/{planned['id']}/edit", "/activities/new",
                   "/semester-work", f"/semester-work/{alliance}?semester={semester}", "/dashboards",
                   f"/evaluations/{evaluation['id']}", "/notifications"],
        "kg-a1": ["/", "/activities", f"/activities/{a['id']}", f"/semester-work/{alliance}", "/evaluations",
                  "/notifications"],
        "officer": ["/", "/semesters", f"/semesters/{semester}/edit", "/semesters/new", f"/semester-work?semester={semester}",
                    f"/semester-work/{alliance}?semester={semester}", "/activities", f"/activities/{a['id']}",
                    "/dashboards", f"/dashboards/alliances/{alliance}", f"/evaluations/{evaluation['id']}"],
    }  # fmt: skip
    for username, paths in pages.items():
        person = browser(username)
        for path in paths:
            r = person.get(path)
            assert r.status_code == 200, f"{username} {path}: {r.status_code}"
            read[f"{username} {path}"] = readable(r.text)
    assert NAME in read[f"lead-a /activities/{a['id']}"] and NAME in read["officer /semesters"]

    shown = [where for where, text in read.items() if SEMESTER in text]
    assert shown == [], f"the code {SEMESTER} is shown in: {shown}"
    # And the name is there instead: in the documents, the file names, the archive number (档号) on the cover.
    for where in ("sign-in sheet", "sign-in sheet file name", "plan document", "plan file name", "bundle file name"):
        assert NAME in read[where], where
    covers = [text for where, text in read.items() if where.endswith("封面.docx")]
    assert covers and f"D10-{NAME}-" in covers[0]
