"""PTB's network layer on aiohttp instead of httpx.

Every reply costs one Bot API request, and httpx made that request the largest share of the CPU
of an update: 1.6 ms with a few connections, 3 ms with 16 in flight (its pool walks every
connection on each request and answer), against 0.3 ms for aiohttp on the same loopback server
(`bench telegram --profile`, and a client alone posting sendMessage bodies). PTB accepts any
`BaseRequest`; this one keeps HTTPXRequest's behaviour: the same default timeouts, form-encoded
parameters (multipart with files), PTB's TimedOut and NetworkError with the client's error as
their cause, TCP_NODELAY (aiohttp's default) and idle connections closed before the server
closes them.
"""

from __future__ import annotations

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

#: aiohttp errors raised before the request left this machine: Telegram cannot have acted on it.
UNSENT_ERRORS = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)

#: HTTPXRequest's defaults (PTB 22), in seconds.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 5.0
POOL_TIMEOUT = 1.0


class AiohttpRequest(BaseRequest):
    def __init__(
        self, *, connections: int, keepalive_seconds: float, read_timeout: float = READ_TIMEOUT
    ) -> None:
        self._connections = connections
        self._keepalive = keepalive_seconds
        self._read_timeout = read_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._connections, keepalive_timeout=self._keepalive
            )
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT}
            )

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """aiohttp has no write timeout of its own: a request that cannot be written within the
        read timeout fails as one that gets no answer."""
        if self._session is None:
            await self.initialize()
        assert self._session is not None
        connect = _given(connect_timeout, CONNECT_TIMEOUT)
        timeout = aiohttp.ClientTimeout(
            # Waiting for a pooled connection counts here in aiohttp, as a connect timeout.
            connect=_sum(_given(pool_timeout, POOL_TIMEOUT), connect),
            sock_connect=connect,
            sock_read=_given(read_timeout, self._read_timeout),
        )
        try:
            async with self._session.request(
                method, url, data=_body(request_data), timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as err:
            raise TimedOut from err
        except aiohttp.ClientError as err:
            # The class name: some of aiohttp's errors have an empty message.
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err


def _body(request_data: RequestData | None) -> aiohttp.FormData | dict[str, str] | None:
    """Form fields, as HTTPXRequest sends them; multipart when there are files."""
    if request_data is None:
        return None
    files = request_data.multipart_data
    if not files:
        return request_data.json_parameters
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in files.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form


def _given(value: object, default: float) -> float | None:
    """PTB's DEFAULT_NONE means "this request's default"; None means no limit."""
    if value is None:
        return None
    return float(value) if isinstance(value, int | float) else default


def _sum(first: float | None, second: float | None) -> float | None:
    return None if first is None or second is None else first + second
