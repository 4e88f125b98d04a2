"""The private-network guard: a host is allowed only when every address it resolves to is public."""

from __future__ import annotations

import asyncio
import ipaddress
import socket

from .errors import NameResolutionError, PrivateAddressError, map_exception

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def non_public_reason(address: IPAddress) -> str | None:
    """Why `address` may not be contacted (loopback, private, ...), or None when it is public."""
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        return non_public_reason(mapped)
    kinds = ("loopback", "link_local", "multicast", "unspecified", "reserved", "private")
    for attribute in kinds:
        if getattr(address, f"is_{attribute}"):
            return attribute.replace("_", "-")
    if not address.is_global:
        return "not-global"
    return None


class AddressGuard:
    """Resolves hosts with the event loop's getaddrinfo and refuses non-public ones.

    Answers are cached per (host, port) for the guard's lifetime, so each host is
    resolved once per crawl.
    """

    def __init__(self, *, allow_private_network: bool) -> None:
        self.allow_private_network = allow_private_network
        self._checked: dict[tuple[str, int], asyncio.Future[None]] = {}

    async def check(self, url: str, host: str, port: int) -> None:
        """Return when `url` may be requested; raise PrivateAddressError or NameResolutionError."""
        if self.allow_private_network:
            return
        key = (host, port)
        future = self._checked.get(key)
        if future is None:
            future = asyncio.ensure_future(self._resolve_and_check(host, port))
            self._checked[key] = future
        try:
            await asyncio.shield(future)
        except PrivateAddressError as exc:
            raise PrivateAddressError(exc.reason, uri=url, details=exc.details) from None
        except NameResolutionError as exc:
            if exc.retryable:
                del self._checked[key]
            raise NameResolutionError(
                exc.reason, uri=url, retryable=exc.retryable, details=exc.details
            ) from None

    async def _resolve_and_check(self, host: str, port: int) -> None:
        try:
            literal: IPAddress | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            addresses: list[IPAddress] = [literal]
        else:
            loop = asyncio.get_running_loop()
            try:
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except OSError as exc:
                raise map_exception(exc, host) from exc
            addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
        for address in addresses:
            reason = non_public_reason(address)
            if reason is not None:
                raise PrivateAddressError(
                    f"{host} is a non-public address ({reason}: {address}); refused "
                    "(set allow_private_network to crawl it)",
                    uri=host,
                    details={"host": host, "address": str(address), "kind": reason},
                )
