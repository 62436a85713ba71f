# An audit export can be a background job (claims.tasks.run_export): a choice, no schema change.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0015_evidence_snapshots"),
    ]

    operations = [
        migrations.AlterField(
            model_name="job",
            name="kind",
            field=models.CharField(
                choices=[("import", "Import"), ("export", "Audit export")], max_length=20
            ),
        ),
    ]
