"""Each block keeps its own words (``Block.words``), filled here from its version's text."""

from __future__ import annotations

from typing import Any

from django.db import migrations, models


def fill(apps: Any, schema_editor: Any) -> None:
    Article = apps.get_model("claims", "Article")
    ArticleVersion = apps.get_model("claims", "ArticleVersion")
    Block = apps.get_model("claims", "Block")
    for article in Article.objects.only("pk", "version", "text").iterator():
        texts = {article.version: article.text}
        for number, text in ArticleVersion.objects.filter(article=article).values_list(
            "number", "text"
        ):
            texts.setdefault(number, text)
        blocks = list(Block.objects.filter(article=article).only("pk", "version", "start", "end"))
        for block in blocks:
            block.words = texts.get(block.version, "")[block.start : block.end]
        Block.objects.bulk_update(blocks, ["words"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("claims", "0009_article_versions_and_rechecks")]

    operations = [
        migrations.AddField(
            model_name="block",
            name="words",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
