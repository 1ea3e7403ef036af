import json

from django.db import migrations

V1_PRE = ["Bullish", "Bearish", "Neutral", "HighUncertainty"]
V1_POST = ["FollowedPlan", "HeldThroughPressure", "AdjustedWithReason", "OverrodeRule", "UnexpectedOutcome"]


def seed(apps, schema_editor):
    Version = apps.get_model("journal", "SentimentTaxonomyVersion")
    Version.objects.get_or_create(version=1, defaults={
        "pre_labels": json.dumps(V1_PRE), "post_labels": json.dumps(V1_POST),
        "description": "Shape 1 launch set: structural pre-trade setups and post-trade behaviours."})


def unseed(apps, schema_editor):
    apps.get_model("journal", "SentimentTaxonomyVersion").objects.filter(version=1).delete()


class Migration(migrations.Migration):
    dependencies = [("journal", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
