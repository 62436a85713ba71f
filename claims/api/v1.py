"""The JSON API, /api/v1/: django-ninja operations over the same model verbs, access
helpers and screens as the browser, with its OpenAPI 3 document at /api/v1/openapi.json
and interactive docs at /api/v1/docs (Swagger UI from django-ninja's own static files:
``ninja`` is an installed app, so nothing loads from a CDN).

Authentication and what a token may do: ``claims.api.auth``; errors as problem details:
``claims.api.problems``; what is answered: ``claims.api.schemas`` and ``present``.
"""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI, Swagger

from claims.api import problems
from claims.api.auth import BearerToken, ReadingSession
from claims.api.routes import read, write  # noqa: F401 -- their operations join the router
from claims.api.routes.common import router


class ClaimsAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs: Any) -> Any:
        """ninja's document, saying what it cannot: errors come as problem details
        (``application/problem+json``), and reads and writes of versioned things carry
        an ETag."""
        schema = super().get_openapi_schema(**kwargs)
        for operations in schema["paths"].values():
            for operation in operations.values():
                for status, answer in operation.get("responses", {}).items():
                    content = answer.get("content", {})
                    if int(status) >= 400 and "application/json" in content:
                        answer["content"] = {problems.PROBLEM: content["application/json"]}
                if operation.get("operationId", "").rpartition("_write_")[2] in write.VERSIONED:
                    operation.setdefault("parameters", []).append(
                        {
                            "in": "header",
                            "name": "If-Match",
                            "required": False,  # its absence is answered, with 412
                            "schema": {"type": "string"},
                            "description": "The ETag of the version this write is made against.",
                        }
                    )
        return schema


api = ClaimsAPI(
    title="claims API",
    version="1",
    description=(
        "Read and write a project's claims, verdicts, evidence and rulings with a personal "
        "access token (Authorization: Bearer clm_…). Writes to versioned things need "
        "If-Match with the ETag read; errors are RFC 9457 problem details."
    ),
    urls_namespace="api-v1",
    auth=[BearerToken(), ReadingSession()],
    docs=Swagger(settings={"persistAuthorization": False}),
)
problems.install(api)
api.add_router("", router)
