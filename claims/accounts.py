"""Accounts: login throttling (the client address behind a known number of proxies, and
what a successful log-in may reset), and the one-time links where new people set a
password."""

from __future__ import annotations

import datetime as dt
import ipaddress
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.timesince import timeuntil

from claims.management.users import set_password_link as link_on


def client_ip(request: HttpRequest) -> str:
    """The address that reached our first trusted proxy, or the socket's peer.

    With ``CLAIMS_PROXY_COUNT = n`` proxies in front, each appends what it saw to
    X-Forwarded-For, so the client is the n-th entry from the right. Entries further
    left were written by the client and are ignored: forging them gains nothing.
    """
    count = settings.CLAIMS_PROXY_COUNT
    peer: str = request.META.get("REMOTE_ADDR", "")
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


class LockoutHandler(AxesDatabaseHandler):
    """django-axes' database handler, except that a success resets only its own account.

    Axes resets "the attempts matching the request", which with our two lockout
    parameters means every record of the username *or of the address*: an attacker who
    logs into their own account from the address would wipe the failures they had just
    made against someone else's. Here a success deletes only the records of the account
    that logged in; an address lock stays until it expires.
    """

    def reset_user_attempts(
        self, request: HttpRequest, credentials: dict[str, Any] | None = None
    ) -> int:
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count: int  # what QuerySet.delete() returns; django-axes is untyped
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count


def set_password_link(request: HttpRequest, user: Any) -> str:
    """The one-time link, on this site, where ``user`` sets a password: the same link
    ``manage.py add_member --link`` prints (Django's password-reset token, which setting
    a password spends). Nothing of it is stored: show it once, to whoever asked."""
    return link_on(user, request.build_absolute_uri("/"))


def link_lifetime() -> str:
    """How long a set-password link works, in words ("3 days"): ``PASSWORD_RESET_TIMEOUT``."""
    now = timezone.now()
    return timeuntil(now + dt.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT), now)
