"""Where a webhook may point (SSRF): every spelling of a non-public address is refused when
registered and at every delivery; names are judged by every address they resolve to, when
sent; development allows this machine's loopback and nothing else private."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import replace
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.settings import Settings
from api.workers.webhook_sender import ForbiddenAddress, GuardedNetwork, WebhookSender
from api.workers.webhook_targets import check_url, is_public
from api.workers.webhook_worker import WebhookWorker
from db import models
from tests.api.events.receiver import Receiver
from tests.api.events.support import ALL_TYPES, CREATE, Clock, deliveries_by_url, drain, subscribe
from tests.support.apps import another_process
from tests.support.auth import MakeCaller
from tests.support.fuzzing import examples, seeded
from tests.support.schools import SchoolClient

PUBLIC = "url must point to a public address"
FULL_WIDTH = "\uff11\uff12\uff17.\uff10.\uff10.\uff11"  # 127.0.0.1 in full-width digits
NUMBERS = "url must write an IPv4 address as four decimal numbers"

# The review's four, and the rest of their class: each with the answer production gives.
NOT_PUBLIC = {
    # IPv6 forms that carry a non-public IPv4 address.
    "https://[64:ff9b::7f00:1]/": PUBLIC,  # NAT64 of 127.0.0.1
    "https://[64:ff9b::a9fe:a9fe]/": PUBLIC,  # NAT64 of 169.254.169.254
    "https://[::a9fe:a9fe]/": PUBLIC,  # IPv4-compatible
    "https://[::127.0.0.1]/": PUBLIC,
    "https://[::ffff:127.0.0.1]/": PUBLIC,  # IPv4-mapped
    "https://[::ffff:a9fe:a9fe]/": PUBLIC,
    "https://[::ffff:0:a00:1]/": PUBLIC,  # IPv4-translated (SIIT)
    "https://[64:ff9b:1::a00:1]/": PUBLIC,  # local-use NAT64
    "https://[2002:a9fe:a9fe::1]/": PUBLIC,  # 6to4
    "https://[2002:7f00:1::]/": PUBLIC,
    "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/": PUBLIC,  # Teredo, client 192.0.2.45
    "https://[2001:0:a00:1:8000:63bf:f7f7:f7f7]/": PUBLIC,  # Teredo, server 10.0.0.1
    "https://[2606:4700::5efe:a9fe:a9fe]/": PUBLIC,  # ISATAP
    "https://[2606:4700::200:5efe:7f00:1]/": PUBLIC,
    # Plain IPv6 that is not global unicast.
    "https://[::1]/": PUBLIC,
    "https://[::]/": PUBLIC,
    "https://[fe80::1]/": PUBLIC,
    "https://[fe80::1%25eth0]/": PUBLIC,
    "https://[fd00::1]/": PUBLIC,
    "https://[ff02::1]/": PUBLIC,
    "https://[100::1]/": PUBLIC,
    "https://[2001:db8::1]/": PUBLIC,
    # IPv4, canonical.
    "https://127.0.0.1/": PUBLIC,
    "https://10.0.0.1/": PUBLIC,
    "https://169.254.169.254/latest/meta-data": PUBLIC,
    "https://100.64.0.1/": PUBLIC,
    "https://192.0.0.170/": PUBLIC,
    "https://198.18.0.1/": PUBLIC,
    "https://224.0.0.1/": PUBLIC,
    "https://255.255.255.255/": PUBLIC,
    "https://0.0.0.0/": PUBLIC,
    # IPv4 spelled the ways resolvers accept and httpx either rejects or passes on as a name.
    "https://0177.0.0.1/": "url is not a valid URL: Invalid IPv4 address: '0177.0.0.1'",
    "https://127.000.000.001/": "url is not a valid URL: Invalid IPv4 address: '127.000.000.001'",
    "https://2130706433/": NUMBERS,
    "https://0x7f000001/": NUMBERS,
    "https://017700000001/": NUMBERS,
    "https://127.1/": NUMBERS,
    "https://0x7f.1/": NUMBERS,
    "https://169.254.43518/": NUMBERS,
    "https://127.0.0.1./": NUMBERS,
    "https://8.8.8.8./": NUMBERS,  # public, but not canonical: refused all the same
    "https://1.2.3.4.5/": NUMBERS,
    # Names of this machine or of a local network.
    "https://localhost/": "url must not point to this machine",
    "https://LocalHost./": "url must not point to this machine",
    "https://api.localhost/": "url must not point to this machine",
    "https://metadata.google.internal/computeMetadata/v1/": "url must name a public host",
    "https://printer.local/": "url must name a public host",
    "https://router.home.arpa/": "url must name a public host",
    "https://intranet/": "url must name a fully qualified host",
    "https://metadata/": "url must name a fully qualified host",
    # Hosts httpx would pass on but no resolver should see; IDNA it cannot encode.
    "https://ex%41mple.com/": "url must name a valid host",
    "https://exa mple.com/": "url must name a valid host",
    "https://%31%32%37.0.0.1/": "url must name a valid host",
    "https://ⓛocalhost/": "url is not a valid URL: Invalid IDNA hostname: 'ⓛocalhost'",
    f"https://{FULL_WIDTH}/": f"url is not a valid URL: Invalid IDNA hostname: '{FULL_WIDTH}'",
    # Credentials, and the parser differentials built on them.
    "https://user:pw@hooks.example.com/x": (
        "url must not carry credentials; the signature authenticates the registry"
    ),
    "https://a@hooks.example.com/": (
        "url must not carry credentials; the signature authenticates the registry"
    ),
    "https://hooks.example.com\\@127.0.0.1/": (
        "url must not carry credentials; the signature authenticates the registry"
    ),
    "https://hooks.example.com#@127.0.0.1/": "url must not have a fragment",
    # Schemes, ports, shapes.
    "http://hooks.example.com/x": "url must use https",
    "ftp://hooks.example.com/x": "url must use https",
    "file:///etc/passwd": "url must use https",
    "hooks.example.com/x": "url must use https",
    "https:///x": "url must name a host",
    "https://hooks.example.com:0/": "url has no usable port",
    "https://hooks.example.com:99999/": "url has no usable port",
    "https://hooks.example.com\t/": (
        "url is not a valid URL: Invalid non-printable ASCII character in URL, '\\t' at "
        "position 25."
    ),
}

ACCEPTED = [
    "https://hooks.example.com/mssc",
    "https://hooks.example.com./mssc",
    "https://93.184.216.34:8443/mssc",
    "https://[2606:4700:4700::1111]/mssc",
    "https://[::ffff:93.184.216.34]/mssc",  # mapped: judged by the IPv4 it carries
    "https://[64:ff9b::5db8:d822]/mssc",  # NAT64 of 93.184.216.34
    "https://[2002:5db8:d822::1]/mssc",  # 6to4 of 93.184.216.34
    "https://bücher.example/mssc",  # IDNA: xn--bcher-kva.example
    "https://xn--bcher-kva.example/mssc",
]


def test_every_spelling_of_a_non_public_target_is_refused() -> None:
    answers = {url: check_url(url, allow_loopback=False) for url in NOT_PUBLIC}
    assert answers == NOT_PUBLIC


def test_public_targets_pass_the_check() -> None:
    assert {url: check_url(url, allow_loopback=False) for url in ACCEPTED} == dict.fromkeys(
        ACCEPTED
    )


LOOPBACK = [
    "http://127.0.0.1:8000/hooks",
    "https://127.0.0.1/hooks",
    "http://127.9.8.7/hooks",
    "http://[::1]:8000/hooks",
    "http://[::ffff:127.0.0.1]:8000/hooks",
    "http://localhost:8000/hooks",
]


def test_development_allows_loopback_and_nothing_else_private() -> None:
    assert {url: check_url(url, allow_loopback=True) for url in LOOPBACK} == dict.fromkeys(LOOPBACK)
    # Of the refused spellings, development accepts these only (NAT64 would reach the
    # gateway's loopback, not ours; IPv4-compatible addresses are never routed):
    ours = {
        "https://127.0.0.1/",
        "https://[::1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://localhost/",
        "https://LocalHost./",
        "https://api.localhost/",
    }
    development = {url: check_url(url, allow_loopback=True) for url in NOT_PUBLIC}
    assert development == {
        url: None if url in ours or url.startswith("http://") else in_development(reason)
        for url, reason in NOT_PUBLIC.items()
    }


def in_development(reason: str) -> str:
    # Issue 16: development said "must use https" while it accepted http.
    if reason == "url must use https":
        return "url must use https, or http while the registry runs in development"
    return reason


async def test_registration_refuses_private_targets_in_production(
    make_caller: MakeCaller, settings: Settings
) -> None:
    production_like = replace(settings, webhook_allow_private=False)
    school = await make_caller("SCHOOL")
    answers = {}
    async with another_process(production_like) as http:
        for url in [*NOT_PUBLIC, ACCEPTED[0]]:
            response = await http.post(
                "/graphql",
                json={"query": CREATE, "variables": {"url": url, "types": ALL_TYPES}},
                headers={"authorization": f"Bearer {school.token}"},
            )
            errors = response.json()["data"]["createWebhook"]["userErrors"]
            answers[url] = errors[0]["message"] if errors else None
            assert not errors or errors[0]["field"] == ["url"]
    assert answers == {**NOT_PUBLIC, ACCEPTED[0]: None}
    production = Settings.from_env({"MSSC_ENV": "production", "MSSC_ISSUER": "https://r.example"})
    assert not production.webhook_allow_private


async def test_registration_in_development_accepts_loopback_only(school: SchoolClient) -> None:
    answers = {}
    refused = [
        "https://10.0.0.1/",
        "https://169.254.169.254/",
        "http://[fd00::1]/",
        "ftp://127.0.0.1/",
    ]
    for url in [*LOOPBACK, *refused]:
        created = await school.api.data(CREATE, {"url": url, "types": ALL_TYPES})
        errors = created["createWebhook"]["userErrors"]
        answers[url] = errors[0]["message"] if errors else None
    assert answers == {
        **dict.fromkeys(LOOPBACK),
        "https://10.0.0.1/": PUBLIC,
        "https://169.254.169.254/": PUBLIC,
        "http://[fd00::1]/": PUBLIC,
        "ftp://127.0.0.1/": "url must use https, or http while the registry runs in development",
    }


async def test_urls_registered_before_these_checks_are_refused_at_every_delivery(
    school: SchoolClient,
    receiver: Receiver,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
) -> None:
    """The URL is checked again before each send, with the parser that sends it."""
    stored = [
        "https://[64:ff9b::7f00:1]/",
        "https://[::a9fe:a9fe]/",
        "https://0177.0.0.1/",
        "https://2130706433/",
    ]
    for n in range(len(stored)):
        await subscribe(school.api, receiver.url(f"/{n}"), ["candidate.registered"])
    async with sessionmaker.begin() as session:
        for n, url in enumerate(stored):
            await session.execute(
                update(models.Webhook)
                .where(models.Webhook.url == receiver.url(f"/{n}"))
                .values(url=url)
            )
    await school.register("S-1")
    sender = WebhookSender(allow_loopback=False)
    try:
        worker = WebhookWorker(sessionmaker, sender, clock=clock)
        assert await drain(worker) == len(stored)
    finally:
        await sender.aclose()
    found = {
        url: [(d["status"], d["attempts"], d["lastError"]) for d in hook]
        for url, hook in (await deliveries_by_url(school.api)).items()
    }
    assert found == {url: [("PENDING", 1, NOT_PUBLIC[url])] for url in stored}
    assert receiver.received == []


class ScriptedDns:
    """DNS answers by name, in turn (the last one repeats): what a rebinding attacker's name
    server does. Every lookup is counted."""

    def __init__(self, answers: dict[str, list[list[str]]]) -> None:
        self.answers = answers
        self.lookups: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        turns = self.answers.get(host)
        if not turns:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return turns.pop(0) if len(turns) > 1 else turns[0]


async def send(sender: WebhookSender, url: str) -> tuple[bool, int | None, str | None]:
    attempt = await sender.send(
        url=url,
        secret="whsec_x",
        sequence=1,
        event_type="candidate.registered",
        body=b"{}",
        attempt=1,
    )
    return attempt.delivered, attempt.status_code, attempt.error


async def test_every_address_a_name_resolves_to_is_judged_when_sent(receiver: Receiver) -> None:
    dns = ScriptedDns(
        {
            "mixed.example": [["93.184.216.34", "127.0.0.1"]],
            "meta.example": [["169.254.169.254"]],
            "nat64.example": [["64:ff9b::a9fe:a9fe"]],
            "mapped.example": [["::ffff:10.0.0.1"]],
        }
    )
    sender = WebhookSender(allow_loopback=False, resolver=dns)
    try:
        answers = {host: await send(sender, f"https://{host}/hooks") for host in dns.answers}
        unknown = await send(sender, "https://nowhere.example/hooks")
    finally:
        await sender.aclose()
    assert answers == {
        "mixed.example": (
            False,
            None,
            "mixed.example has no public address the registry may call; not delivered",
        ),
        "meta.example": (
            False,
            None,
            "meta.example has no public address the registry may call; not delivered",
        ),
        "nat64.example": (
            False,
            None,
            "nat64.example has no public address the registry may call; not delivered",
        ),
        "mapped.example": (
            False,
            None,
            "mapped.example has no public address the registry may call; not delivered",
        ),
    }
    assert unknown == (
        False,
        None,
        # The same words as a private answer: no client can tell the two apart.
        "nowhere.example has no public address the registry may call; not delivered",
    )
    assert receiver.received == []


async def test_a_rebound_name_is_refused_and_the_connection_goes_to_the_checked_address(
    receiver: Receiver,
) -> None:
    """Development, so that the checked address can be the local receiver: the name first
    resolves to it, then to the metadata service. Each send resolves once and connects to
    what it checked; the next send resolves again and is refused."""
    port = httpx.URL(receiver.base_url).port
    dns = ScriptedDns({"hooks.example": [["127.0.0.1"], ["169.254.169.254"]]})
    first = WebhookSender(allow_loopback=True, resolver=dns)
    try:
        assert await send(first, f"http://hooks.example:{port}/hooks") == (True, 200, None)
    finally:
        await first.aclose()
    assert dns.lookups == ["hooks.example"]
    assert [r.headers["host"] for r in receiver.received] == [f"hooks.example:{port}"]
    second = WebhookSender(allow_loopback=True, resolver=dns)
    try:
        assert await send(second, f"http://hooks.example:{port}/hooks") == (
            False,
            None,
            "hooks.example has no public address the registry may call; not delivered",
        )
    finally:
        await second.aclose()
    assert dns.lookups == ["hooks.example", "hooks.example"]
    assert len(receiver.received) == 1


async def test_redirects_are_never_followed(receiver: Receiver) -> None:
    sender = WebhookSender(allow_loopback=True)
    receiver.fail_next(302, 307, 308)
    try:
        answers = [await send(sender, receiver.url()) for _ in range(3)]
    finally:
        await sender.aclose()
    assert answers == [
        (False, status, f"HTTP {status}: redirects are not followed") for status in (302, 307, 308)
    ]
    assert [r.path for r in receiver.received] == ["/hooks"] * 3


# Properties over the whole class: every IPv4 spelling and every IPv6 form of an address.

_NON_PUBLIC_V4 = [
    ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
    )
]


def _in(network: Any) -> st.SearchStrategy[IPv4Address]:
    return st.integers(int(network.network_address), int(network.broadcast_address)).map(
        IPv4Address
    )


non_public_v4 = st.sampled_from(_NON_PUBLIC_V4).flatmap(_in)
# Python's own table, as an independent opinion of "public".
public_v4 = (
    st.integers(0, 2**32 - 1)
    .map(IPv4Address)
    .filter(
        lambda a: a.is_global and not a.is_multicast and not any(a in n for n in _NON_PUBLIC_V4)
    )
)


def _parts(a: IPv4Address) -> bytes:
    return a.packed


# The spellings of an IPv4 address that inet_aton (what getaddrinfo falls back on) accepts.
IPV4_SPELLINGS: dict[str, Callable[[IPv4Address], str]] = {
    "dotted": str,
    "decimal": lambda a: str(int(a)),
    "hex": lambda a: hex(int(a)),
    "octal": lambda a: "0" + format(int(a), "o"),
    "dotted octal": lambda a: ".".join("0" + format(b, "o") for b in _parts(a)),
    "dotted hex": lambda a: ".".join(hex(b) for b in _parts(a)),
    "a.b": lambda a: f"{_parts(a)[0]}.{int.from_bytes(_parts(a)[1:], 'big')}",
    "a.b.c": lambda a: f"{_parts(a)[0]}.{_parts(a)[1]}.{int.from_bytes(_parts(a)[2:], 'big')}",
    "hex a.b": lambda a: f"{hex(_parts(a)[0])}.{int.from_bytes(_parts(a)[1:], 'big')}",
    "trailing dot": lambda a: f"{a}.",
}

_NAT64 = int(IPv6Address("64:ff9b::"))
_NAT64_LOCAL = int(IPv6Address("64:ff9b:1::"))


def _teredo(server: IPv4Address, client: IPv4Address) -> IPv6Address:
    return IPv6Address(
        (0x2001_0000 << 96)
        | (int(server) << 64)
        | (0x8000_63BF << 32)
        | (~int(client) & 0xFFFF_FFFF)
    )


# IPv6 forms that lead to an IPv4 address, and whether they may be public at all.
IPV6_FORMS: dict[str, tuple[Callable[[IPv4Address], IPv6Address], bool]] = {
    "mapped": (lambda a: IPv6Address((0xFFFF << 32) | int(a)), True),
    "nat64": (lambda a: IPv6Address(_NAT64 | int(a)), True),
    "6to4": (lambda a: IPv6Address((0x2002 << 112) | (int(a) << 80) | 1), True),
    "teredo server": (lambda a: _teredo(a, IPv4Address("93.184.216.34")), True),
    "teredo client": (lambda a: _teredo(IPv4Address("93.184.216.34"), a), True),
    "isatap": (lambda a: IPv6Address((0x2606_4700 << 96) | (0x5EFE << 32) | int(a)), True),
    "compatible": (lambda a: IPv6Address(int(a)), False),
    "translated": (lambda a: IPv6Address((0xFFFF << 48) | int(a)), False),
    "nat64 local": (lambda a: IPv6Address(_NAT64_LOCAL | int(a)), False),
}
IPV6_SPELLINGS: dict[str, Callable[[IPv6Address], str]] = {
    "compressed": lambda a: a.compressed,
    "exploded": lambda a: a.exploded,
    "upper": lambda a: a.exploded.upper(),
    "dotted tail": lambda a: (
        a.exploded.rsplit(":", 2)[0] + ":" + str(IPv4Address(int(a) & 0xFFFFFFFF))
    ),
}


@seeded
@examples(5)
@given(address=non_public_v4, spelling=st.sampled_from(sorted(IPV4_SPELLINGS)))
def test_no_spelling_of_a_non_public_ipv4_address_passes(
    address: IPv4Address, spelling: str
) -> None:
    host = IPV4_SPELLINGS[spelling](address)
    if spelling != "trailing dot":  # the resolver really reads it as that address
        assert socket.inet_aton(host) == address.packed
    for allow_loopback in (False, True):
        answer = check_url(f"https://{host}/hooks", allow_loopback=allow_loopback)
        if allow_loopback and spelling == "dotted" and address.is_loopback:
            assert answer is None
        else:
            assert answer is not None


@seeded
@examples(5)
@given(
    address=non_public_v4,
    form=st.sampled_from(sorted(IPV6_FORMS)),
    spelling=st.sampled_from(sorted(IPV6_SPELLINGS)),
)
def test_no_ipv6_form_of_a_non_public_ipv4_address_passes(
    address: IPv4Address, form: str, spelling: str
) -> None:
    make, _ = IPV6_FORMS[form]
    ipv6 = make(address)
    host = IPV6_SPELLINGS[spelling](ipv6)
    assert IPv6Address(host) == ipv6
    assert not is_public(ipv6)
    for allow_loopback in (False, True):
        answer = check_url(f"https://[{host}]/hooks", allow_loopback=allow_loopback)
        if allow_loopback and form == "mapped" and address.is_loopback:
            assert answer is None
        else:
            assert answer is not None


@seeded
@examples(5)
@given(
    address=public_v4,
    form=st.sampled_from(sorted(IPV6_FORMS)),
    spelling=st.sampled_from(sorted(IPV6_SPELLINGS)),
)
def test_ipv6_forms_of_a_public_ipv4_address_are_judged_by_it(
    address: IPv4Address, form: str, spelling: str
) -> None:
    make, may_be_public = IPV6_FORMS[form]
    host = IPV6_SPELLINGS[spelling](make(address))
    answer = check_url(f"https://[{host}]/hooks", allow_loopback=False)
    assert (answer is None) == may_be_public
    assert check_url(f"https://{address}/hooks", allow_loopback=False) is None


# Text a URL's host may be made of: digits in every base, dots, brackets, the characters
# parsers disagree on, letters that IDNA maps to others.
_HOST_PIECES = st.sampled_from(
    [
        *"0123456789abcdefx.:[]@%\\#/?-_ ",
        "0x",
        "127",
        "0177",
        "255",
        "10",
        "169.254",
        "::",
        "ffff",
        "64:ff9b",
        "2002",
        "2001:0",
        "5efe",
        "localhost",
        "example.com",
        "%2e",
        "%25",
        "。",
        "\uff0e",  # full-width full stop
        "\uff11",  # full-width digit one
        "ⓛ",
        "\u200b",
    ]
)


def _reachable_only_publicly(host: str) -> bool:
    """An independent reading of ``host``: the C library's parsers (what getaddrinfo uses for
    numeric hosts) and Python's tables."""
    with_no_dot = host.removesuffix(".")
    try:
        packed = socket.inet_aton(with_no_dot)
    except OSError:
        pass
    else:
        ipv4 = IPv4Address(packed)
        return ipv4.is_global and not ipv4.is_multicast
    try:
        ipv6 = IPv6Address(socket.inet_pton(socket.AF_INET6, host.split("%")[0]))
    except OSError:
        return True  # a name: judged at delivery by what it resolves to
    if ipv6 in ip_network("2001::/32"):  # Teredo: both ends
        assert ipv6.teredo is not None
        return all(a.is_global and not a.is_multicast for a in ipv6.teredo)
    if ipv6 in ip_network("64:ff9b::/96"):
        ipv4 = IPv4Address(int(ipv6) & 0xFFFF_FFFF)
        return ipv4.is_global and not ipv4.is_multicast
    if ipv6.ipv4_mapped is not None:
        return ipv6.ipv4_mapped.is_global and not ipv6.ipv4_mapped.is_multicast
    if ipv6.sixtofour is not None and not ipv6.sixtofour.is_global:
        return False
    return ipv6.is_global and not ipv6.is_multicast


@seeded
@examples(10)
@given(
    host=st.lists(_HOST_PIECES, min_size=1, max_size=8).map("".join),
    bracketed=st.booleans(),
)
def test_whatever_passes_the_check_reaches_only_public_addresses(
    host: str, bracketed: bool
) -> None:
    url = f"https://[{host}]/hooks" if bracketed else f"https://{host}/hooks"
    if check_url(url, allow_loopback=False) is not None:
        return
    parsed = httpx.URL(url)  # the check accepted it: the sender parses it the same way
    sent_to = parsed.raw_host.decode("ascii")
    assert not parsed.userinfo
    assert not parsed.fragment
    assert _reachable_only_publicly(sent_to), (url, sent_to)


@seeded
@examples(5)
@given(
    answers=st.lists(
        st.one_of(
            non_public_v4.map(str),
            public_v4.map(str),
            st.sampled_from(["::1", "fe80::1", "fd00::1", "2606:4700::1111", "64:ff9b::a00:1"]),
        ),
        min_size=1,
        max_size=4,
    )
)
async def test_a_name_is_refused_when_any_address_it_resolves_to_is_not_public(
    answers: list[str],
) -> None:
    dns = ScriptedDns({"hooks.example": [answers]})
    network = GuardedNetwork(allow_loopback=False, resolver=dns)
    if all(is_public(ip_address(a)) for a in answers):
        assert [str(a) for a in await network.resolve("hooks.example", 443)] == list(
            dict.fromkeys(str(ip_address(a)) for a in answers)
        )
    else:
        with pytest.raises(ForbiddenAddress):
            await network.resolve("hooks.example", 443)
