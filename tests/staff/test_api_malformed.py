"""No staff API route answers 500 to malformed input. Driven by the OpenAPI schema: for every
operation, each path parameter, query parameter and body field is replaced in turn by hostile
values (NUL characters, out-of-range numbers, wrong types, huge strings, bad dates), and whole
bodies are replaced by junk — against real objects, so the refusals of the services are
reached too, not only the parser's. Every answer must be 2xx or 4xx."""

from __future__ import annotations

import json
from typing import Any

import httpx

from bot.app.bootstrap import Runtime
from bot.app.demo_data import import_certificates_into
from tests.integration.test_tickets import submit
from tests.staff.test_api_flows import file_complaint
from tests.support import Chat

HOSTILE: list[Any] = [
    None,
    True,
    -1,
    0,
    2**63,
    -(2**70),
    1.5,
    1e308,
    float("nan"),  # Python's JSON reader takes NaN and Infinity; the 422 must not choke on them
    float("-inf"),
    "",
    " ",
    "\x00",
    "a\x00b",
    "x" * 5000,
    "🙂" * 30,
    "2026-13-45",
    "2026-11-24T09:00",
    "../../etc/passwd",
    [],
    [None],
    {},
    {"$ne": 1},
]
HOSTILE_PATH = ["0", "-1", "99999999999999999999999", "abc", "%00", "1.5", "%2F..%2F", "1e3"]
JUNK_BODIES = [b"", b"null", b"[]", b'"text"', b"{", b"\xff\xfe\x00", b'{"a":' * 500, b"1" * 10000]


def example(schema: dict[str, Any], components: dict[str, Any]) -> Any:
    """A well-formed value for a schema, so one field at a time can be broken."""
    if "$ref" in schema:
        return example(components[schema["$ref"].rsplit("/", 1)[-1]], components)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"]
            return example(options[0], components)
    if "enum" in schema:
        return schema["enum"][0]
    kind, fmt = schema.get("type"), schema.get("format")
    if kind == "object":
        return {name: example(s, components) for name, s in schema.get("properties", {}).items()}
    if kind == "array":
        return [example(schema.get("items", {}), components)]
    if kind == "integer":
        return 1
    if kind == "boolean":
        return True
    if fmt == "date":
        return "2026-11-23"
    if fmt == "date-time":
        return "2026-11-24T09:00:00+08:00"
    return "x"


def mutations(body: Any) -> list[bytes]:
    """The body with each top-level field replaced by each hostile value, or left out; then
    junk instead of the whole body."""
    variants: list[Any] = []
    if isinstance(body, dict):
        for name in body:
            variants += [{**body, name: value} for value in HOSTILE]
            variants.append({k: v for k, v in body.items() if k != name})
    return [json.dumps(v).encode() for v in variants] + JUNK_BODIES


async def real_ids(api: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, str]:
    escalations = (await api.get("/api/v1/escalations", headers=headers)).json()
    tickets = (await api.get("/api/v1/tickets", headers=headers)).json()
    complaints = (await api.get("/api/v1/complaints", headers=headers)).json()
    cases = (await api.get("/api/v1/certificates", headers=headers)).json()
    return {
        "escalation_id": str(escalations[0]["id"]),
        "ticket_id": str(tickets[0]["id"]),
        "complaint_id": str(complaints[0]["id"]),
        "case_id": str(cases[0]["id"]),
        "username": "agent",
    }


async def test_no_route_answers_500_to_malformed_input(
    bound_chat: Chat, api: httpx.AsyncClient, headers: dict[str, dict[str, str]], runtime: Runtime
) -> None:
    await file_complaint(bound_chat)
    await submit(bound_chat, "plumbing", "厨房下水慢")
    data = (runtime.settings.config_dir / "sample_certificates.csv").read_bytes()
    assert (await import_certificates_into(runtime, data)).ok
    admin = {**headers["admin"], "Content-Type": "application/json"}
    ids = await real_ids(api, admin)
    schema = (await api.get("/openapi.json")).json()
    components = schema["components"]["schemas"]
    answered: list[tuple[str, str, int]] = []

    async def call(method: str, url: str, content: bytes | None = None, **kw: Any) -> None:
        response = await api.request(method, url, content=content, headers=admin, **kw)
        answered.append((method, url, response.status_code))
        assert response.status_code < 500, (method, url, content, response.text)

    for path, operations in schema["paths"].items():
        if not path.startswith("/api/v1/") or path == "/api/v1/auth/token":
            continue
        for method, operation in operations.items():
            method = method.upper()
            params = operation.get("parameters", [])
            url = path.format(**ids)
            request_schema = (
                operation.get("requestBody", {})
                .get("content", {})
                .get("application/json", {})
                .get("schema")
            )
            body = example(request_schema, components) if request_schema else None
            good = json.dumps(body).encode() if body is not None else None
            for param in params:
                if param["in"] == "path":
                    for value in HOSTILE_PATH:
                        bad = path.format(**{**ids, param["name"]: value})
                        await call(method, bad, good)
                elif param["in"] == "query":
                    for value in [*HOSTILE_PATH, "\x00", "x" * 5000, "waiting", "G1"]:
                        await call(method, url, good, params={param["name"]: value})
            if request_schema:
                for content in mutations(body):
                    await call(method, url, content)

    token_form = [
        {"username": "agent", "password": "\x00"},
        {"username": "\x00", "password": "x"},
        {"username": "x" * 5000, "password": "y" * 5000},
        {"username": "🙂", "password": ""},
    ]
    for form in token_form:
        response = await api.post("/api/v1/auth/token", data=form)
        assert response.status_code in (401, 422, 429), (form, response.text)
    junk = await api.post("/api/v1/auth/token", content=b"\xff\xfe", headers={"Content-Type": "x"})
    assert junk.status_code == 422
    assert len(answered) > 500
    assert {code for *_, code in answered} <= {200, 201, 400, 401, 403, 404, 405, 409, 422}
