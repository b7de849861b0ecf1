"""Sending one webhook delivery: the signature, and the guard against server-side forgery.

Signature. Every request carries ``Mssc-Signature: t=<unix seconds>,v1=<hex>`` where ``v1`` is
HMAC-SHA256, keyed with the webhook's secret, over ``"<t>.<raw body>"``. A receiver recomputes
it over the raw bytes it received, compares in constant time, rejects a ``t`` more than
``REPLAY_WINDOW_SECONDS`` away from its clock, and drops an ``Mssc-Event-Id`` it has already
processed (delivery is at least once). The README has the recipe.

Forgery (SSRF). Which URLs and addresses a webhook may reach is decided in
``api/workers/webhook_targets.py``. Here, at every delivery, the URL is checked again, the host name
is resolved, *every* address it resolves to is checked, and the connection is made to a checked
address itself, so a DNS answer that changes between check and connect (rebinding) cannot
redirect it. Redirects are never followed, environment proxies never used.

Failure. Whatever the endpoint does (refuses, resets, never answers, trickles its headers,
answers a body without end, fails TLS), :meth:`WebhookSender.send` returns within
``SEND_DEADLINE_SECONDS`` with an :class:`Attempt` that says what went wrong; the body of an
answer is never read.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import logging
import socket
import time
import typing
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from ipaddress import ip_address

import httpcore
import httpx

from api.workers.webhook_targets import IPAddress, check_url, may_reach

logger = logging.getLogger("mssc.webhooks")

REPLAY_WINDOW_SECONDS = 300
SIGNATURE_HEADER = "Mssc-Signature"
# Each step (connect, write, each read) of one exchange...
TIMEOUT_SECONDS = 10.0
# ...and the whole of it, name resolution and TLS included: an endpoint that answers a byte
# at a time never holds a send longer than this (the worker's lease counts on it).
SEND_DEADLINE_SECONDS = 15.0
USER_AGENT = "mssc-registry-webhooks/1"
# Lookups run in threads of their own, so that a slow DNS server cannot take the threads the
# API's own work (reports, keys) runs in.
RESOLVER_THREADS = 4


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return mac.hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def is_signature_valid(
    secret: str, header: str, body: bytes, *, now: float, window: int = REPLAY_WINDOW_SECONDS
) -> bool:
    """The receiver's check (used by the tests; the README shows it stand-alone)."""
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        fields.setdefault(key, []).append(value)
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > window:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, given) for given in fields.get("v1", []))


class ForbiddenAddress(Exception):
    """The webhook's host does not resolve, or resolves to an address the registry must not
    call. Its text, which the webhook's owner reads as ``lastError``, is the same either way:
    telling the two apart (or naming the address) would let any client map the registry's
    own DNS. The detail goes to the log."""

    def __init__(self, host: str, detail: str) -> None:
        super().__init__(f"{host} has no public address the registry may call; not delivered")
        self.detail = detail


class SystemResolver:
    """The host's resolver (``getaddrinfo``: hosts file, then DNS), in threads of its own."""

    def __init__(self) -> None:
        self._threads = ThreadPoolExecutor(RESOLVER_THREADS, thread_name_prefix="webhook-dns")

    async def __call__(self, host: str, port: int) -> list[str]:
        lookup = functools.partial(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
        infos = await asyncio.get_running_loop().run_in_executor(self._threads, lookup)
        return [str(info[4][0]) for info in infos]

    def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)


Resolver = typing.Callable[[str, int], typing.Awaitable[list[str]]]


class GuardedNetwork(httpcore.AsyncNetworkBackend):
    """Resolves, checks every address, and connects to a checked address."""

    def __init__(self, *, allow_loopback: bool, resolver: Resolver) -> None:
        self.allow_loopback = allow_loopback
        self._resolver = resolver
        self._inner = httpcore.AnyIOBackend()

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        try:
            answers = await self._resolver(host, port)
        except socket.gaierror as error:
            raise ForbiddenAddress(host, f"cannot resolve: {error.strerror}") from None
        addresses: list[IPAddress] = []
        for answer in answers:
            address = ip_address(answer)
            if address not in addresses:
                addresses.append(address)
        refused = [a for a in addresses if not may_reach(a, allow_loopback=self.allow_loopback)]
        if refused:
            raise ForbiddenAddress(host, f"resolves to a non-public address ({refused[0]})")
        return addresses

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self.resolve(host, port)
        if not addresses:
            raise httpcore.ConnectError(f"{host} has no address")
        last: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                last = error
        assert last is not None
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise ForbiddenAddress(path, "webhooks never connect to local sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with its connection pool on :class:`GuardedNetwork`.

    TLS still verifies the certificate for the URL's host name: only the TCP connection goes
    to the checked address.
    """

    def __init__(self, network: GuardedNetwork) -> None:
        super().__init__(trust_env=False, retries=0)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=50,
            max_keepalive_connections=10,
            keepalive_expiry=30.0,
            http1=True,
            http2=False,
            retries=0,
            network_backend=network,
        )


@dataclass(frozen=True, slots=True)
class Attempt:
    delivered: bool
    status_code: int | None
    error: str | None


class WebhookSender:
    """Sends deliveries. ``allow_loopback`` (development) lets them reach this machine.

    ``resolver`` answers name lookups (the system's by default; tests script DNS answers).
    """

    def __init__(
        self,
        *,
        allow_loopback: bool,
        timeout: float = TIMEOUT_SECONDS,
        deadline: float = SEND_DEADLINE_SECONDS,
        resolver: Resolver | None = None,
    ) -> None:
        self.allow_loopback = allow_loopback
        self.deadline = deadline
        self._system_resolver: SystemResolver | None = None
        if resolver is None:
            resolver = self._system_resolver = SystemResolver()
        network = GuardedNetwork(allow_loopback=allow_loopback, resolver=resolver)
        self._client = httpx.AsyncClient(
            transport=GuardedTransport(network),
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": USER_AGENT},
        )

    async def aclose(self) -> None:
        await self._client.aclose()
        if self._system_resolver is not None:
            self._system_resolver.close()

    async def send(
        self,
        *,
        url: str,
        secret: str,
        sequence: int,
        event_type: str,
        body: bytes,
        attempt: int,
        timestamp: int | None = None,
    ) -> Attempt:
        """One POST and what came of it. Network and endpoint failures are an :class:`Attempt`;
        anything else (a bug, a malformed row) raises, for the worker to record."""
        problem = check_url(url, allow_loopback=self.allow_loopback)
        if problem is not None:
            return Attempt(False, None, problem)
        moment = int(time.time()) if timestamp is None else timestamp
        headers = {
            "Content-Type": "application/json",
            "Mssc-Event-Id": str(sequence),
            "Mssc-Event-Type": event_type,
            "Mssc-Delivery-Attempt": str(attempt),
            SIGNATURE_HEADER: signature_header(secret, moment, body),
        }
        try:
            async with asyncio.timeout(self.deadline):
                # Only the status matters; the body is never read.
                async with self._client.stream("POST", url, content=body, headers=headers) as reply:
                    status = reply.status_code
        except ForbiddenAddress as error:
            logger.warning("webhook to %s not delivered: %s", httpx.URL(url).host, error.detail)
            return Attempt(False, None, str(error))
        except (httpx.TimeoutException, TimeoutError):
            return Attempt(False, None, "timed out")
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            return Attempt(False, None, f"{type(error).__name__}: {error}"[:300])
        if 200 <= status < 300:
            return Attempt(True, status, None)
        if 300 <= status < 400:
            return Attempt(False, status, f"HTTP {status}: redirects are not followed")
        return Attempt(False, status, f"HTTP {status}")
