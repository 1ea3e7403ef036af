"""Journal (Shape 1) tables: paper orders, taxonomy versions, sentiment labels.

Labels are asserted by the customer and never inferred. The vocabulary below is
the v1 set; the database CHECK constraints hold the same lists, so a label the
database does not know can never be stored (see README: "evolving the taxonomy").
"""

import json
from datetime import timedelta

from django.db import models
from django.db.models import Q
from django.db.models.functions import Length, Now
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from raxx.models import Customer

PRE_LABELS = ("Bullish", "Bearish", "Neutral", "HighUncertainty")
POST_LABELS = ("FollowedPlan", "HeldThroughPressure", "AdjustedWithReason", "OverrodeRule", "UnexpectedOutcome")
SOURCE_TABLES = ("paper_orders",)
NOTE_MAX_LENGTH = 2000
LOCK_AFTER_HOURS = 24


class PaperOrder(models.Model):
    """A customer's paper trade: opened with an entry price, closed with an exit price."""

    class Side(models.TextChoices):
        BUY = "buy"
        SELL = "sell"

    class Status(models.TextChoices):
        OPEN = "open"
        CLOSED = "closed"

    id = models.BigAutoField(primary_key=True)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, db_column="user_id", related_name="paper_orders")
    symbol = models.CharField(max_length=16)
    side = models.CharField(max_length=4, choices=Side.choices)
    quantity = models.DecimalField(max_digits=20, decimal_places=6)
    entry_price = models.DecimalField(max_digits=20, decimal_places=6)
    exit_price = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    strategy_type = models.CharField(max_length=64, null=True, blank=True)
    status = models.CharField(max_length=6, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(db_default=Now())
    closed_at = models.DateTimeField(null=True, blank=True)
    realized_pnl = models.DecimalField(max_digits=34, decimal_places=12, null=True, blank=True)
    # The What Could've Been position recorded when this order closed (CONTRACTS §4).
    closed_position = models.ForeignKey("wcb.ClosedPosition", null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+", db_constraint=True)

    class Meta:
        db_table = "paper_orders"
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(side__in=["buy", "sell"]), name="paper_orders_side_valid"),
            models.CheckConstraint(condition=Q(status__in=["open", "closed"]), name="paper_orders_status_valid"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="paper_orders_quantity_positive"),
            models.CheckConstraint(condition=Q(entry_price__gt=0), name="paper_orders_entry_price_positive"),
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True, exit_price__isnull=True, realized_pnl__isnull=True)
                | Q(status="closed", closed_at__isnull=False, exit_price__gt=0, realized_pnl__isnull=False),
                name="paper_orders_close_consistent"),
        ]
        indexes = [
            # A customer's orders newest first, with what the sentiment filter's page tests of an order:
            # the page is found by an index-only walk that stops at its last row (journal.selectors).
            models.Index(fields=["customer", "-opened_at", "-id", "strategy_type", "closed_at"],
                         name="paper_orders_user_recent"),
            # Covers what the sentiment filter's aggregate reads of an order: an index-only scan of one
            # customer's entries, wherever the rows sit in a heap shared with every other customer.
            models.Index(fields=["customer", "id", "opened_at", "realized_pnl", "strategy_type", "closed_at"],
                         name="paper_orders_user_filter"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.side} {self.quantity} {self.symbol} ({self.status})"


class SentimentTaxonomyVersion(models.Model):
    """One version of the label vocabulary; the newest effective one is current."""

    version = models.IntegerField(primary_key=True)
    pre_labels = models.TextField(help_text="JSON array of pre-trade labels.")
    post_labels = models.TextField(help_text="JSON array of post-trade labels.")
    description = models.TextField(blank=True, default="")
    effective_from = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "sentiment_taxonomy_versions"
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"taxonomy v{self.version}"

    @property
    def pre_label_list(self) -> list[str]:
        return json.loads(self.pre_labels)

    @property
    def post_label_list(self) -> list[str]:
        return json.loads(self.post_labels)


class TradeSentimentLabel(models.Model):
    """The customer's own pre- and post-trade labels for one trade (design §3.2)."""

    id = models.BigAutoField(primary_key=True)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, db_column="user_id",
                                 related_name="sentiment_labels")
    source_table = models.CharField(max_length=32, default="paper_orders")
    trade = models.ForeignKey(PaperOrder, on_delete=models.CASCADE, db_column="trade_id",
                              related_name="sentiment_labels")
    pre_label = models.CharField(max_length=32)
    pre_label_recorded_at = models.DateTimeField()
    post_label = models.CharField(max_length=32, null=True, blank=True)
    post_label_recorded_at = models.DateTimeField(null=True, blank=True)
    post_label_locked_at = models.DateTimeField(null=True, blank=True)
    journal_note = models.TextField(null=True, blank=True)
    taxonomy_version = models.ForeignKey(SentimentTaxonomyVersion, on_delete=models.PROTECT,
                                         db_column="taxonomy_version", default=1, db_default=1,
                                         related_name="labels")
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "trade_sentiment_labels"
        constraints = [
            models.UniqueConstraint(fields=["customer", "source_table", "trade"], name="idx_tsl_user_trade"),
            models.CheckConstraint(condition=Q(source_table__in=SOURCE_TABLES), name="tsl_source_table_valid"),
            models.CheckConstraint(condition=Q(pre_label__in=PRE_LABELS), name="tsl_pre_label_valid"),
            models.CheckConstraint(condition=Q(post_label__isnull=True) | Q(post_label__in=POST_LABELS),
                                   name="tsl_post_label_valid"),
            models.CheckConstraint(
                condition=Q(journal_note__isnull=True) | Q(LessThanOrEqual(Length("journal_note"), NOTE_MAX_LENGTH)),
                name="tsl_journal_note_length"),
        ]
        indexes = [
            models.Index(fields=["customer", "post_label"], condition=Q(post_label__isnull=False),
                         name="idx_tsl_user_post_label"),
            models.Index(fields=["customer", "pre_label"], name="idx_tsl_user_pre_label"),
            models.Index(fields=["customer", "post_label_locked_at"], condition=Q(post_label_locked_at__isnull=True),
                         name="idx_tsl_user_lock"),
            # The sentiment filter's side of the join, index-only and in trade order (a merge join
            # with paper_orders_user_filter).
            models.Index(fields=["customer", "trade", "source_table", "pre_label", "post_label", "taxonomy_version"],
                         name="idx_tsl_user_filter"),
        ]

    def __str__(self) -> str:
        return f"label #{self.pk} for trade #{self.trade_id}"

    @property
    def is_locked(self) -> bool:
        return self.post_label_locked_at is not None

    def locked_at(self, *, now=None):
        """When the label locked, or None while it is open: the stored ``post_label_locked_at``
        (set by the lock worker) or, before the worker's next run, the moment the 24-hour window
        after the trade's close ended (the on-read lock of design §5). Reads ``self.trade``."""
        if self.post_label_locked_at is not None:
            return self.post_label_locked_at
        closed_at = self.trade.closed_at
        if closed_at is None:
            return None
        due = closed_at + timedelta(hours=LOCK_AFTER_HOURS)
        return due if due <= (now or timezone.now()) else None
