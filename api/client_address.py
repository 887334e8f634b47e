"""Who is asking: the client's address, believing X-Forwarded-For only from configured proxies.

The connection's peer is the client unless it is one of ``KINDERFLOW_TRUSTED_PROXIES`` (addresses or
networks; empty by default). Then the X-Forwarded-For chain is read from the right, past every
trusted proxy, and the first address no trusted proxy vouches for is the client: a client cannot
choose its address by sending the header itself, whatever it puts at the left of the chain.
``kinderflow serve`` turns uvicorn's own proxy handling off, which would otherwise believe any
header that arrives over loopback.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from starlette.requests import Request

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
UNKNOWN = "unknown"


@lru_cache(maxsize=16)
def trusted_networks(setting: str) -> tuple[IPNetwork, ...]:
    """The networks of a ``KINDERFLOW_TRUSTED_PROXIES`` value (``10.0.0.5, 172.16.0.0/12``)."""
    networks = []
    for item in setting.replace(";", ",").split(","):
        if item.strip():
            networks.append(ipaddress.ip_network(item.strip(), strict=False))
    return tuple(networks)


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip().strip('"')
    if value.startswith("[") and "]" in value:  # [2001:db8::1]:443
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # 203.0.113.7:51234
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def resolve(peer: str | None, forwarded_for: list[str], trusted: tuple[IPNetwork, ...]) -> str:
    """The client address, given the connection's ``peer``, the X-Forwarded-For headers and the trusted proxies."""
    if not peer:
        return UNKNOWN
    current = _address(peer)
    if current is None or not any(current in network for network in trusted):
        return peer
    hops = [hop for header in forwarded_for for hop in header.split(",")]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return str(current)  # a garbled hop: go no further than the last proxy that is known
        if not any(address in network for network in trusted):
            return str(address)
        current = address
    return str(current)


def client_address(request: Request) -> str:
    """The address of the client behind ``request`` (see the module's note on proxies)."""
    settings = request.app.state.runtime.settings
    peer = request.client.host if request.client else None
    return resolve(peer, request.headers.getlist("x-forwarded-for"), trusted_networks(settings.trusted_proxies))
