"""Schemathesis against a live server: requests generated from the API's own OpenAPI
document, sent over HTTP with an admin's token to a project with an article, claims,
evidence and verdicts. No answer may be a server error, and every answer must be one the
document promises (status, content type, body schema).

Bounded (a few examples per operation) so that it runs in well under a minute.
"""

from __future__ import annotations

import socket
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from claims.log import signing
from claims.models import Project, Role
from tests.api_client import issue
from tests.factories import add_member, make_article, make_project, make_user
from tests.tampering import purge_audit_events
from tests.test_audit_export import KEY, raw_key

EXAMPLES = 6  # per operation: the whole run stays well under a minute
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def world(transactional_db: Any, settings: Any, monkeypatch: Any) -> dict[str, Any]:
    # Generated imports may name any address: the fetcher gets a refusal for everything
    # but 127.0.0.1, so the run never reaches beyond this machine (and the API must answer
    # that refusal as documented).
    lookup = socket.getaddrinfo

    def loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in ("127.0.0.1", "localhost", None):
            raise socket.gaierror("the tests stay on 127.0.0.1")
        return lookup(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)
    monkeypatch.setenv(signing.ENV_KEY, raw_key(KEY))  # for the signed audit export
    settings.CLAIMS_API_RATE = settings.CLAIMS_API_WRITE_RATE = 100_000
    admin, analyst = make_user("fuzz-admin"), make_user("fuzz-analyst")
    project: Project = make_project("demo", admin=admin)
    add_member(project, analyst, Role.ANALYST)
    article = make_article(project, actor=admin)
    claim = article.claims.order_by("start").first()
    claim.set_verdict(analyst, "supported")
    evidence = claim.add_evidence(analyst, url="https://example.org/e", stance="supports")
    return {
        "token": issue(admin, project),
        "ids": {
            "slug": "demo",
            "article_id": article.pk,
            "claim_id": claim.pk,
            "evidence_id": evidence.pk,
        },
    }


@pytest.fixture
def purged(transactional_db: Any) -> Iterator[None]:
    yield
    # The flush after a transactional test would hit the append-only triggers.
    purge_audit_events()


def test_no_server_errors_and_every_answer_as_documented(
    purged: None, live_server: Any, world: dict[str, Any]
) -> None:
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json")
    headers = {"Authorization": f"Bearer {world['token']}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20

    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            # Every other case names real things, so that writes reach the model verbs.
            real = zlib.crc32(repr(case.body).encode()) % 2 == 0
            for name in list(case.path_parameters or {}):
                if name in world["ids"] and (name == "slug" or real):
                    case.path_parameters[name] = world["ids"][name]
            case.call_and_validate(headers=headers, checks=CHECKS, timeout=10)

        check()
