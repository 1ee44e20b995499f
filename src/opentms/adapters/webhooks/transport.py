"""Webhook requests over httpx (docs/webhooks.md, "Delivery"): connect and
read timeouts, no redirects, at most 1 KiB of an answer kept, and which
receivers may be called.

Security (server-side request forgery): a webhook URL is chosen by a
merchant, and the server calls it. Only http(s) URLs without user
information are called. In vault mode a URL whose host resolves to a
loopback, private, link-local, unspecified, multicast, reserved or otherwise
non-global address is refused unless the host name, the address, or a
network holding it is listed in ``OPENTMS_WEBHOOK_ALLOWED_DESTINATIONS``.
The host is resolved once and the request goes to the address that was
checked (its name in ``Host`` and, over TLS, in SNI, where the certificate
is verified against it), so a DNS answer that changes between the check and
the connection (DNS rebinding) cannot reach another address. A sandbox calls
any http(s) URL: test suites run their receivers on loopback."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from opentms import __version__
from opentms.domain.ports import DestinationRefused, TransportResult

MAX_RESPONSE_BYTES = 1024
USER_AGENT = f"opentms-webhooks/{__version__}"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class AllowedDestinations:
    """``OPENTMS_WEBHOOK_ALLOWED_DESTINATIONS``: host names, addresses and
    networks (CIDR) that vault mode calls although they are not public."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, listed: str | Iterable[str]) -> AllowedDestinations:
        items = listed.split(",") if isinstance(listed, str) else listed
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for item in (i.strip() for i in items):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item.strip("[]"), strict=False))
            except ValueError:
                hosts.add(_host_name(item))
        return cls(frozenset(hosts), tuple(networks))

    def allows(self, host: str, address: IPAddress) -> bool:
        return _host_name(host) in self.hosts or any(address in n for n in self.networks)


@dataclass(frozen=True)
class _Target:
    """Where a request goes: the URL (in vault mode with the checked
    address for its host), extra headers and httpx request extensions."""

    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    extensions: Mapping[str, Any] = field(default_factory=dict)


class HttpxTransport:
    """:class:`~opentms.domain.ports.WebhookTransport` over one httpx client.
    ``vault``: apply the address rules above, with ``allowed`` (the
    setting's comma-separated list, or its items) as the exceptions.
    ``verify``: what receivers' certificates are checked against (httpx's
    ``verify``: the system's trust store by default, or an SSL context)."""

    def __init__(
        self,
        connect_timeout: float,
        read_timeout: float,
        *,
        vault: bool = False,
        allowed: str | Iterable[str] = "",
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
        # Vault mode connects to addresses: a kept-alive connection (pooled by
        # address) must not carry a request for another host name than the one
        # its certificate was verified for.
        limits = httpx.Limits(max_keepalive_connections=0) if vault else httpx.Limits()
        self._client = httpx.Client(
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
            verify=verify,
            limits=limits,
            headers={"User-Agent": USER_AGENT},
        )
        self._vault = vault
        self._allowed = AllowedDestinations.parse(allowed)

    def check_destination(self, url: str) -> None:
        self._target(url)

    def post(self, url: str, headers: Mapping[str, str], body: bytes) -> TransportResult:
        return self._send("POST", url, headers, body)

    def get(self, url: str) -> TransportResult:
        return self._send("GET", url, {}, None)

    def close(self) -> None:
        self._client.close()

    def _target(self, url: str) -> _Target:
        parsed = _parse(url)
        if not self._vault:
            return _Target(url)
        host = parsed.raw_host.decode("ascii")
        address = self._checked_address(host, parsed.port or _default_port(parsed.scheme))
        headers = {"Host": parsed.netloc.decode("ascii")}
        # The name the certificate must hold (an address literal: the address).
        extensions = {"sni_hostname": host.strip("[]")} if parsed.scheme == "https" else {}
        pinned = parsed.copy_with(host=str(address))
        return _Target(str(pinned), headers, extensions)

    def _checked_address(self, host: str, port: int) -> IPAddress:
        """The one address of ``host`` the request goes to, all of its
        addresses checked."""
        addresses = _resolve(host.strip("[]"), port)
        for address in addresses:
            reason = _not_public(address)
            if reason is not None and not self._allowed.allows(host, address):
                raise DestinationRefused(
                    f"The webhook host {host} resolves to {address}, a {reason} address, which "
                    "this vault does not call; list the host, the address or its network in "
                    "OPENTMS_WEBHOOK_ALLOWED_DESTINATIONS to allow it."
                )
        return addresses[0]

    def _send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> TransportResult:
        started = time.perf_counter()
        try:
            target = self._target(url)
            request = self._client.build_request(
                method,
                target.url,
                headers={**headers, **target.headers},
                content=body,
                extensions=dict(target.extensions),
            )
            answer = self._client.send(request, stream=True, follow_redirects=False)
            try:
                kept = bytearray()
                for chunk in answer.iter_raw():
                    kept += chunk[: MAX_RESPONSE_BYTES - len(kept)]
                    if len(kept) >= MAX_RESPONSE_BYTES:
                        break
                status = answer.status_code
            finally:
                answer.close()
        except (httpx.HTTPError, httpx.InvalidURL, DestinationRefused) as exc:
            return TransportResult(None, _since(started), f"{type(exc).__name__}: {exc}"[:300])
        return TransportResult(status, _since(started), None, bytes(kept))


def _parse(url: str) -> httpx.URL:
    """``url`` as httpx reads it, if it is one this server may call."""
    refused = DestinationRefused(
        "A webhook URL is an http:// or https:// URL with a host and no user name or password."
    )
    try:
        parsed = httpx.URL(url)
        host = parsed.raw_host.decode("ascii")
    except (httpx.InvalidURL, ValueError, UnicodeError) as exc:
        raise refused from exc
    if parsed.scheme not in ("http", "https") or not host or parsed.userinfo:
        raise refused
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise refused
    if any(c.isspace() or ord(c) < 0x20 or c in "%@\\" for c in host):
        raise refused
    return parsed


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return [literal]
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as exc:
        raise DestinationRefused(f"The webhook host {host} does not resolve.") from exc
    addresses: list[IPAddress] = []
    for *_, sockaddr in answers:
        if not isinstance(sockaddr[0], str):  # neither IPv4 nor IPv6
            continue
        address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise DestinationRefused(f"The webhook host {host} has no IP address.")
    return addresses


def _not_public(address: IPAddress) -> str | None:
    """Why ``address`` is not one a vault calls by default (None: it is)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return _not_public(embedded)
        if address.teredo is not None:
            return "Teredo"
    for reason, flag in (
        ("loopback", address.is_loopback),
        ("unspecified", address.is_unspecified),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("non-global", not address.is_global),
    ):
        if flag:
            return reason
    return None


def _host_name(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
