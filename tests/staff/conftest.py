"""Fixtures of the staff-side suites: the HTTP app with the staff API, and signed-in staff."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from bot.app.bootstrap import Runtime
from bot.app.http import create_app
from bot.domain.staff import StaffRole
from tests.staff.support import PASSWORD, make_staff

ROLES = {"agent": StaffRole.AGENT, "supervisor": StaffRole.SUPERVISOR, "admin": StaffRole.ADMIN}


@pytest.fixture
async def api(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(runtime), client=("10.0.0.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://bot.test") as client:
        yield client


async def sign_in(api: httpx.AsyncClient, username: str, password: str = PASSWORD) -> str:
    response = await api.post(
        "/api/v1/auth/token", data={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    return str(body["access_token"])


@pytest.fixture
async def headers(runtime: Runtime, api: httpx.AsyncClient) -> dict[str, dict[str, str]]:
    """Role name → Authorization header of a signed-in member of that role ("王芳" is the
    agent); "anonymous" → no header."""
    names = {"agent": "王芳", "supervisor": "主管", "admin": "管理员"}
    result: dict[str, dict[str, str]] = {"anonymous": {}}
    for name, role in ROLES.items():
        await make_staff(runtime, name, role, names[name])
        result[name] = {"Authorization": f"Bearer {await sign_in(api, name)}"}
    return result
