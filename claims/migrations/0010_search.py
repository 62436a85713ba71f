from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("claims", "0009_article_versions_and_rechecks")]

    operations: list = []
