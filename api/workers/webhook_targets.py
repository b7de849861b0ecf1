"""Where a webhook may point: which addresses, and which URLs.

A webhook URL is a request the registry makes on someone else's behalf (server-side request
forgery), so it may reach only globally routable unicast addresses, and in development
(``allow_loopback``) this machine's loopback as well, so that a local receiver works. Never
private networks, link-local ones (cloud metadata at 169.254.169.254), shared, reserved,
benchmarking, documentation or multicast ranges.

Addresses are judged from the IANA special-purpose registries written out below, not from
``ipaddress``'s ``is_global``, whose answers changed between Python releases and which calls
the IPv6 forms that carry an IPv4 address global. Those forms lead to their IPv4 address,
so they are judged by it: IPv4-mapped (``::ffff:0:0/96``), NAT64 (``64:ff9b::/96``), 6to4
(``2002::/16``), Teredo (``2001::/32``: server and client) and ISATAP interface ids. The
deprecated and local-only forms are refused whatever they carry: IPv4-compatible (``::/96``)
and the rest of ``::/8``, local-use NAT64 (``64:ff9b:1::/48``).

A URL is parsed by httpx, the parser that sends it, so the host judged is the host called;
what httpx cannot send is refused when registered. The host is a DNS name or an address
written canonically: IPv4 only as four decimal numbers. The other spellings resolvers accept
(``2130706433``, ``0177.0.0.1``, ``127.1``, ``0x7f.1``) are refused whatever they point to,
since parsers disagree about them. A name is judged again at every delivery, by every address
it then resolves to (``api/workers/webhook_sender.py``).
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

import httpx

IPAddress = IPv4Address | IPv6Address

MAX_URL_LENGTH = 2048

# IANA IPv4 Special-Purpose Address Registry: not globally reachable (or deprecated), plus
# multicast and the reserved 240/4 with the broadcast address.
_NOT_GLOBAL_V4 = tuple(
    ip_network(network)
    for network in (
        "0.0.0.0/8",  # this network
        "10.0.0.0/8",  # private
        "100.64.0.0/10",  # shared address space (carrier-grade NAT)
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local, cloud metadata services
        "172.16.0.0/12",  # private
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation
        "192.88.99.0/24",  # 6to4 relay anycast (deprecated)
        "192.168.0.0/16",  # private
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation
        "203.0.113.0/24",  # documentation
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, limited broadcast
    )
)
_MAPPED = ip_network("::ffff:0:0/96")
_NAT64 = ip_network("64:ff9b::/96")
# Only 2000::/3 is allocated for global unicast; everything else in IPv6 (::/8, 64:ff9b:1::/48,
# 100::/64, fc00::/7, fe80::/10, ff00::/8, ...) is local, reserved or multicast.
_GLOBAL_UNICAST_V6 = ip_network("2000::/3")
_TEREDO = ip_network("2001::/32")
_SIX_TO_FOUR = ip_network("2002::/16")
_NOT_GLOBAL_V6 = tuple(
    ip_network(network)
    for network in (
        "2001::/23",  # IETF protocol assignments (Teredo, inside it, is judged by its IPv4)
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation
    )
)
# An ISATAP interface id (RFC 5214) is 0000:5efe or 0200:5efe (the u/g bits vary) and an IPv4
# address: the site's ISATAP router tunnels to that address.
_ISATAP_MASK = 0xFCFF_FFFF
_ISATAP_MARK = 0x0000_5EFE

# A name whose last label is a number is an IPv4 address to URL parsers and resolvers
# (WHATWG "ends in a number": decimal, or 0x and hexadecimal).
_NUMERIC_LABEL = re.compile(r"[0-9]+|0[xX][0-9a-fA-F]*")
_HOST_NAME = re.compile(r"(?=.{1,253}\Z)[a-z0-9_-]{1,63}(?:\.[a-z0-9_-]{1,63})*\.?")
# Names that never resolve on the public internet: special-use (RFC 6761, 6762 appendix G,
# RFC 8375) and ICANN's private-use ``internal``. A resolver answers them from the local
# network, if at all.
_LOCAL_ONLY_SUFFIXES = frozenset(
    {
        "local",
        "internal",
        "intranet",
        "private",
        "corp",
        "home",
        "lan",
        "localdomain",
        "home.arpa",
        "invalid",
        "test",
        "onion",
        "alt",
    }
)


def _low_ipv4(address: IPv6Address) -> IPv4Address:
    return IPv4Address(int(address) & 0xFFFF_FFFF)


def is_public(address: IPAddress) -> bool:
    """Whether ``address`` is a globally routable unicast address (see the module's note)."""
    if isinstance(address, IPv4Address):
        return not any(address in network for network in _NOT_GLOBAL_V4)
    if address.scope_id:
        return False  # a zone names an interface of this machine
    if address in _MAPPED or address in _NAT64:
        return is_public(_low_ipv4(address))
    if address not in _GLOBAL_UNICAST_V6:
        return False
    if address in _TEREDO:
        assert address.teredo is not None
        server, client = address.teredo
        return is_public(server) and is_public(client)
    if address in _SIX_TO_FOUR:
        assert address.sixtofour is not None
        return is_public(address.sixtofour)
    if any(address in network for network in _NOT_GLOBAL_V6):
        return False
    if (int(address) >> 32) & _ISATAP_MASK == _ISATAP_MARK:
        return is_public(_low_ipv4(address))
    return True


def is_loopback(address: IPAddress) -> bool:
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def may_reach(address: IPAddress, *, allow_loopback: bool) -> bool:
    return is_public(address) or (allow_loopback and is_loopback(address))


def check_url(url: str, *, allow_loopback: bool) -> str | None:
    """Why ``url`` cannot be a webhook endpoint, or None when it can (names: before DNS)."""
    if len(url) > MAX_URL_LENGTH:
        return f"url must be at most {MAX_URL_LENGTH} characters"
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as error:
        return f"url is not a valid URL: {error}"[:300]
    if allow_loopback and parsed.scheme not in ("https", "http"):
        # Development takes http too: the refusal must not send the caller away from it.
        return "url must use https, or http while the registry runs in development"
    if not allow_loopback and parsed.scheme != "https":
        return "url must use https"
    if not parsed.raw_host:
        return "url must name a host"
    if parsed.userinfo:
        return "url must not carry credentials; the signature authenticates the registry"
    if parsed.fragment:
        return "url must not have a fragment"
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        return "url has no usable port"
    return _check_host(parsed.raw_host.decode("ascii"), allow_loopback=allow_loopback)


def _check_host(host: str, *, allow_loopback: bool) -> str | None:
    if ":" in host:  # httpx keeps an IPv6 literal without its brackets
        try:
            return _check_address(ip_address(host), allow_loopback=allow_loopback)
        except ValueError:
            return "url must name a valid host"  # a zone (%25eth0) or worse
    if not _HOST_NAME.fullmatch(host):
        return "url must name a valid host"
    labels = host.removesuffix(".").split(".")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        try:
            address = IPv4Address(host)
        except ValueError:
            return "url must write an IPv4 address as four decimal numbers"
        return _check_address(address, allow_loopback=allow_loopback)
    if labels[-1] == "localhost":
        return None if allow_loopback else "url must not point to this machine"
    if len(labels) == 1:
        return "url must name a fully qualified host"
    if labels[-1] in _LOCAL_ONLY_SUFFIXES or ".".join(labels[-2:]) in _LOCAL_ONLY_SUFFIXES:
        return "url must name a public host"
    return None  # a name: checked against every address it resolves to, at each delivery


def _check_address(address: IPAddress, *, allow_loopback: bool) -> str | None:
    if may_reach(address, allow_loopback=allow_loopback):
        return None
    return "url must point to a public address"
