from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("claims", "0011_recurring_claims")]

    operations: list = []
