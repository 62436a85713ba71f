"""What test modules share: a logged-in client, URLs of the demo project, response
bodies, htmx headers, and a small HTML tree for assertions that must not depend on
attribute order or whitespace.

People come from ``tests/conftest.py`` (alice, bob, carol, rita, victor, mallory) and
data from ``tests/factories.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from django.conf import settings
from django.test import Client
from django.urls import reverse

# As keyword arguments to the test client (``client.get(url, **HTMX)``)...
HTMX = {"HTTP_HX_REQUEST": "true"}
# ... or as its ``headers=`` argument.
HTMX_HEADERS = {"HX-Request": "true"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(name: str, *args: Any) -> str:
    """The URL named ``name`` in the demo project (``args`` after its slug)."""
    return reverse(name, args=["demo", *args])


def body(response: Any) -> str:
    """The response's text, streamed or not."""
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


@dataclass
class Node:
    tag: str
    attrs: dict[str, str | None]
    parts: list[Node | str] = field(default_factory=list)  # children and text, in order

    def content(self) -> str:
        """All the text inside, as a browser would read it."""
        return "".join(p if isinstance(p, str) else p.content() for p in self.parts)

    def classes(self) -> list[str]:
        return (self.attrs.get("class") or "").split()

    def find(self, match: Callable[[Node], bool]) -> list[Node]:
        found = [self] if match(self) else []
        for part in self.parts:
            if isinstance(part, Node):
                found += part.find(match)
        return found

    def select(self, tag: str, **attrs: str | bool) -> list[Node]:
        """Elements named ``tag`` whose attributes hold ``attrs`` (``class_`` for class;
        ``True`` for a boolean attribute such as ``selected``), whatever their order."""

        def matches(node: Node) -> bool:
            if node.tag != tag:
                return False
            for name, wanted in attrs.items():
                name = name.rstrip("_").replace("_", "-")
                if name not in node.attrs:
                    return False
                if wanted is True:
                    continue
                if name == "class":
                    if not set(str(wanted).split()) <= set(node.classes()):
                        return False
                elif node.attrs[name] != wanted:
                    return False
            return True

        return self.find(matches)

    def by_id(self, element_id: str) -> Node:
        (node,) = self.find(lambda n: n.attrs.get("id") == element_id)
        return node


class _Tree(HTMLParser):
    """Just enough of a DOM: elements, their attributes and their text, in order."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("root", {})
        self.stack = [self.root]
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs))
        self.stack[-1].parts.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].parts.append(data)


def html(source: Any) -> Node:
    """The parsed page: ``source`` is a response or its text."""
    return _Tree(source if isinstance(source, str) else body(source)).root


def run_on_sqlite_file(script: str, path: Any, *args: str, timeout: float = 120) -> dict[str, Any]:
    """Run ``script`` (python -c) against a SQLite file configured as in production (WAL,
    IMMEDIATE transactions): what concurrency tests need, since the test database lives in
    memory. The script prints a JSON object as its last line; that object is returned."""
    env = {**os.environ, "SQLITE_PATH": str(path), "DJANGO_SETTINGS_MODULE": "claims.settings"}
    env.pop("DATABASE_URL", None)
    env.setdefault("DEBUG", "1")
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
