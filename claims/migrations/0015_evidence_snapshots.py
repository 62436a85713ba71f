from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("claims", "0014_webhooks")]

    operations: list = []
