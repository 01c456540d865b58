"""Which webhook URLs the dispatcher may call: the SSRF guard.

A webhook URL is data an admin typed; without a guard it could point the server at its own
metadata endpoint, database or admin ports. Every URL is checked when a subscription is saved and
again at each delivery, after DNS resolution, and the request then goes to the very address that
was checked (no second lookup a DNS-rebinding attacker could answer differently).

Private, loopback, link-local, multicast and reserved addresses are refused unless a network
containing them is listed in ``allow_networks`` (tests list ``127.0.0.0/8``).

Example::

    policy = UrlPolicy(allow_networks=("127.0.0.0/8",), allow_http=True)
    target = policy.resolve("http://127.0.0.1:9000/hook")   # ResolvedTarget(ip="127.0.0.1", ...)
"""

from __future__ import annotations

import fnmatch
import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]


class UrlRefused(ValueError):
    """The URL is malformed or points where webhooks may not go."""


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host`` (A and AAAA)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as exc:  # unknown name, bad IDNA label, NUL byte
        raise UrlRefused(f"cannot resolve {host!r}: {exc}") from None
    return sorted({str(info[4][0]) for info in infos})


@dataclass(frozen=True, slots=True)
class ResolvedTarget:
    """A checked URL plus the address to connect to (``connect_url`` has the IP as host)."""

    url: str
    host: str
    ip: str
    connect_url: str


def _is_public(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


@dataclass(frozen=True, slots=True)
class UrlPolicy:
    """Allow-list policy for webhook URLs.

    ``allow_hosts``: host name patterns (``hooks.example.org``, ``*.gov.cn``); empty means any host
    whose addresses are public. ``allow_networks``: CIDRs allowed even though private/loopback.
    ``allow_http``: plain ``http`` (off by default: alerts carry site data).
    """

    allow_hosts: tuple[str, ...] = ()
    allow_networks: tuple[str, ...] = ()
    allow_http: bool = False
    resolver: Resolver = field(default=system_resolver, compare=False)

    def __post_init__(self) -> None:
        for net in self.allow_networks:
            try:
                ipaddress.ip_network(net, strict=False)
            except ValueError:
                raise ValueError(f"allow_networks entry {net!r} is not a CIDR network") from None

    def check_syntax(self, url: str) -> tuple[str, str, int]:
        """Scheme, host and port of ``url`` or ``UrlRefused``; no DNS (used when saving)."""
        try:
            parts = urlsplit(url)
            hostname = parts.hostname
        except ValueError as exc:  # e.g. an unclosed IPv6 bracket
            raise UrlRefused(f"malformed URL: {exc}") from None
        schemes = ("https", "http") if self.allow_http else ("https",)
        if parts.scheme not in schemes:
            raise UrlRefused(f"scheme {parts.scheme!r} is not allowed (allowed: {', '.join(schemes)})")
        if parts.username or parts.password:
            raise UrlRefused("credentials in the URL are not allowed; use the signing secret")
        host = (hostname or "").rstrip(".").lower()
        if not host:
            raise UrlRefused("the URL has no host")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise UrlRefused("the URL has an invalid port") from None
        if self.allow_hosts and not any(fnmatch.fnmatchcase(host, p.lower()) for p in self.allow_hosts):
            raise UrlRefused(f"host {host!r} is not in the webhook allow-list")
        return parts.scheme, host, port

    def _address_allowed(self, ip: IPAddress) -> bool:
        if _is_public(ip):
            return True
        return any(ip in ipaddress.ip_network(net, strict=False) for net in self.allow_networks)

    def resolve(self, url: str) -> ResolvedTarget:
        """Check ``url`` fully (syntax, allow-list, every resolved address) and pick the address."""
        scheme, host, port = self.check_syntax(url)
        try:
            literal: IPAddress | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        addresses = [str(literal)] if literal is not None else self.resolver(host, port)
        if not addresses:
            raise UrlRefused(f"{host!r} resolves to no address")
        for addr in addresses:
            if not self._address_allowed(ipaddress.ip_address(addr)):
                raise UrlRefused(f"{host!r} resolves to {addr}, a private or reserved address")
        ip = addresses[0]
        netloc_ip = f"[{ip}]" if ":" in ip else ip
        parts = urlsplit(url)
        connect_url = urlunsplit((scheme, f"{netloc_ip}:{port}", parts.path or "/", parts.query, ""))
        return ResolvedTarget(url=url, host=host, ip=ip, connect_url=connect_url)


def policy_from_lists(
    allow_hosts: Sequence[str], allow_networks: Sequence[str], allow_http: bool
) -> UrlPolicy:
    return UrlPolicy(tuple(allow_hosts), tuple(allow_networks), allow_http)
