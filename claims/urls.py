from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from claims.api.v1 import api
from claims.views import (
    articles,
    audit,
    claims,
    consensus,
    due,
    health,
    help,
    history,
    imports,
    jobs,
    links,
    members,
    projects,
    register,
    revisions,
    snapshots,
    sources,
    tokens,
    webhooks,
)

urlpatterns = [
    path("", projects.project_list, name="project-list"),
    path("healthz", health.healthz, name="healthz"),
    path("keys/", help.keys, name="keys"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    # One-time links where a new user sets a password (manage.py add_member --link).
    path(
        "set-password/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            post_reset_login=False, success_url=reverse_lazy("password_reset_complete")
        ),
        name="password_reset_confirm",
    ),
    path(
        "set-password/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("projects/new/", projects.project_create, name="project-create"),
    path("p/<slug:slug>/", projects.project_detail, name="project-detail"),
    path("p/<slug:slug>/a/<int:article_id>/", articles.article_detail, name="article-detail"),
    path(
        "p/<slug:slug>/a/<int:article_id>/progress/",
        articles.article_progress,
        name="article-progress",
    ),
    path("p/<slug:slug>/c/<int:claim_id>/", claims.claim_panel, name="claim-panel"),
    path("p/<slug:slug>/c/<int:claim_id>/verdict/", claims.claim_verdict, name="claim-verdict"),
    path("p/<slug:slug>/c/<int:claim_id>/confirm/", claims.claim_confirm, name="claim-confirm"),
    path("p/<slug:slug>/c/<int:claim_id>/evidence/", claims.evidence_add, name="evidence-add"),
    path("p/<slug:slug>/c/<int:claim_id>/span/", claims.claim_span, name="claim-span"),
    path("p/<slug:slug>/c/<int:claim_id>/split/", claims.claim_split, name="claim-split"),
    path("p/<slug:slug>/c/<int:claim_id>/merge/", claims.claim_merge, name="claim-merge"),
    path("p/<slug:slug>/c/<int:claim_id>/unlink/", revisions.claim_unlink, name="claim-unlink"),
    path("p/<slug:slug>/c/<int:claim_id>/link/", revisions.claim_link, name="claim-link"),
    path(
        "p/<slug:slug>/e/<int:evidence_id>/remove/",
        claims.evidence_remove,
        name="evidence-remove",
    ),
    # Evidence snapshots: the page as it was read (claims/snapshots.py).
    path(
        "p/<slug:slug>/evidence/<int:evidence_id>/snapshot/",
        snapshots.evidence_snapshot,
        name="evidence-snapshot",
    ),
    path("p/<slug:slug>/import/", imports.article_import, name="article-import"),
    path(
        "p/<slug:slug>/a/<int:article_id>/revise/",
        revisions.article_revise,
        name="article-revise",
    ),
    path("p/<slug:slug>/members/", members.project_members, name="project-members"),
    path("p/<slug:slug>/members/invite/", members.member_invite, name="member-invite"),
    path(
        "p/<slug:slug>/a/<int:article_id>/consensus/",
        consensus.article_consensus,
        name="article-consensus",
    ),
    path(
        "p/<slug:slug>/a/<int:article_id>/consensus.<str:fmt>",
        consensus.consensus_export,
        name="article-consensus-export",
    ),
    path("p/<slug:slug>/consensus/", consensus.project_consensus, name="project-consensus"),
    path(
        "p/<slug:slug>/consensus.<str:fmt>",
        consensus.consensus_export,
        name="project-consensus-export",
    ),
    path("p/<slug:slug>/queue/", consensus.queue, name="queue"),
    # The claim register and its exports (?format=csv|json), with search (claims/search.py).
    path("p/<slug:slug>/claims/", register.claim_register, name="claim-register"),
    path("p/<slug:slug>/due/", due.due_queue, name="due-queue"),
    path("p/<slug:slug>/settings/recheck/", due.recheck_settings, name="recheck-settings"),
    path("p/<slug:slug>/c/<int:claim_id>/adjudicate/", consensus.adjudicate, name="adjudicate"),
    path("p/<slug:slug>/c/<int:claim_id>/history/", history.claim_history, name="claim-history"),
    path(
        "p/<slug:slug>/a/<int:article_id>/activity/",
        history.article_activity,
        name="article-activity",
    ),
    path("p/<slug:slug>/activity/", history.project_activity, name="project-activity"),
    path("p/<slug:slug>/events/<int:seq>/revert/", history.event_revert, name="event-revert"),
    path("p/<slug:slug>/audit/export/", audit.audit_export, name="audit-export"),
    path("p/<slug:slug>/audit/public-key.pem", audit.audit_public_key, name="audit-public-key"),
    # Background jobs and webhooks (claims/tasks.py, claims/webhooks.py).
    path("p/<slug:slug>/jobs/<int:job_id>/", jobs.job_detail, name="job-detail"),
    path("p/<slug:slug>/jobs/<int:job_id>/file", jobs.job_download, name="job-download"),
    path("p/<slug:slug>/webhooks/", webhooks.webhook_list, name="webhook-list"),
    path(
        "p/<slug:slug>/webhooks/<int:webhook_id>/", webhooks.webhook_detail, name="webhook-detail"
    ),
    path(
        "p/<slug:slug>/webhooks/<int:webhook_id>/<str:verb>/",
        webhooks.webhook_action,
        name="webhook-action",
    ),
    # The JSON API (claims/api/) and personal access tokens (claims/tokens.py).
    path("api/v1/", api.urls),
    path("p/<slug:slug>/tokens/", tokens.token_list, name="token-list"),
    path("p/<slug:slug>/tokens/<int:token_id>/revoke/", tokens.token_revoke, name="token-revoke"),
    # Recurring claims and sources (claims/recurring.py).
    path("p/<slug:slug>/c/<int:claim_id>/same/", links.claim_same, name="claim-same"),
    path("p/<slug:slug>/c/<int:claim_id>/adopt/", links.claim_adopt, name="claim-adopt"),
    path("p/<slug:slug>/links/<int:link_id>/decide/", links.link_decide, name="link-decide"),
    path("p/<slug:slug>/sources/", sources.source_list, name="sources"),
    path("admin/", admin.site.urls),
]
