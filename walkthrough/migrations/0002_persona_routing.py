"""Persona routing (design §6): one migration, two column additions.

- beta_walkthrough_progress.intent_bucket TEXT NULL with a CHECK on its values
  (a Django CheckConstraint: PostgreSQL and SQLite both enforce it).
- beta_walkthrough_paper_trades.strategy_type TEXT NOT NULL DEFAULT 'iron_condor'
  (a database default, so rows written before it read as iron condors).

Rollback drops both; no data migration is needed.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('walkthrough', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='walkthroughprogress',
            name='intent_bucket',
            field=models.TextField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='walkthroughpapertrade',
            name='strategy_type',
            field=models.TextField(db_default='iron_condor', default='iron_condor'),
        ),
        migrations.AddConstraint(
            model_name='walkthroughpapertrade',
            constraint=models.CheckConstraint(condition=models.Q(('strategy_type__in', ('iron_condor', 'covered_call', 'vertical_spread'))), name='beta_walkthrough_strategy_type'),
        ),
        migrations.AddConstraint(
            model_name='walkthroughprogress',
            constraint=models.CheckConstraint(condition=models.Q(('intent_bucket__isnull', True), ('intent_bucket__in', ('income', 'covered_call', 'directional', 'unknown')), _connector='OR'), name='beta_walkthrough_intent_bucket'),
        ),
    ]
