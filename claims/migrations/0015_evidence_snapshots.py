import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("claims", "0014_webhooks")]

    operations = [
        migrations.CreateModel(
            name="EvidenceSnapshot",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("fetched_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("final_url", models.URLField(blank=True, max_length=2000)),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("ok", "Fetched"),
                            ("changed", "Page changed"),
                            ("moved", "Moved"),
                            ("dead", "Page gone"),
                            ("refused", "Not fetched"),
                            ("error", "Could not be read"),
                        ],
                        max_length=8,
                    ),
                ),
                ("http_status", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("title", models.CharField(blank=True, max_length=500)),
                ("text", models.TextField(blank=True)),
                ("sha256", models.CharField(blank=True, max_length=64)),
                ("quote_found", models.BooleanField(blank=True, null=True)),
                ("quote_start", models.PositiveIntegerField(blank=True, null=True)),
                ("quote_end", models.PositiveIntegerField(blank=True, null=True)),
                ("error", models.CharField(blank=True, max_length=500)),
                ("diff", models.TextField(blank=True)),
                ("flagged", models.BooleanField(default=False)),
                (
                    "evidence",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="snapshots",
                        to="claims.evidence",
                    ),
                ),
            ],
            options={
                "ordering": ["evidence", "pk"],
                "indexes": [models.Index(fields=["evidence", "-id"], name="snapshot_latest")],
            },
        ),
    ]
