"""Generated input (Hypothesis) to the staff API's write routes: whatever JSON arrives, in the
body or in place of an id, the answer is 2xx or 4xx, never 500. Complements the schema-driven
hostile values of test_api_malformed.py with values nobody thought of."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app.bootstrap import Runtime
from bot.app.demo_data import import_certificates_into
from tests.integration.test_tickets import submit
from tests.staff.test_api_flows import file_complaint
from tests.staff.test_api_malformed import real_ids
from tests.support import Chat

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
    | st.sampled_from(["G1", "accepted", "dispatched", "rejected", "area_surveyed", "agent"])
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = ["text", "to", "status", "note", "assignee", "appointment_at", "grade", "reason", "stage",
          "stage_date", "ids", "role", "username", "password"]  # fmt: skip
BODIES = st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=5) | JSON
ROUTES = [
    "/api/v1/escalations/{escalation_id}/messages",
    "/api/v1/escalations/{escalation_id}/notes",
    "/api/v1/escalations/{escalation_id}/transfer",
    "/api/v1/tickets/{ticket_id}/status",
    "/api/v1/complaints/{complaint_id}/grade",
    "/api/v1/certificates/{case_id}/stage",
    "/api/v1/certificates/stage",
    "/api/v1/staff",
    "/api/v1/staff/{username}/role",
]
IDS = st.one_of(st.none(), st.integers(), st.text(max_size=30))


async def test_generated_bodies_and_ids_never_get_a_500(
    bound_chat: Chat, api: httpx.AsyncClient, headers: dict[str, dict[str, str]], runtime: Runtime
) -> None:
    await file_complaint(bound_chat)
    await submit(bound_chat, "plumbing", "厨房下水慢")
    data = (runtime.settings.config_dir / "sample_certificates.csv").read_bytes()
    assert (await import_certificates_into(runtime, data)).ok
    admin = {**headers["admin"], "Content-Type": "application/json"}
    ids = await real_ids(api, admin)
    cases: list[tuple[str, Any, Any, bool]] = []

    @settings(
        max_examples=400,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(route=st.sampled_from(ROUTES), body=BODIES, wrong_id=IDS, use_wrong_id=st.booleans())
    def generate(route: str, body: Any, wrong_id: Any, use_wrong_id: bool) -> None:
        """Hypothesis draws the inputs; the requests go out below, on the test's event loop."""
        cases.append((route, body, wrong_id, use_wrong_id))

    generate()
    statuses: set[int] = set()
    for route, body, wrong_id, use_wrong_id in cases:
        values = {name: quote(str(wrong_id), safe="") for name in ids} if use_wrong_id else ids
        url = route.format(**values)
        content = json.dumps(body, allow_nan=True).encode()
        response = await api.post(url, content=content, headers=admin)
        statuses.add(response.status_code)
        assert response.status_code < 500, (url, body, response.text)
    assert len(cases) == 400
    assert statuses <= {200, 201, 400, 401, 403, 404, 405, 409, 422}
