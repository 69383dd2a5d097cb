"""Keeps shop-supplied URLs (webhooks) from reaching into the machine or its private network.

A shop admin can type any URL; without this check Balie would POST to, and report errors
from, its own database port or the cloud's metadata address on their behalf.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


def private_target(url: str) -> str | None:
    """Why `url` must not be called (an internal address, or a host that does not resolve), or None."""
    host = urlsplit(url).hostname
    if not host:
        return "the URL has no host"
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return f"the host {host} cannot be resolved"
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            return f"the host {host} is an internal address ({address})"
    return None
