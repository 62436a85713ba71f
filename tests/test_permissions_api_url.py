"""The API's import from a link, and the job that follows an import left to the worker, in
the permissions matrix: every role × this project and another project, with the harness of
tests/test_permissions_api.py (its tokens, its operations' shape) and
tests/test_permissions_matrix.py (its worlds and the fingerprint of what a refused call must
leave alone). The page is served on 127.0.0.1 by the test; a refused caller never makes the
server fetch anything.
"""

from __future__ import annotations

from typing import Any

import pytest

from claims.models import Job, JobKind, JobStatus
from tests import test_permissions_api as api_matrix
from tests.api_client import Api
from tests.test_permissions_api import Op, p, send
from tests.test_permissions_matrix import RANK, ROLES, fingerprint
from tests.webpages import ARTICLE_PAGE, Page, serve

worlds = api_matrix.worlds  # the matrix's two projects and its people
apis = api_matrix.apis  # a token of each role in the first project (the outsider's: its own)

SERVED: dict[str, str] = {}  # the address of this test's page, for the operation's body

IMPORT_FROM_LINK = Op(
    "import an article from a link",
    "POST",
    p("/articles"),
    lambda ids: {"url": SERVED["url"]},
    least="admin",
    ok=(201,),
)


@pytest.fixture(autouse=True)
def site(settings: Any) -> Any:
    settings.CLAIMS_FETCH_ALLOW_PRIVATE = ["127.0.0.1/32"]
    with serve({"/story": Page(ARTICLE_PAGE)}) as server:
        SERVED["url"] = server.url("/story")
        yield server
    SERVED.clear()


@pytest.mark.parametrize("role", ROLES)
def test_role_imports_from_a_link_in_own_project(
    worlds: Any, apis: dict[str, Api], site: Any, role: str
) -> None:
    mine, _theirs, _people = worlds
    before = fingerprint()
    response = send(apis[role], IMPORT_FROM_LINK, mine)
    if role == "outsider":
        assert response.status_code == 404
    elif RANK[role] < RANK[IMPORT_FROM_LINK.least]:
        assert response.status_code == 403
    else:
        assert response.status_code == 201
        assert len(site.requests) == 1
        return
    assert site.requests == []
    assert fingerprint() == before


def test_another_project_is_404_for_every_role(
    worlds: Any, apis: dict[str, Api], site: Any
) -> None:
    _mine, theirs, _people = worlds
    before = fingerprint()
    for role in ROLES:
        assert send(apis[role], IMPORT_FROM_LINK, theirs).status_code == 404, role
    assert site.requests == []
    assert fingerprint() == before


def test_no_token_and_a_session_cannot_import_from_a_link(
    worlds: Any, site: Any, client: Any
) -> None:
    mine, _theirs, people = worlds
    before = fingerprint()
    assert send(Api(), IMPORT_FROM_LINK, mine).status_code == 401
    client.force_login(people["admin"])
    assert send(Api(client=client), IMPORT_FROM_LINK, mine).status_code == 401
    assert site.requests == []
    assert fingerprint() == before


# The import's job: GET /projects/{slug}/jobs/{id} ------------------------------------------


def a_job(project: Any, user: Any) -> int:
    job = Job.objects.create(project=project, user=user, kind=JobKind.IMPORT, params={})
    return job.pk


def jobs_state() -> list[tuple[Any, ...]]:
    return list(Job.objects.order_by("pk").values_list("pk", "status", "phase", "percent"))


@pytest.mark.parametrize("role", ROLES)
def test_role_follows_its_own_job_and_only_an_admin_anyone_elses(
    worlds: Any, apis: dict[str, Api], role: str
) -> None:
    mine, _theirs, people = worlds
    own = a_job(mine["project"], people[role])
    others = a_job(mine["project"], people["admin" if role != "admin" else "reviewer"])
    before = fingerprint(), jobs_state()
    api = apis[role]
    own_status = api.get(f"/projects/{mine['slug']}/jobs/{own}").status_code
    others_status = api.get(f"/projects/{mine['slug']}/jobs/{others}").status_code
    if role == "outsider":
        assert (own_status, others_status) == (404, 404)
    elif role == "admin":
        assert (own_status, others_status) == (200, 200)
    else:
        assert (own_status, others_status) == (200, 404)
    assert (fingerprint(), jobs_state()) == before


def test_another_projects_job_is_404_for_every_role(worlds: Any, apis: dict[str, Api]) -> None:
    mine, theirs, people = worlds
    foreign = a_job(theirs["project"], theirs["project"].memberships.get().user)
    before = fingerprint(), jobs_state()
    for role in ROLES:
        for slug in (mine["slug"], theirs["slug"]):
            assert apis[role].get(f"/projects/{slug}/jobs/{foreign}").status_code == 404, role
    assert send(Api(), Op("job", "GET", p(f"/jobs/{foreign}")), mine).status_code == 401
    assert (fingerprint(), jobs_state()) == before


# An export job's file: GET /projects/{slug}/jobs/{id}/file ----------------------------------


def an_export(project: Any, user: Any, settings: Any) -> int:
    """A finished export job whose file is on disk, as the worker leaves one."""
    folder = settings.VAR_DIR / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"matrix-{project.pk}-{user.pk}.csv"
    (folder / name).write_text("seq,action\n1,article.imported\n", encoding="utf-8")
    result = {"file": name, "filename": "audit.csv", "content_type": "text/csv"}
    job = Job.objects.create(
        project=project,
        user=user,
        kind=JobKind.EXPORT,
        status=JobStatus.DONE,
        params={},
        result=result | {"count": 1, "event": 1},
    )
    return job.pk


@pytest.mark.parametrize("role", ROLES)
def test_only_reviewers_and_admins_download_an_export_and_only_admins_anyones(
    worlds: Any, apis: dict[str, Api], role: str, settings: Any, tmp_path: Any
) -> None:
    settings.VAR_DIR = tmp_path
    mine, theirs, people = worlds
    own = an_export(mine["project"], people[role], settings)
    others = an_export(
        mine["project"], people["admin" if role != "admin" else "reviewer"], settings
    )
    foreign = an_export(theirs["project"], theirs["project"].memberships.get().user, settings)
    before = fingerprint(), jobs_state()
    api = apis[role]

    def status(slug: str, job: int) -> int:
        return api.get(f"/projects/{slug}/jobs/{job}/file").status_code

    found = (status(mine["slug"], own), status(mine["slug"], others))
    if role == "outsider":
        assert found == (404, 404)
    elif RANK[role] < RANK["reviewer"]:
        assert found == (403, 403)
    elif role == "admin":
        assert found == (200, 200)
    else:
        assert found == (200, 404)
    # Another project's export: 404 by either project's address, after the role gate.
    gated = role != "outsider" and RANK[role] < RANK["reviewer"]
    assert status(mine["slug"], foreign) == (403 if gated else 404)
    assert status(theirs["slug"], foreign) == 404
    assert send(Api(), Op("file", "GET", p(f"/jobs/{own}/file")), mine).status_code == 401
    assert (fingerprint(), jobs_state()) == before
