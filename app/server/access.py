"""Who may use the API server: the Host names a loopback server answers, the web pages (origins)
it answers, and the API key. Plain functions over header values; `guard.py` applies them."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

ANY_ORIGIN = "*"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_loopback(host: str) -> bool:
    """Whether an address to listen on (or a Host name) stays on this computer."""
    host = host.strip().strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1
    return (mapped or address).is_loopback


def host_of(value: str) -> str:
    """The name or address in a Host header, without the port: `[::1]:8080` → `::1`."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        return value[1:end] if end > 0 else value
    if value.count(":") == 1:
        value = value.split(":", 1)[0]
    return value


def normalize_origin(value: str) -> str | None:
    """An origin as browsers send it (`scheme://host[:port]`, lower case, no default port), or None
    if `value` is not one. `null` (sandboxed pages, files) stays `null`."""
    value = value.strip()
    if value.lower() == "null":
        return "null"
    try:
        parts = urlsplit(value.rstrip("/") if value.count("/") == 3 else value)
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:  # app://, tauri://, extensions' origins are origins too
        return None
    if parts.path or parts.query or parts.fragment or parts.username is not None:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    scheme = parts.scheme.lower()
    if port is None or port == _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def parse_allowed_origins(values: Iterable[str]) -> frozenset[str]:
    """Origins a user allows (`--allow-origin`, the app's setting); raises ValueError naming a bad one."""
    allowed = set()
    for value in values:
        if value.strip() == ANY_ORIGIN:
            allowed.add(ANY_ORIGIN)
            continue
        origin = normalize_origin(value)
        if origin is None:
            raise ValueError(f"'{value}' is not a web origin: give a scheme and a host, such as "
                             "https://example.com or http://localhost:3000 (no path), or * for any")
        allowed.add(origin)
    return frozenset(allowed)


def key_matches(authorization: str | None, api_key: str) -> bool:
    """Whether an Authorization header carries `api_key` (the Bearer scheme, in any letter case).
    Both sides are hashed first, so the comparison takes the same time whatever the key's length."""
    scheme, _, credentials = (authorization or "").strip().partition(" ")
    given = hashlib.sha256(credentials.strip().encode()).digest()
    wanted = hashlib.sha256(api_key.encode()).digest()
    return hmac.compare_digest(given, wanted) and scheme.lower() == "bearer"


@dataclass(frozen=True)
class AccessPolicy:
    """Where the server listens and which web origins the user allowed."""

    bind_host: str = "127.0.0.1"
    allowed_origins: frozenset[str] = frozenset()

    @property
    def checks_host(self) -> bool:
        # On a LAN bind other computers may name this one in ways no list can hold (an address, a
        # host name, a proxy's name), so there the API key (required for such a bind) keeps pages out.
        return is_loopback(self.bind_host)

    def host_allowed(self, host: str | None) -> bool:
        """A loopback server answers only loopback names and addresses: a DNS-rebinding page's Host
        names the attacker's domain. No Host at all (HTTP/1.0) comes from no browser."""
        if not self.checks_host or not host:
            return True
        name = host_of(host)
        return is_loopback(name) or name == host_of(self.bind_host)

    def origin_allowed(self, origin: str, port: int | None) -> bool:
        """Whether a web page from `origin` may use the server: one the user allowed, or the
        server's own loopback address (`port` is the one the request arrived on)."""
        if ANY_ORIGIN in self.allowed_origins:
            return True
        normal = normalize_origin(origin)
        if normal is None:
            return False
        if normal in self.allowed_origins:
            return True
        parts = urlsplit(normal)
        return (parts.scheme == "http" and parts.port is not None and parts.port == port
                and (is_loopback(parts.hostname or "") or parts.hostname == host_of(self.bind_host)))
