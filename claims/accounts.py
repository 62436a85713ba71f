"""Accounts: the client address for login throttling, behind a known number of proxies."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The address that reached our first trusted proxy, or the socket's peer.

    With ``CLAIMS_PROXY_COUNT = n`` proxies in front, each appends what it saw to
    X-Forwarded-For, so the client is the n-th entry from the right. Entries further
    left were written by the client and are ignored: forging them gains nothing.
    """
    count = settings.CLAIMS_PROXY_COUNT
    peer = request.META.get("REMOTE_ADDR", "")
    if count <= 0:
        return peer
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    if len(hops) < count:
        return peer
    candidate = hops[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return peer
