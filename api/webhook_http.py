"""Sending one webhook delivery: the signature, and the guard against server-side forgery.

Signature. Every request carries ``Mssc-Signature: t=<unix seconds>,v1=<hex>`` where ``v1`` is
HMAC-SHA256, keyed with the webhook's secret, over ``"<t>.<raw body>"``. A receiver recomputes
it over the raw bytes it received, compares in constant time, rejects a ``t`` more than
``REPLAY_WINDOW_SECONDS`` away from its clock, and drops an ``Mssc-Event-Id`` it has already
processed (delivery is at least once). The README has the recipe.

Forgery (SSRF). A webhook URL is a request the registry makes on someone's behalf, so in
production it may reach only public addresses: a URL naming a private, loopback, link-local,
shared, reserved or multicast address is refused when registered, and at every delivery the
host name is resolved, *every* address it resolves to is checked, and the connection is made
to the checked address itself (a DNS answer that changes between check and connect cannot
redirect it). Redirects are never followed, environment proxies never used.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import socket
import time
import typing
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpcore
import httpx

REPLAY_WINDOW_SECONDS = 300
SIGNATURE_HEADER = "Mssc-Signature"
TIMEOUT_SECONDS = 10.0
MAX_URL_LENGTH = 2048
USER_AGENT = "mssc-registry-webhooks/1"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


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
    """The webhook's host is, or resolves to, an address the registry must not call."""


def is_public(address: IPAddress) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return address.is_global and not address.is_multicast


def check_url(url: str, *, allow_private: bool) -> str | None:
    """Why ``url`` cannot be a webhook endpoint, or None when it can (before DNS)."""
    if len(url) > MAX_URL_LENGTH:
        return f"url must be at most {MAX_URL_LENGTH} characters"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "url is not a valid URL"
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes:
        return "url must use https"
    if not parts.hostname:
        return "url must name a host"
    if parts.username is not None or parts.password is not None:
        return "url must not carry credentials; the signature authenticates the registry"
    if parts.fragment:
        return "url must not have a fragment"
    if port == 0:
        return "url has no usable port"
    if allow_private:
        return None
    host = parts.hostname.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return "url must not point to this machine"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None  # a name: checked against every address it resolves to, at each delivery
    return None if is_public(address) else "url must point to a public address"


class GuardedNetwork(httpcore.AsyncNetworkBackend):
    """Resolves, checks every address, and connects to a checked address."""

    def __init__(self, *, allow_private: bool) -> None:
        self.allow_private = allow_private
        self._inner = httpcore.AnyIOBackend()

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as error:
            raise httpcore.ConnectError(f"cannot resolve {host}: {error.strerror}") from None
        addresses = []
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
            if address not in addresses:
                addresses.append(address)
        refused = [a for a in addresses if not is_public(a)]
        if refused and not self.allow_private:
            raise ForbiddenAddress(
                f"{host} resolves to a non-public address ({refused[0]}); not delivered"
            )
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
        raise ForbiddenAddress("webhooks never connect to local sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with its connection pool on :class:`GuardedNetwork`.

    TLS still verifies the certificate for the URL's host name: only the TCP connection goes
    to the checked address.
    """

    def __init__(self, *, allow_private: bool) -> None:
        super().__init__(trust_env=False, retries=0)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=50,
            max_keepalive_connections=10,
            keepalive_expiry=30.0,
            http1=True,
            http2=False,
            retries=0,
            network_backend=GuardedNetwork(allow_private=allow_private),
        )


@dataclass(frozen=True, slots=True)
class Attempt:
    delivered: bool
    status_code: int | None
    error: str | None


class WebhookSender:
    def __init__(self, *, allow_private: bool, timeout: float = TIMEOUT_SECONDS) -> None:
        self.allow_private = allow_private
        self._client = httpx.AsyncClient(
            transport=GuardedTransport(allow_private=allow_private),
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": USER_AGENT},
        )

    async def aclose(self) -> None:
        await self._client.aclose()

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
        problem = check_url(url, allow_private=self.allow_private)
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
            # Only the status matters; the body is never read.
            async with self._client.stream("POST", url, content=body, headers=headers) as reply:
                status = reply.status_code
        except ForbiddenAddress as error:
            return Attempt(False, None, str(error))
        except httpx.TimeoutException:
            return Attempt(False, None, "timed out")
        except httpx.HTTPError as error:
            return Attempt(False, None, f"{type(error).__name__}: {error}"[:300])
        if 200 <= status < 300:
            return Attempt(True, status, None)
        if 300 <= status < 400:
            return Attempt(False, status, f"HTTP {status}: redirects are not followed")
        return Attempt(False, status, f"HTTP {status}")
