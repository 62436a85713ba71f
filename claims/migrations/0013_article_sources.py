from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("claims", "0012_api_tokens")]

    operations = [
        migrations.AddField(
            model_name="article",
            name="fetched_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
