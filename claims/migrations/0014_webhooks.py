from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("claims", "0013_article_sources")]

    operations: list = []
