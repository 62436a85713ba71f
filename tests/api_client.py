"""What the API tests share: tokens, a client that sends one, and a check of every answer
against the API's own OpenAPI document (jsonschema_rs, which schemathesis brings)."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import jsonschema_rs
from django.test import Client

from claims.models import ApiToken, Member, Project, Role

PREFIX = "/api/v1"


def issue(user: Any, project: Project, role: Role | str | None = None, days: int = 30) -> str:
    """A live token of ``user`` in ``project`` (their own role unless ``role``)."""
    member = Member.of(project, user)
    assert member is not None, "tokens are for members"
    _token, raw = ApiToken.issue(member, name="tests", role=role or member.role, days=days)
    return raw


@cache
def document() -> dict[str, Any]:
    """The document as the API serves it."""
    response = Client().get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200
    schema: dict[str, Any] = json.loads(response.content)
    return schema


@cache
def _routes() -> list[tuple[re.Pattern[str], str]]:
    routes = []
    for template in document()["paths"]:
        pattern = re.sub(r"\{[^}]+\}", r"[^/]+", template)
        routes.append((re.compile(f"^{pattern}$"), template))
    return routes


def _operation(path: str, method: str) -> dict[str, Any] | None:
    for pattern, template in _routes():
        if pattern.match(path):
            found: dict[str, Any] | None = document()["paths"][template].get(method.lower())
            return found
    return None


def conforms(response: Any, path: str, method: str) -> None:
    """The answer is one the document promises: a documented status, its content type,
    and a body valid against its schema. Anything else fails the test."""
    path = path.split("?", 1)[0]
    operation = _operation(path, method)
    content_type = response.get("Content-Type", "").split(";")[0]
    if operation is None:  # no such operation: a problem, always
        assert response.status_code in (404, 405), (path, method, response.status_code)
        assert content_type == "application/problem+json", content_type
        _valid(json.loads(response.content), {"$ref": "#/components/schemas/Problem"})
        return
    answers = operation["responses"]
    assert str(response.status_code) in answers, (path, method, response.status_code)
    content = answers[str(response.status_code)].get("content", {})
    assert content_type in content, (path, method, content_type, list(content))
    if content_type.endswith("json") and not response.streaming:
        _valid(json.loads(response.content), content[content_type]["schema"])


def _valid(instance: Any, schema: dict[str, Any]) -> None:
    root = {**schema, "components": document()["components"]}
    errors = [str(e) for e in jsonschema_rs.Draft202012Validator(root).iter_errors(instance)]
    assert not errors, errors


class Api:
    """A client for the API with a bearer token (or none), checking every answer."""

    def __init__(self, token: str | None = None, client: Client | None = None) -> None:
        self.client = client or Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def call(
        self, method: str, path: str, body: Any = None, *, if_match: Any = None, **headers: str
    ) -> Any:
        url = path if path.startswith(PREFIX) else PREFIX + path
        sent = {**self.headers, **headers}
        if if_match is not None:
            sent["If-Match"] = f'"{if_match}"' if isinstance(if_match, int) else str(if_match)
        kwargs: dict[str, Any] = {"headers": sent}
        if body is not None:
            kwargs |= {"data": json.dumps(body), "content_type": "application/json"}
        response = getattr(self.client, method.lower())(url, **kwargs)
        conforms(response, url, method)
        return response

    def get(self, path: str, **headers: str) -> Any:
        return self.call("GET", path, **headers)

    def put(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("PUT", path, body, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("POST", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.call("DELETE", path, **kw)


def data(response: Any) -> Any:
    return json.loads(response.content)
