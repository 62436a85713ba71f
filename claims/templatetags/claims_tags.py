"""Template filters that keep what people typed from becoming active content."""

from __future__ import annotations

from urllib.parse import urlsplit

from django import template

register = template.Library()


@register.filter
def web_url(value: str) -> str:
    """The URL if it is http(s) with a host, else an empty string.

    Evidence URLs are checked on input too; this is the check on output, so that a value
    that got in some other way can never become a ``javascript:`` or ``data:`` link.
    """
    try:
        parts = urlsplit(str(value).strip())
    except ValueError:
        return ""
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return str(value).strip()
    return ""
