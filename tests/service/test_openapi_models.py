"""Every JSON answer of the API is declared: ``/openapi.json`` shows what each route returns.

A route answering 200 or 201 with ``application/json`` must name a response model: a schema with
properties (or a list of such, or the union of such). An empty schema (``{}``, a route returning a
bare ``Response``) or a free-form object (``dict[str, Any]``) documents nothing and is reported.
Files, audio, CSV and the like declare their own media types and are not checked.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        return dict(components[ref.rsplit("/", 1)[1]])
    return schema


def _declared(schema: dict[str, Any], components: dict[str, Any]) -> bool:
    """Whether ``schema`` says what the JSON holds (properties, at the top or in what it lists)."""
    schema = _resolve(schema, components)
    for union in ("anyOf", "oneOf", "allOf"):
        if union in schema:
            options = [s for s in schema[union] if s.get("type") != "null"]
            return bool(options) and all(_declared(s, components) for s in options)
    if schema.get("type") == "array":
        return _declared(schema.get("items") or {}, components)
    return bool(schema.get("properties"))


def _offenders(spec: dict[str, Any]) -> list[str]:
    components = spec.get("components", {}).get("schemas", {})
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status in ("200", "201"):
                content = operation.get("responses", {}).get(status, {}).get("content", {})
                if "application/json" not in content:
                    continue
                schema = content["application/json"].get("schema") or {}
                if not _declared(schema, components):
                    found.append(f"{method.upper()} {path} → {status}: {schema or '{}'}")
    return found


def test_every_json_answer_has_a_response_model() -> None:
    from api.app import create_app

    spec = TestClient(create_app()).get("/openapi.json").json()
    offenders = _offenders(spec)
    assert not offenders, "JSON answers without a response model:\n" + "\n".join(offenders)


def test_the_check_tells_declared_from_free_form() -> None:
    components = {"Item": {"type": "object", "properties": {"id": {"type": "integer"}}}}
    item = {"$ref": "#/components/schemas/Item"}
    assert _declared(item, components)
    assert _declared({"type": "array", "items": item}, components)
    assert _declared({"anyOf": [item, {"type": "null"}]}, components)
    assert not _declared({}, components)
    assert not _declared({"type": "object", "additionalProperties": True}, components)
    assert not _declared({"type": "array", "items": {"type": "object", "additionalProperties": True}}, components)
