"""Stand-ins for journal / wcb / walkthrough tables (same shapes, test-only)."""

from django.db import models
from django.utils import timezone


class Order(models.Model):  # like journal.paper_orders: re-attributed
    customer = models.ForeignKey("raxx.Customer", on_delete=models.CASCADE, related_name="+")
    symbol = models.CharField(max_length=12)
    quantity = models.DecimalField(max_digits=12, decimal_places=4, default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "accounts_test_orders"


class Label(models.Model):  # like journal.trade_sentiment_labels: one per (customer, source_table, trade_id)
    customer = models.ForeignKey("raxx.Customer", on_delete=models.CASCADE, related_name="+")
    source_table = models.CharField(max_length=40, default="paper_orders")
    trade_id = models.BigIntegerField()
    pre_label = models.CharField(max_length=40)

    class Meta:
        db_table = "accounts_test_labels"
        constraints = [models.UniqueConstraint(fields=["customer", "source_table", "trade_id"],
                                               name="accounts_test_label_unique")]


class Position(models.Model):  # like wcb.closed_positions
    customer = models.ForeignKey("raxx.Customer", on_delete=models.CASCADE, related_name="+")
    symbol = models.CharField(max_length=12)

    class Meta:
        db_table = "accounts_test_positions"


class Snapshot(models.Model):  # like wcb.closed_position_wcb_snapshots: a plain user_id UUID column
    position = models.OneToOneField(Position, on_delete=models.CASCADE, related_name="snapshot")
    user_id = models.UUIDField(db_index=True)
    horizon_reached = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)  # like WCB: not auto_now, touched by the rule

    class Meta:
        db_table = "accounts_test_snapshots"


class Setting(models.Model):  # like the WCB per-customer horizon setting: one per customer
    customer = models.OneToOneField("raxx.Customer", on_delete=models.CASCADE, related_name="+")
    tracking_horizon = models.CharField(max_length=40, default="close_of_market_only")

    class Meta:
        db_table = "accounts_test_settings"


class Progress(models.Model):  # like walkthrough progress: linked by the tester's email
    tester_email = models.EmailField()
    program = models.CharField(max_length=40, default="beta")
    screen_completed_max = models.IntegerField(default=0)

    class Meta:
        db_table = "accounts_test_progress"
        constraints = [models.UniqueConstraint(fields=["tester_email", "program"],
                                               name="accounts_test_progress_unique")]


class PaperTrade(models.Model):  # like walkthrough paper trades: owned by the progress row
    progress = models.ForeignKey(Progress, on_delete=models.CASCADE, related_name="paper_trades")
    strategy_type = models.CharField(max_length=40)

    class Meta:
        db_table = "accounts_test_paper_trades"


class Draft(models.Model):  # scratch data the merge drops
    customer = models.ForeignKey("raxx.Customer", on_delete=models.CASCADE, related_name="+")
    body = models.CharField(max_length=100)

    class Meta:
        db_table = "accounts_test_drafts"


class Receipt(models.Model):  # evidence kept without its link on erasure
    customer = models.ForeignKey("raxx.Customer", null=True, on_delete=models.SET_NULL, related_name="+")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "accounts_test_receipts"
