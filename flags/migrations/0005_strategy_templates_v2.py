from django.db import migrations

from flags.migration_helpers import create_flag_off

FLAG_NAME = "FLAG_STRATEGY_TEMPLATES_V2"


class Migration(migrations.Migration):
    dependencies = [("flags", "0004_walkthrough_persona_routing")]
    operations = [migrations.RunPython(*create_flag_off(FLAG_NAME))]
