"""Admin registrations. Everything is read-only here: changes go through the model verbs,
which write the audit event, and the admin site must not become a way around them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from claims import models

if TYPE_CHECKING:
    # Generic only in django-stubs: at run time ModelAdmin cannot be subscripted.
    ModelAdmin = admin.ModelAdmin[Model]
else:
    ModelAdmin = admin.ModelAdmin


class ReadOnlyAdmin(ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(models.Project)
class ProjectAdmin(ReadOnlyAdmin):
    list_display = ["slug", "name", "blind", "min_verdicts", "created_at"]
    search_fields = ["slug", "name"]


@admin.register(models.Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ["project", "user", "role"]
    list_filter = ["role", "project"]
    list_select_related = ["project", "user"]


@admin.register(models.Article)
class ArticleAdmin(ReadOnlyAdmin):
    list_display = ["title", "project", "published_on", "imported_at", "sha256"]
    list_filter = ["project"]
    search_fields = ["title", "author"]
    exclude = ["text"]


@admin.register(models.Block)
class BlockAdmin(ReadOnlyAdmin):
    list_display = ["article", "ordinal", "kind", "start", "end"]
    list_filter = ["kind"]


@admin.register(models.Citation)
class CitationAdmin(ReadOnlyAdmin):
    list_display = ["raw", "outlet", "date", "year_source", "article"]
    search_fields = ["outlet", "raw"]


@admin.register(models.Claim)
class ClaimAdmin(ReadOnlyAdmin):
    list_display = ["article", "ordinal", "section", "start", "end", "version"]
    list_select_related = ["article"]
    list_filter = ["article__project"]


@admin.register(models.Verdict)
class VerdictAdmin(ReadOnlyAdmin):
    list_display = ["claim", "analyst", "status", "as_of", "version", "updated_at"]
    list_filter = ["status"]
    list_select_related = ["claim__article", "analyst"]


@admin.register(models.Evidence)
class EvidenceAdmin(ReadOnlyAdmin):
    list_display = ["url", "stance", "added_by", "added_at", "removed_at"]
    list_filter = ["stance"]


@admin.register(models.Adjudication)
class AdjudicationAdmin(ReadOnlyAdmin):
    list_display = ["claim", "reviewer", "status", "decided_at"]


@admin.register(models.AuditChain)
class AuditChainAdmin(ReadOnlyAdmin):
    list_display = ["project", "head_seq", "head_hash"]


@admin.register(models.AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["seq", "chain", "action", "actor", "created_at", "hash"]
    list_filter = ["action", "chain"]
    list_select_related = ["chain__project", "actor"]
