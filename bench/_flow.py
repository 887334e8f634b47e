"""One applicant's busiest-day flow: the form, the three scans and the seven requests as bytes.

Everything that does not depend on the server's answers is built here, before the clock starts;
only the bearer token, the application id and the version seen are spliced in while running.
"""

from __future__ import annotations

import io
import json
from typing import Any

from PIL import Image

from bench._http import form_body, multipart_body, request_bytes, request_head
from workflows.registry.credit_code import make_credit_code

PASSWORD = "bench-pass-2026"
STEPS = ("login", "create", "upload", "read", "submit")
REQUESTS_PER_APPLICANT = 7


def _pdf(n: int) -> bytes:
    body = f"BT /F1 12 Tf 72 720 Td (licence {n}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length " + str(len(body)).encode() + b" >>\nstream\n" + body + b"\nendstream",
    ]
    out = io.BytesIO(b"%PDF-1.4\n")
    out.seek(0, 2)
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + obj + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    out.write(b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets))
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def _image(fmt: str, n: int) -> bytes:
    buffer = io.BytesIO()
    # Each applicant's scans differ, as real ones do: no upload is deduplicated away.
    Image.new("RGB", (320, 240), (n % 256, (n * 7) % 256, 90)).save(buffer, format=fmt)
    return buffer.getvalue()


def attachments(n: int) -> list[tuple[str, bytes, str]]:
    """The three required scans of applicant ``n``: (kind, content, filename)."""
    return [("licence", _pdf(n), "许可证.pdf"), ("inspection", _image("PNG", n), "年检.png"),
            ("safety_pledge", _image("JPEG", n), "承诺书.jpg")]  # fmt: skip


def credit_code(n: int) -> str:
    return make_credit_code(f"52360111M{20_000_000 + n:08d}")


def form(n: int) -> dict[str, Any]:
    """A complete application form for applicant ``n``."""
    return {
        "name": f"压测第{n}幼儿园", "credit_code": credit_code(n),
        "licence_no": f"教民3601119{n:05d}", "licence_issued_on": "2019-03-01", "sponsor": "某教育咨询有限公司",
        "legal_representative": "张三", "head_name": "李园长", "head_phone": "13800009999",
        "contact_name": "王老师", "contact_phone": "0791-88886666", "address": f"罗家镇民强路 {n} 号",
        "town": "罗家镇", "ownership": "nonprofit", "inclusive": True, "classes": 6, "children": 180,
        "staff": 30, "teachers": 14, "certified_teachers": 12, "site_area_m2": 2400, "building_area_m2": 1800,
        "last_inspection_year": 2025, "last_inspection_result": "passed", "penalties_last_3_years": 0,
        "safety_incidents_last_3_years": 0, "reasons": "希望加入联盟，提升保教质量。", "needs": ["课程"],
        "commitments_accepted": True,
    }  # fmt: skip


class Flow:
    """Applicant ``n``'s requests against ``host``, serialised except for what the server answers."""

    def __init__(self, host: str, n: int, username: str) -> None:
        self.host = host
        self.username = username
        body, content_type = form_body({"username": username, "password": PASSWORD})
        self.login = request_bytes("POST", "/api/auth/token", host, body=body, content_type=content_type)
        self._form = json.dumps(form(n), ensure_ascii=False).encode()
        self._uploads = [
            multipart_body({"kind": kind}, "file", name, content) for kind, content, name in attachments(n)
        ]

    def create(self, token: str) -> bytes:
        head = request_head("POST", "/api/applications", self.host, body_length=len(self._form),
                            content_type="application/json", token=token)  # fmt: skip
        return head + self._form

    def uploads(self, token: str, application_id: str) -> list[bytes]:
        path = f"/api/applications/{application_id}/attachments"
        return [
            request_head("POST", path, self.host, body_length=len(body), content_type=content_type, token=token) + body
            for body, content_type in self._uploads
        ]

    def read(self, token: str, application_id: str) -> bytes:
        return request_head("GET", f"/api/applications/{application_id}", self.host, body_length=0, token=token)

    def submit(self, token: str, application_id: str, version: int) -> bytes:
        return request_bytes("POST", f"/api/applications/{application_id}/events/submit", self.host,
                             body=b'{"version":%d}' % version, content_type="application/json", token=token)  # fmt: skip
