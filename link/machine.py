"""What each end tells the server about its own PC: its name, its operating system and its private address.

The public address is never reported by the client: the server takes it from the connection. The private
address is the one this PC would use to reach the server (found by "connecting" a UDP socket, which sends
nothing), so that a PC with several interfaces reports the one that matters.
"""

from __future__ import annotations

import contextlib
import ipaddress
import platform
import socket
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["api_base", "operating_system", "pc_name", "private_ip"]


def pc_name() -> str:
    """This PC's name (host name), at most 100 characters."""
    return (platform.node() or socket.gethostname() or "unknown")[:100]


def operating_system() -> str:
    """A readable name of the operating system, e.g. ``Linux (Debian GNU/Linux 12 (bookworm))``."""
    system = platform.system() or "unknown"
    detail = ""
    if system == "Linux":
        with contextlib.suppress(OSError):
            for line in Path("/etc/os-release").read_text(encoding="utf-8", errors="replace").splitlines():
                if line.startswith("PRETTY_NAME="):
                    detail = line.split("=", 1)[1].strip().strip('"')
                    break
    elif system == "Windows":
        detail = f"{platform.release()} {platform.version()}".strip()
    elif system == "Darwin":
        detail = f"macOS {platform.mac_ver()[0]}".strip()
    text = f"{system} ({detail})" if detail else f"{system} {platform.release()}".strip()
    return "".join(c for c in text if c.isprintable())[:100]


def private_ip(server_url: str) -> str | None:
    """The local address this PC uses towards ``server_url`` (None when it cannot be found)."""
    parts = urlsplit(server_url)
    host = parts.hostname
    if not host:
        return None
    try:
        infos = socket.getaddrinfo(host, parts.port or 443, type=socket.SOCK_DGRAM)
    except OSError:
        return None
    for family, _type, _proto, _name, address in infos:
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as probe:
                probe.connect(address)  # UDP: picks the route, sends nothing
                local = probe.getsockname()[0]
            return str(ipaddress.ip_address(str(local).split("%", 1)[0]))
        except (OSError, ValueError):
            continue
    return None


def api_base(server_url: str) -> str:
    """The HTTP base URL of the server's JSON API for the URL the user gave (``ws(s)://`` works too).

    Raises ValueError for a URL that is not http(s) or ws(s) or has no host.
    """
    parts = urlsplit(server_url.strip())
    scheme = {"http": "http", "https": "https", "ws": "http", "wss": "https"}.get(parts.scheme)
    if scheme is None or not parts.hostname:
        raise ValueError(f"not a server URL: {server_url!r} (expected http(s)://host)")
    path = parts.path.rstrip("/")
    if path.endswith("/relay"):
        path = path[: -len("/relay")]
    return f"{scheme}://{parts.netloc}{path}"
