"""Personal access tokens: who a bearer token speaks for, what it may do now, how often.

A token is ``clm_<prefix>_<secret>``; only the sha256 of the whole of it is stored
(``models.api_token_digest``), found by its public prefix and compared in constant time.
What a token may do is decided again on every request: the lower of its own role and its
owner's current role in its one project (nothing, once the owner has left).

Rate limits count requests per token in fixed one-minute windows, in the database
(``models.ApiRequestWindow``), so that every worker process counts in the same rows.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from claims.models import (
    API_TOKEN_MAX_DAYS,
    ApiRequestWindow,
    ApiToken,
    Member,
    Role,
    api_token_digest,
)

TOKEN = re.compile(r"clm_([0-9a-f]{8})_[A-Za-z0-9_-]{43}")
# How often a token's last use is written: at most once a minute, not on every request.
LAST_USED_EVERY = dt.timedelta(minutes=1)
WINDOW = 60  # seconds


def found(raw: str) -> ApiToken | None:
    """The live token whose whole text is ``raw``, with its owner; None for anything else
    (malformed, unknown, revoked, expired), all alike."""
    match = TOKEN.fullmatch(raw)
    if match is None:
        return None
    token = (
        ApiToken.objects.live()
        .select_related("owner", "project")
        .filter(prefix=match.group(1))
        .first()
    )
    if token is None or not hmac.compare_digest(token.digest, api_token_digest(raw)):
        return None
    if not token.owner.is_active:
        return None
    return token


def touch(token: ApiToken) -> None:
    """Record the token's use, at most once a minute (a write per request would be a write
    lock per request on SQLite)."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def effective(token: ApiToken, member: Member) -> Member:
    """The member as the token may act: the lower of the token's role and the owner's."""
    role = Role(token.role)
    return member if role.at_least(member.role) else Member(member.user, member.project, role)


@dataclass(frozen=True)
class Limited:
    """A request over a limit: which one, and the seconds until its window ends."""

    limit: int
    retry_after: int


def limits() -> dict[str, int]:
    return {
        "all": getattr(settings, "CLAIMS_API_RATE", 120),
        "write": getattr(settings, "CLAIMS_API_WRITE_RATE", 30),
    }


def count_request(token: ApiToken, *, write: bool) -> Limited | None:
    """Count one request of the token; the limit it is over, if any (the request then
    counts all the same: a client that keeps asking stays refused until the window ends)."""
    now = timezone.now()
    window = now.replace(second=0, microsecond=0)
    retry_after = max(1, WINDOW - now.second)
    allowed = limits()
    for kind in ("all", "write") if write else ("all",):
        if _counted(token, kind, window) > allowed[kind]:
            return Limited(allowed[kind], retry_after)
    return None


def _counted(token: ApiToken, kind: str, window: dt.datetime) -> int:
    """Add one to the token's count of ``kind`` in ``window``; the count after it.

    One statement, an upsert that returns the new count (SQLite and PostgreSQL both have
    ``ON CONFLICT … DO UPDATE … RETURNING``): an UPDATE followed by a SELECT would let two
    workers read each other's increments, and refuse a request the limit allows."""
    connection = connections[DEFAULT_DB_ALIAS]
    q = connection.ops.quote_name
    table = q(ApiRequestWindow._meta.db_table)
    count, moment = q("count"), connection.ops.adapt_datetimefield_value(window)
    sql = (
        f"INSERT INTO {table} (token_id, kind, {q('window')}, {count}) VALUES (%s, %s, %s, 1) "
        f"ON CONFLICT (token_id, kind, {q('window')}) "
        f"DO UPDATE SET {count} = {table}.{count} + 1 RETURNING {count}"
    )
    # The count and the clearing of spent windows stand or fall together: a request whose
    # clearing fails (a busy table) has not been counted, so trying it again counts it once.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [token.pk, kind, moment])
        (counted,) = cursor.fetchone()
        if counted == 1 and kind == "all":
            # A new window: the token's earlier ones are spent.
            ApiRequestWindow.objects.filter(token=token, window__lt=window).delete()
    return int(counted)


class TokenForm(forms.Form):
    """A new token: its name, its role (at most the member's) and how long it lives."""

    name = forms.CharField(max_length=100, help_text="What it is for, e.g. “nightly import”.")
    role = forms.ChoiceField(help_text="At most your own role in this project.")
    days = forms.IntegerField(
        label="Expires after (days)",
        min_value=1,
        max_value=API_TOKEN_MAX_DAYS,
        initial=90,
        help_text=f"From 1 to {API_TOKEN_MAX_DAYS} days; every token expires.",
    )

    def __init__(self, member: Member, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.member = member
        field = self.fields["role"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(r.value, r.label) for r in Role if member.at_least(r)]
        field.initial = Role.VIEWER.value

    def issue(self) -> tuple[ApiToken, str]:
        data = self.cleaned_data
        return ApiToken.issue(self.member, name=data["name"], role=data["role"], days=data["days"])
