"""Who may call what: every route of the staff API for anonymous, agent, supervisor and admin
callers; signing in, the guessing limit, expiry and deactivation."""

from __future__ import annotations

import httpx

from bot.app.bootstrap import Runtime
from bot.app.http import create_app
from bot.services.staff import set_active
from bot.testing.fake_wechat_api import png_bytes
from tests.staff.conftest import sign_in
from tests.support import FakeClock

ORDER = ["anonymous", "agent", "supervisor", "admin"]
#: Multipart uploads (the other bodies are JSON).
PHOTO = {"files": {"photo": ("p.png", png_bytes(), "image/png")}}
PHOTOS = {"files": [("photos", ("p.png", png_bytes(), "image/png"))]}
#: (method, path, JSON body, the lowest role allowed). Ids name nothing: an allowed caller gets
#: 404 or 422, a refused one 401 or 403 — the check runs before the route looks anything up.
ROUTES = [
    ("GET", "/api/v1/me", None, "agent"),
    ("GET", "/api/v1/escalations", None, "agent"),
    ("GET", "/api/v1/escalations?status=waiting", None, "agent"),
    ("GET", "/api/v1/escalations/9999", None, "agent"),
    ("POST", "/api/v1/escalations/9999/claim", None, "agent"),
    ("POST", "/api/v1/escalations/9999/messages", {"text": "您好"}, "agent"),
    ("POST", "/api/v1/escalations/9999/notes", {"text": "备注"}, "agent"),
    ("POST", "/api/v1/escalations/9999/photos", PHOTO, "agent"),
    ("POST", "/api/v1/escalations/9999/close", None, "agent"),
    ("POST", "/api/v1/escalations/9999/transfer", {"to": "agent"}, "supervisor"),
    ("GET", "/api/v1/tickets", None, "agent"),
    ("GET", "/api/v1/tickets?status=submitted", None, "agent"),
    ("GET", "/api/v1/tickets/9999", None, "agent"),
    ("POST", "/api/v1/tickets/9999/status", {"status": "accepted", "note": ""}, "agent"),
    ("POST", "/api/v1/tickets/9999/photos", PHOTOS, "agent"),
    ("GET", "/api/v1/alerts", None, "agent"),
    ("GET", "/api/v1/complaints", None, "agent"),
    ("POST", "/api/v1/complaints/9999/grade", {"grade": "G2", "reason": "多户"}, "supervisor"),
    ("GET", "/api/v1/certificates", None, "agent"),
    ("POST", "/api/v1/certificates/9999/stage", {"stage": "area_surveyed"}, "agent"),
    ("POST", "/api/v1/certificates/stage", {"ids": [9999], "stage": "area_surveyed"}, "agent"),
    ("GET", "/api/v1/staff", None, "admin"),
    (
        "POST",
        "/api/v1/staff",
        {"username": "newbie", "password": "long-enough", "role": "agent"},
        "admin",
    ),
    ("POST", "/api/v1/staff/nobody/role", {"role": "agent"}, "admin"),
]


def test_the_matrix_covers_every_api_route(runtime: Runtime) -> None:
    app = create_app(runtime)
    documented = {
        (method, path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/api/v1/") and path != "/api/v1/auth/token"
        for method in (m.upper() for m in operations)
    }
    covered = {(method, path.split("?")[0].replace("9999", "{x}")) for method, path, *_ in ROUTES}
    normalised = {
        (m, "/".join("{x}" if part.startswith("{") else part for part in p.split("/")))
        for m, p in documented
    }
    covered = {
        (m, "/".join("{x}" if part in ("{x}", "nobody") else part for part in p.split("/")))
        for m, p in covered
    }
    assert normalised == covered


async def test_each_role_gets_exactly_its_routes(
    api: httpx.AsyncClient, headers: dict[str, dict[str, str]]
) -> None:
    """One test over the whole matrix: signing four people in costs four argon2 hashes."""
    seen = []
    for method, path, body, lowest in ROUTES:
        for caller in ORDER:
            payload = body if isinstance(body, dict) and "files" in body else {"json": body}
            response = await api.request(method, path, headers=headers[caller], **payload)
            if caller == "anonymous":
                expected: set[int] = {401}
                assert response.headers["www-authenticate"] == "Bearer"
            elif ORDER.index(caller) < ORDER.index(lowest):
                expected = {403}
            else:
                expected = {200, 201, 404, 409, 422}
            seen.append((method, path, caller, response.status_code))
            assert response.status_code in expected, seen[-1]
    assert len(seen) == len(ROUTES) * 4


async def test_a_forged_or_garbled_token_is_401(
    api: httpx.AsyncClient, headers: dict[str, dict[str, str]]
) -> None:
    token = headers["admin"]["Authorization"].removeprefix("Bearer ")
    user_id, _, signed = token.partition(".")
    forged = [
        f"{int(user_id) + 1}.{signed}",  # someone else's id under this signature
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        "1.99999999999999999999999.abc",  # an expiry beyond any calendar
        "garbage",
        "",
    ]
    for value in forged:
        response = await api.get("/api/v1/me", headers={"Authorization": f"Bearer {value}"})
        assert response.status_code == 401, value


async def test_signing_in_and_the_guessing_limit(
    api: httpx.AsyncClient, headers: dict[str, dict[str, str]], clock: FakeClock
) -> None:
    me = await api.get("/api/v1/me", headers=headers["agent"])
    assert me.json()["username"] == "agent" and me.json()["role"] == "agent"
    for _ in range(5):
        wrong = await api.post(
            "/api/v1/auth/token", data={"username": "AGENT", "password": "wrong-password"}
        )
        assert wrong.status_code == 401
    limited = await api.post(
        "/api/v1/auth/token", data={"username": "agent", "password": "correct-horse"}
    )
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    assert (await api.post("/api/v1/auth/token", data={"username": "agent"})).status_code == 422
    clock.advance(minutes=16)
    assert await sign_in(api, "agent")


async def test_tokens_expire_and_die_with_a_deactivated_account(
    api: httpx.AsyncClient,
    headers: dict[str, dict[str, str]],
    runtime: Runtime,
    clock: FakeClock,
) -> None:
    async with runtime.uow() as uow:
        await set_active(uow, "supervisor", False, "test", clock())
        await uow.commit()
    assert (await api.get("/api/v1/me", headers=headers["supervisor"])).status_code == 401
    refused = await api.post(
        "/api/v1/auth/token", data={"username": "supervisor", "password": "correct-horse"}
    )
    assert refused.status_code == 401
    clock.advance(hours=12, seconds=1)
    assert (await api.get("/api/v1/me", headers=headers["agent"])).status_code == 401


async def test_the_openapi_schema_is_served(api: httpx.AsyncClient) -> None:
    schema = (await api.get("/openapi.json")).json()
    assert "/api/v1/escalations/{escalation_id}/claim" in schema["paths"]
    assert "OAuth2PasswordBearer" in schema["components"]["securitySchemes"]
