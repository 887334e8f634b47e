"""Every integer a caller sends has a range: a huge ``offset``, ``year`` or ``version`` answers 422 naming
the field, never a 500 from a database overflow."""

from __future__ import annotations

from typing import Any

from api.main import create_app

HUGE = 10**30
# Bounded by its own validator, which answers in words a clerk understands (出生年份须在…之间).
VALIDATED_ELSEWHERE = {"birth_year"}


def _unbounded(schema: dict[str, Any], where: str, components: dict[str, Any], seen: set[str]) -> list[str]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        seen.add(name)
        return _unbounded(components[name], name, components, seen)
    found = []
    if (
        schema.get("type") == "integer"
        and "maximum" not in schema
        and where.rsplit(".", 1)[-1] not in VALIDATED_ELSEWHERE
    ):
        found.append(where)
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            found += _unbounded(option, where, components, seen)
    for name, sub in schema.get("properties", {}).items():
        found += _unbounded(sub, f"{where}.{name}", components, seen)
    if isinstance(schema.get("items"), dict):
        found += _unbounded(schema["items"], f"{where}[]", components, seen)
    return found


def test_every_integer_parameter_and_body_field_has_a_maximum(runtime):
    spec = create_app(runtime=runtime).openapi()
    components = spec["components"]["schemas"]
    unbounded = []
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            where = f"{method.upper()} {path}"
            for parameter in op.get("parameters", []):
                unbounded += _unbounded(parameter["schema"], f"{where} {parameter['name']}", components, set())
            for media in op.get("requestBody", {}).get("content", {}).values():
                unbounded += _unbounded(media["schema"], where, components, set())
    assert unbounded == []


def test_huge_integers_are_refused_with_422(client, world, login):
    officer = login("officer")
    for url in (f"/api/library?offset={HUGE}", f"/api/evaluations?year={HUGE}", f"/api/certificates?year={HUGE}",
                f"/api/library?year=-{HUGE}", f"/api/dashboards/district?year={HUGE}"):  # fmt: skip
        r = client.get(url, headers=officer)
        assert r.status_code == 422, (url, r.status_code, r.text[:200])
        assert r.json()["errors"][0]["field"] in ("offset", "year")
    teacher = client.get("/api/teachers", headers=officer).json()
    teacher_id = (teacher["items"] if isinstance(teacher, dict) else teacher)[0]["id"]
    r = client.patch(f"/api/teachers/{teacher_id}", headers=officer, json={"version": HUGE, "phone": "13800000000"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "version"
    r = client.delete(f"/api/teachers/{teacher_id}?version={HUGE}", headers=officer)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "version"
