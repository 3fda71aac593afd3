"""schemathesis over every /api/v1 operation that /openapi.json documents: generated requests
(valid and invalid path ids, queries, JSON and multipart bodies) with a valid admin token,
against the real app served by uvicorn on loopback over PostgreSQL. Every answer must be no
server error, and its status, content type, headers and body must be what the schema says.

All of schemathesis's checks but one: `positive_data_acceptance` expects every request the
schema allows to succeed, while the rules ask more than a JSON schema can say (a photo must
decode as an image, a transfer names an existing colleague, a stage is one of the company's list
in config/rules.yaml); those refusals are the documented 422 with a `detail` code.

The server runs in a thread of its own, with its own event loop and runtime, because
schemathesis sends its requests synchronously from the test."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import positive_data_acceptance

from bot.app.bootstrap import Runtime, build_runtime
from bot.app.demo_data import import_certificates_into, seed_demo_roster
from bot.app.http import create_app
from bot.channels.console import ConsoleChannel
from bot.domain.staff import StaffRole
from bot.settings import PROJECT_ROOT, load_settings
from tests.e2e.processes import free_port
from tests.integration.test_tickets import submit
from tests.staff.conftest import sign_in
from tests.staff.support import make_staff
from tests.staff.test_api_flows import file_complaint
from tests.support import Chat

#: Examples per operation: about 25 operations, so a few hundred requests in all.
EXAMPLES = 12
#: Unlikely to be drawn as a generated username, so the role changes it generates never
#: demote the account the test signs in with.
ADMIN = "schema-admin-7q3x"


class LiveApi:
    """The app with a seeded runtime, served on loopback from a thread until `stop`."""

    def __init__(self, database_url: str, media_dir: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.headers: dict[str, str] = {}
        self._database_url = database_url
        self._media_dir = media_dir
        self._server: uvicorn.Server | None = None
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="live-api", daemon=True)

    def start(self) -> LiveApi:
        self._thread.start()
        deadline = time.monotonic() + 60
        while not (self._server is not None and self._server.started):
            if self._failure is not None or not self._thread.is_alive():
                raise AssertionError(f"the server did not start: {self._failure!r}")
            if time.monotonic() > deadline:
                raise AssertionError("the server did not start within 60 s")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        self._thread.join(timeout=30)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported by start(), in the test's thread
            self._failure = exc

    async def _serve(self) -> None:
        settings_ = load_settings(
            database_url=self._database_url,
            media_dir=self._media_dir,
            config_dir=PROJECT_ROOT / "config",
            telegram_token=None,
            wechat_app_id=None,
            redis_url=None,
        )
        runtime = build_runtime(settings_, with_channels=False)
        try:
            await self._seed(runtime)
            app = create_app(runtime)
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://bot.test"
            ) as client:
                self.headers = {"Authorization": f"Bearer {await sign_in(client, ADMIN)}"}
            config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
            self._server = uvicorn.Server(config)
            await self._server.serve()
        finally:
            await runtime.close()

    @staticmethod
    async def _seed(runtime: Runtime) -> None:
        """Something behind every kind of id: an escalated complaint, a ticket, certificate
        cases, and the signed-in admin."""
        console = ConsoleChannel()
        runtime.services.gateways[console.name] = console
        codes = dict(
            (label.split(" – ")[0], code)
            for code, label in reversed(await seed_demo_roster(runtime, runtime.services.clock()))
        )
        chat = Chat(runtime)
        await chat.say(f"绑定 {codes['张伟']}")
        await file_complaint(chat)
        await submit(chat, "plumbing", "厨房下水慢")
        data = (runtime.settings.config_dir / "sample_certificates.csv").read_bytes()
        assert (await import_certificates_into(runtime, data)).ok
        await make_staff(runtime, ADMIN, StaffRole.ADMIN, "管理员")


@pytest.fixture
def live_api(tmp_path_factory: pytest.TempPathFactory, postgres_url: str) -> Iterator[LiveApi]:
    media = tmp_path_factory.mktemp("schema-media")
    api = LiveApi(postgres_url, str(media)).start()
    try:
        yield api
    finally:
        api.stop()


def test_every_api_v1_operation_keeps_to_its_schema(live_api: LiveApi) -> None:
    """Each operation in turn, valid and invalid input, all of schemathesis's response checks;
    every failing operation is reported (with its shrunk example), not just the first."""
    schema = schemathesis.openapi.from_url(f"{live_api.base}/openapi.json")
    operations = [
        result.ok() for result in schema.include(path_regex="^/api/v1/").get_all_operations()
    ]
    assert len(operations) >= 20  # the whole staff API, not a schema that lost its paths
    failures = []
    for operation in operations:
        cases = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(
            GenerationMode.NEGATIVE
        )

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=cases)
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(
                base_url=live_api.base,
                headers=live_api.headers,
                excluded_checks=[positive_data_acceptance],
            )

        try:
            check()
        except (Exception, FailureGroup) as exc:  # a group: several checks failed at once
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
