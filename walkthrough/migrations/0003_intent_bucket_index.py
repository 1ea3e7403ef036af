"""Design §3.Q2: intent_bucket is "indexed, queryable, and unambiguous"."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("walkthrough", "0002_persona_routing")]

    operations = [
        migrations.AddIndex(
            model_name="walkthroughprogress",
            index=models.Index(fields=["intent_bucket"], name="beta_wt_intent_bucket_idx"),
        ),
    ]
