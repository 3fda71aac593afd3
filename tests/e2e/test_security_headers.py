"""Our pages may not be framed (clickjacking) nor run anything but what we serve: every
response carries CSP, frame and sniffing headers, the owner's message page included."""

from __future__ import annotations

import httpx

from bot.app.bootstrap import Runtime
from bot.app.http import create_app
from bot.engine.types import Reply
from bot.pages.messages import message_link
from tests.e2e.test_pages import _push
from tests.support import Chat, FakeClock


async def test_pages_send_csp_and_frame_headers(
    runtime: Runtime, bound_chat: Chat, clock: FakeClock
) -> None:
    message_id = await _push(runtime, bound_chat, clock, Reply("工单已受理"))
    link = message_link("http://bot", runtime.settings.secret_key, clock)(message_id)
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        for url in (link, "/m/1?t=1.x", "/healthz"):
            response = await client.get(url)
            assert response.status_code in (200, 404), url
            csp = response.headers.get("content-security-policy", "")
            assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp, url
            assert "script-src" not in csp  # no script is allowed at all
            assert response.headers.get("x-frame-options") == "DENY"
            assert response.headers.get("x-content-type-options") == "nosniff"
            assert response.headers.get("referrer-policy") == "no-referrer"
