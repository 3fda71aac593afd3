"""The Bot API failing: 5xx answers and timeouts on getUpdates and sendMessage. Polling goes on,
no reply is lost, and none is duplicated beyond the one message in flight when it timed out.

The real adapter (PTB over HTTP) polls the fake Bot API, which is scripted to answer 502, to
hold a request and answer 504 (a gateway timing out in front of Telegram), and to hold a
sendMessage beyond the client's read timeout without acting on it — a request lost on the way,
which the client cannot tell from one that arrived.
"""

from __future__ import annotations

import pytest

from bot.app.bootstrap import Runtime
from bot.testing.fake_telegram import Failure, FakeTelegram, text_update
from tests.fakes.telegram_harness import RecordingSleep, inbox_keys, make_channel, running

PLAIN, BAD_GATEWAY, LOST = 9301, 9302, 9303
#: PTB's default read timeout is 5 s: held longer, the client gives up on the request.
BEYOND_READ_TIMEOUT = 6.0


@pytest.mark.parametrize("backend", ["postgres"])
async def test_5xx_and_timeouts_lose_no_reply_and_polling_goes_on(
    runtime: Runtime, fake: FakeTelegram
) -> None:
    sleep = RecordingSleep()
    fake.fail("getUpdates", Failure(502, "Bad Gateway"), times=2)
    fake.fail("getUpdates", Failure(504, "Gateway Timeout", hold=1.0))
    async with running(make_channel(runtime, fake, sleep), runtime):
        fake.push_update(text_update(PLAIN, "菜单"))
        await fake.wait_until(lambda: fake.sent_count(PLAIN) >= 1, within=30)
        assert len(fake.calls_to("getUpdates")) >= 4  # three failed polls, and it went on

        fake.fail("sendMessage", Failure(502, "Bad Gateway", chat_id=BAD_GATEWAY), times=2)
        fake.push_update(text_update(BAD_GATEWAY, "菜单"))
        await fake.wait_until(lambda: fake.sent_count(BAD_GATEWAY) >= 1, within=30)

        held = Failure(504, "Gateway Timeout", chat_id=LOST, hold=BEYOND_READ_TIMEOUT)
        fake.fail("sendMessage", held)
        fake.push_update(text_update(LOST, "菜单"))
        await fake.wait_until(lambda: fake.sent_count(LOST) >= 1, within=30)
        await runtime.outbox.run_once()  # nothing left due: no late copy on its way

    answered = {user: len(fake.sent_to(user)) for user in (PLAIN, BAD_GATEWAY, LOST)}
    # Each owner's one answer arrived once; for LOST the first request counts as a call but
    # the fake never delivered it (so no duplicate either).
    delivered = {user: fake.sent_count(user) for user in (PLAIN, BAD_GATEWAY, LOST)}
    assert len(set(delivered.values())) == 1, delivered
    assert answered[BAD_GATEWAY] == delivered[BAD_GATEWAY] + 2
    assert answered[LOST] == delivered[LOST] + 1
    assert set((await inbox_keys(runtime)).values()) == {"done"}
    async with runtime.uow() as uow:
        states = {row.state for row in await uow.outbox.status_counts(runtime.services.clock())}
    assert states == {"sent"}
