"""Calls the platform makes to addresses its users gave it: a provider's interface service (接口访问)
and a consumer's webhook (订阅推送).

An address a user registers must not turn the platform into a way into networks the user cannot
reach (SSRF): only ``http`` and ``https``, no credentials in the URL, and a host that resolves only
to public addresses — loopback, link-local (cloud metadata at 169.254.169.254), private, shared and
reserved ranges are refused, unless a switch says the services live on the government's own network
(or a test runs them on the loopback): ``GOVDATA_INTERFACE_ALLOW_PRIVATE=true`` for the providers'
interface services, ``GOVDATA_WEBHOOK_ALLOW_PRIVATE=true`` for the consumers' webhooks — separate,
because any consumer's staff registers a webhook. An IPv6 address that carries an IPv4 address
(IPv4-mapped, NAT64 ``64:ff9b::/96``, 6to4 ``2002::/16``, Teredo, IPv4-compatible) is judged with
that address too, so ``[64:ff9b::a9fe:a9fe]`` is the metadata address it names; the local-use NAT64
prefix ``64:ff9b:1::/48`` counts as internal. Multicast and the unspecified address are refused
always.

The address is checked when it is registered and again, resolved afresh, before every call; the
call then goes to the address that was checked (:class:`Pinned`: the URL names the IP address, the
``Host`` header and the TLS server name the registered host), so a name that resolves to another
address between the check and the connection (DNS rebinding) cannot redirect it. Redirects are never
followed.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

import httpx

from govdata.core.errors import field_error

SCHEMES = ("http", "https")
MAX_URL_LENGTH = 2000


class Unreachable(Exception):
    """An address the platform will not call (its reason in Chinese)."""


@dataclass(frozen=True)
class Pinned:
    """Where one call goes: ``url`` with the checked IP address in place of the host name, and what
    keeps the registered name for the server (``Host``, and the TLS server name)."""

    url: str
    host_header: str
    sni_hostname: str | None

    @property
    def extensions(self) -> dict[str, str]:
        return {"sni_hostname": self.sni_hostname} if self.sni_hostname else {}


def _parts(url: str) -> SplitResult:
    if len(url) > MAX_URL_LENGTH:
        raise Unreachable(f"地址过长（超过 {MAX_URL_LENGTH} 个字符）")
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        raise Unreachable("地址中不能有空白或控制字符")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise Unreachable("不是有效的地址") from exc
    if parts.scheme.lower() not in SCHEMES:
        raise Unreachable("只接受 http 或 https 地址")
    if not parts.hostname:
        raise Unreachable("地址中缺少主机名")
    if parts.username is not None or parts.password is not None:
        raise Unreachable("地址中不能含用户名或密码（密钥请另行登记）")
    if parts.fragment:
        raise Unreachable("地址中不能含片段（#…）")
    if port == 0:
        raise Unreachable("端口无效")
    return parts


# IPv6 forms that carry an IPv4 address the packet may end up at: NAT64 (RFC 6052, the well-known
# prefix), and the deprecated IPv4-compatible form; 6to4, Teredo and IPv4-mapped addresses are read by
# ``ipaddress`` itself. The local-use NAT64 prefix (RFC 8215) places the IPv4 address as its operator
# chose, so the platform treats all of it as internal.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def embedded_ipv4(ip: IpAddress) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (IPv4-mapped, NAT64, 6to4, Teredo server and
    client, IPv4-compatible): a call to it may reach them."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return []
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if ip in _NAT64 or (ip in _IPV4_COMPATIBLE and int(ip) > 1):  # not :: and ::1
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def address_refusal(
    address: str, *, allow_private: bool, setting: str = "GOVDATA_INTERFACE_ALLOW_PRIVATE"
) -> str | None:
    """Why the platform will not call ``address`` (an IP address), or None when it may. An IPv6
    address is judged with the IPv4 addresses it carries (:func:`embedded_ipv4`): each must be
    allowed. ``setting`` is what the refusal tells to set when internal addresses are meant."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    carried = embedded_ipv4(ip)
    # an IPv4-mapped address is its IPv4 address written as IPv6: that address alone is judged
    judged: list[IpAddress] = carried if getattr(ip, "ipv4_mapped", None) else [ip, *carried]
    for candidate in judged:
        if candidate.is_multicast or candidate.is_unspecified:
            return f"{ip} 是组播或未指定地址" + (f"（指向 {candidate}）" if candidate != ip else "")
    if allow_private:
        return None
    internal = [c for c in judged if not c.is_global]
    if internal or ip in _NAT64_LOCAL or ip in _IPV4_COMPATIBLE:
        shown = next((c for c in internal if c != ip), None)
        return (
            f"{ip} 是本机、链路本地或内部网络地址"
            + (f"（指向 {shown}）" if shown is not None else "")
            + f"（如确需调用内部网络，请设置 {setting}）"
        )
    return None


def _resolve(host: str, port: int) -> list[str]:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Unreachable(f"主机名 {host} 无法解析") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in found))
    if not addresses:
        raise Unreachable(f"主机名 {host} 无法解析")
    return addresses


def pin(url: str, *, allow_private: bool, setting: str = "GOVDATA_INTERFACE_ALLOW_PRIVATE") -> Pinned:
    """Check ``url`` and resolve its host: where a call to it goes (:class:`Unreachable` otherwise).
    Every address the name resolves to must be allowed, not only the first. ``setting`` names the
    switch that allows internal addresses for this kind of call (in the refusal)."""
    parts = _parts(url)
    host = parts.hostname
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    addresses = _resolve(host, port)
    for address in addresses:
        if refusal := address_refusal(address, allow_private=allow_private, setting=setting):
            raise Unreachable(refusal)
    address = addresses[0].split("%", 1)[0]
    literal = f"[{address}]" if ":" in address else address
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    pinned = parts._replace(scheme=scheme, netloc=netloc).geturl()
    host_header = parts.netloc.rpartition("@")[2]
    try:
        ipaddress.ip_address(host.strip("[]"))
        sni = None  # an address needs no server name
    except ValueError:
        sni = host if scheme == "https" else None
    return Pinned(pinned, host_header, sni)


def checked_url(
    url: str, field: str, *, allow_private: bool, setting: str = "GOVDATA_INTERFACE_ALLOW_PRIVATE"
) -> str:
    """``url`` as registered (trimmed), or a 422 naming ``field`` with the reason."""
    url = (url or "").strip()
    if not url:
        raise field_error(field, "必填")
    try:
        pin(url, allow_private=allow_private, setting=setting)
    except Unreachable as exc:
        raise field_error(field, str(exc)) from exc
    return url


_tls: ssl.SSLContext | None = None
_tls_lock = threading.Lock()


def tls_context() -> ssl.SSLContext:
    """One verifying TLS context for every outbound call (building one reads the CA bundle):
    certifi's, or the bundle ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` names (a government CA)."""
    global _tls
    with _tls_lock:
        if _tls is None:
            _tls = httpx.create_ssl_context()
        return _tls
