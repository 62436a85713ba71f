"""Template filters: most keep what people typed from becoming active content; ``ago``
says how long ago something happened."""

from __future__ import annotations

import datetime as dt
import unicodedata
from html import escape  # Django's escape() adds a lazy-string wrapper per call
from typing import Any
from urllib.parse import urlsplit

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince

from claims.models import CLAIM_KINDS, BlockKind

register = template.Library()


@register.filter
def ago(moment: dt.datetime) -> str:
    """How long ago ``moment`` was, in words: "just now" within a minute (Django's
    ``timesince`` would say "0 minutes"), else "3 minutes ago", "2 days ago"."""
    if timezone.now() - moment < dt.timedelta(minutes=1):
        return "just now"
    return f"{timesince(moment, depth=1)} ago"


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


# Scripts that are written together: Japanese mixes Han and kana, Korean Han and Hangul,
# and each of them is often written beside Latin.
EAST_ASIAN = {"CJK", "HIRAGANA", "KATAKANA", "HANGUL", "BOPOMOFO", "IDEOGRAPHIC"}


def _scripts(host: str) -> set[str]:
    """The scripts of the host's letters, from their Unicode names ("CYRILLIC SMALL
    LETTER A"); digits, hyphens and dots belong to none."""
    found = set()
    for char in host:
        if unicodedata.category(char).startswith("L"):
            script = unicodedata.name(char, "UNKNOWN").split(" ", 1)[0]
            found.add("EAST_ASIAN" if script in EAST_ASIAN else script)
    if found == {"LATIN", "EAST_ASIAN"}:
        return {"EAST_ASIAN"}
    return found


def _punycode(host: str) -> str:
    return ".".join(
        label if label.isascii() else "xn--" + label.encode("punycode").decode("ascii")
        for label in host.split(".")
    )


@register.filter
def web_host(value: str) -> str:
    """The host a web link really goes to, shown beside its title, which can say anything.

    A host that mixes scripts (a Cyrillic "а" among Latin letters, or a Cyrillic name
    under .com) is shown as punycode, as browsers do, so that a look-alike shows for what
    it is; a host in one script is shown as written. Checked over the whole host rather
    than per label: per label, an all-Cyrillic look-alike of a Latin name under .com
    would pass.
    """
    if not web_url(value):
        return ""
    try:
        host = urlsplit(str(value).strip()).hostname or ""
    except ValueError:
        return ""
    if host.isascii() or len(_scripts(host)) <= 1:
        return host
    return _punycode(host)


# The article body is rendered here rather than with template tags per claim: an article
# can hold thousands of claims, and building each span in Python is many times faster
# than a template loop. Everything that came from people goes through escape().

MARKS = {
    "supported": ("✓", "your verdict: supported"),
    "disputed": ("✗", "your verdict: disputed"),
    "outdated": ("◷", "your verdict: outdated"),
}
KIND_LABELS = dict(BlockKind.choices)
TEAM_SIGNS = {"unanimous": "●", "majority": "◐", "contested": "≠", "adjudicated": "⚖"}


def _panel_base(project: Any, as_of: Any) -> str | None:
    """The claim panel's URL with a placeholder id, or None when links are plain (as-of)."""
    return None if as_of else reverse("claim-panel", args=[project.slug, 0])


def claim_span_html(view: Any, panel_base: str | None, oob: bool = False) -> str:
    claim = view.claim
    classes = f"claim v-{view.my_status or 'none'}"
    classes += "" if view.matches else " dim"
    classes += " selected" if view.selected else ""
    due = view.due  # the viewer's own verdict's: no one else's shows here
    classes += " due" if due.is_due else ""
    href = escape(view.href)
    # Without JavaScript the link loads the page with the panel open: at the claim (#).
    attrs = f'class="{classes}" id="claim-{claim.pk}" data-claim="{claim.pk}"'
    attrs += f' href="{href}#claim-{claim.pk}"'
    if panel_base is not None:
        url = escape(panel_base.replace("/c/0/", f"/c/{claim.pk}/") + view.href)
        attrs += (
            f' hx-get="{url}" hx-target="#claim-panel" hx-swap="outerHTML" hx-push-url="{href}"'
        )
    if oob:
        attrs += ' hx-swap-oob="true"'
    parts = [f'<a {attrs}><span class="claim-no">{claim.ordinal}</span>', escape(claim.text)]
    for cite in view.citations:
        parts.append(
            f'<span class="cite" title="{escape(cite.raw)}">{escape(cite.outlet)}, '
            f"{cite.when}</span>"
        )
    mark = MARKS.get(view.my_status)
    sign = f'{mark[0]}<span class="sr">{mark[1]}</span>' if mark else ""
    parts.append(f'<span class="mark" title="Your verdict">{sign}</span>')
    if due.is_due:
        reasons = escape(due.reasons_text)
        parts.append(
            f'<span class="due-mark" title="Due for re-check: {reasons}">⟳'
            f'<span class="sr">your verdict is due for re-check: {reasons}</span></span>'
        )
    if view.team_visible:
        total, label = view.total, view.state_label
        parts.append(
            f'<span class="team t-{view.state}" title="Team: {label} ({total} verdict'
            f'{"" if total == 1 else "s"})">{TEAM_SIGNS.get(view.state, "○")}'
            f'<span class="sr">team: {label}</span></span>'
        )
    parts.append("</a>")
    return "".join(parts)


@register.simple_tag
def claim_span(view: Any, project: Any, as_of: Any = None, oob: bool = False) -> str:
    return mark_safe(claim_span_html(view, _panel_base(project, as_of), oob))  # noqa: S308


@register.simple_tag
def article_body(blocks: list[dict[str, Any]], project: Any, as_of: Any = None) -> str:
    """The article's paragraphs: headings, muted non-claim blocks, and claim spans in body
    paragraphs, list items (consecutive ones in one list) and block quotes. A paragraph
    that a page starts or ends inside (one longer than a page) is marked ``cut``."""
    base = _panel_base(project, as_of)
    out = []
    in_list = False
    for item in blocks:
        block, pieces = item["block"], item["pieces"]
        if in_list and block.kind != "list_item":
            out.append("</ul>")
            in_list = False
        if block.kind in CLAIM_KINDS:
            inner = "".join(
                claim_span_html(p["view"], base) if "view" in p else escape(p["text"])
                for p in pieces
            )
            cut = ' class="cut"' if item.get("cut") else ""
            if block.kind == "list_item":
                opening = "" if in_list else '<ul class="article-list">'
                out.append(f"{opening}<li{cut}>{inner}</li>")
                in_list = True
            elif block.kind == "quote":
                out.append(f"<blockquote><p{cut}>{inner}</p></blockquote>")
            else:
                out.append(f"<p{cut}>{inner}</p>")
            continue
        text = escape("".join(p.get("text", "") for p in pieces))
        if block.kind == "heading":
            out.append(f'<h2 class="section">{text}</h2>')
        else:
            kind = escape(KIND_LABELS.get(block.kind, block.kind))
            out.append(
                f'<p class="nonclaim {block.kind}"><span class="kind">{kind}</span> {text}</p>'
            )
    if in_list:
        out.append("</ul>")
    return mark_safe("\n".join(out))  # noqa: S308
