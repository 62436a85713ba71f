from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("claims", "0012_api_tokens")]

    operations: list = []
