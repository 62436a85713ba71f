"""create_project, add_member and demo: a newcomer's way in without the admin site."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from claims.log.chain import verify_chain
from claims.models import Article, AuditEvent, Membership, Project


def run(name: str, *args: str, **options: Any) -> str:
    out = io.StringIO()
    call_command(name, *args, stdout=out, **options)
    return out.getvalue()


def test_create_project_with_a_new_admin(db: Any) -> None:
    out = run("create_project", "team", "--name", "Team desk", "--admin", "dana")
    project = Project.objects.get(slug="team")
    assert project.name == "Team desk"
    assert Membership.objects.get(project=project).role == "admin"
    password = out.split("password: ")[1].strip()
    assert get_user_model().objects.get(username="dana").check_password(password)
    event = json.loads(AuditEvent.objects.get(chain__project=project).body)
    assert (event["action"], event["after"]["admin"]) == ("project.created", "dana")


def test_create_project_twice_is_refused(db: Any) -> None:
    run("create_project", "team", "--name", "Team", "--admin", "dana")
    with pytest.raises(CommandError, match="already exists"):
        run("create_project", "team", "--name", "Again", "--admin", "dana")
    assert Project.objects.get().name == "Team"


@pytest.mark.parametrize("slug", ["Bad Slug", "a/b", ""])
def test_create_project_refuses_a_bad_slug(db: Any, slug: str) -> None:
    with pytest.raises(CommandError):
        run("create_project", slug, "--name", "X", "--admin", "dana")
    assert not Project.objects.exists()
    assert not AuditEvent.objects.exists()


def test_add_member_creates_the_user_and_records_the_event(project: Any) -> None:
    out = run("add_member", "demo", "erin", "--role", "reviewer")
    assert "erin is now reviewer in demo" in out
    assert Membership.objects.get(project=project, user__username="erin").role == "reviewer"
    latest = json.loads(AuditEvent.objects.filter(chain__project=project).latest("seq").body)
    assert (latest["action"], latest["after"]) == (
        "member.added",
        {"user": "erin", "role": "reviewer"},
    )


def test_add_member_to_unknown_project(db: Any) -> None:
    with pytest.raises(CommandError, match="no project"):
        run("add_member", "nope", "erin")
    assert not get_user_model().objects.filter(username="erin").exists()


def test_demo_sets_up_everything_once(db: Any, settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path
    out = run("demo", "--no-serve")
    assert "Imported: Russia and China" in out
    assert "alice" in out and "alice-demo" in out
    project = Project.objects.get(slug="russia-china")
    article = Article.objects.get(project=project)
    assert 97 <= article.claims.count() <= 103
    assert article.citations.count() == 30
    roles = dict(project.memberships.values_list("user__username", "role"))
    assert roles == {
        "alice": "admin",
        "bob": "analyst",
        "carol": "analyst",
        "rita": "reviewer",
        "victor": "viewer",
    }
    events = AuditEvent.objects.count()
    again = run("demo", "--no-serve")
    assert "Already imported" in again
    assert AuditEvent.objects.count() == events
    assert get_user_model().objects.get(username="bob").check_password("bob-demo")
    assert verify_chain(project.chain)[1] is None
    # alice may create projects in the browser; nobody else may.
    creators = [
        u.username for u in get_user_model().objects.all() if u.has_perm("claims.add_project")
    ]
    assert creators == ["alice"]


def test_recover_jobs_reports_failed_a_job_whose_worker_died_on_its_last_attempt(
    project: Project, alice: Any, settings: Any
) -> None:
    """``manage.py recover_jobs`` (from cron): what a job page's poll does, without anyone
    looking; a job still beating is left alone."""
    import datetime as dt

    from django.utils import timezone

    from claims.models import Job, JobKind, JobStatus

    settings.CLAIMS_JOB_ATTEMPTS = 1
    long_ago = timezone.now() - dt.timedelta(seconds=settings.CLAIMS_JOB_STALE_SECONDS + 60)

    def running(heartbeat: dt.datetime) -> Job:
        return Job.objects.create(
            project=project,
            user=alice,
            kind=JobKind.IMPORT,
            status=JobStatus.RUNNING,
            attempts=1,
            heartbeat_at=heartbeat,
            payload=b"text",
        )

    dead, alive = running(long_ago), running(timezone.now())
    assert run("recover_jobs") == "1 job or delivery recovered.\n"
    dead.refresh_from_db()
    assert (dead.status, dead.payload) == (JobStatus.FAILED, None)
    assert "stopped while running this job 1 times" in dead.error
    assert Job.objects.get(pk=alive.pk).status == JobStatus.RUNNING
    assert run("recover_jobs") == "0 jobs or deliveries recovered.\n"
