from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("claims", "0010_search")]

    operations: list = []
