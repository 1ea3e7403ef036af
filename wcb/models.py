"""Tables of What Could've Been.

``closed_positions`` holds every closed position (any tier). For pro and
pro_plus closes, ``closed_position_wcb_snapshots`` holds one snapshot row with
the DDL of design §3.1: the close facts at close time, the horizon fields
written only by the scheduled jobs once the horizon is reached.
"""

import uuid

from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone

from raxx.models import Customer

HORIZON_EOD = "close_of_market_only"
HORIZON_EOM = "monthly"


class Horizon(models.TextChoices):
    EOD = HORIZON_EOD, "Close of market"
    EOM = HORIZON_EOM, "End of month"


class AssetType(models.TextChoices):
    EQUITY = "equity", "Equity"
    CALL = "call", "Call option"
    PUT = "put", "Put option"
    MULTI_LEG = "multi_leg", "Multi-leg option"


class ClosedPosition(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="closed_positions")
    symbol = models.CharField(max_length=16)
    asset_type = models.CharField(max_length=16, choices=AssetType.choices, default=AssetType.EQUITY)
    quantity = models.DecimalField(max_digits=12, decimal_places=4, help_text="Signed: negative is a short.")
    cost_basis = models.DecimalField(max_digits=12, decimal_places=6)
    close_price = models.DecimalField(max_digits=12, decimal_places=6)
    close_commission = models.DecimalField(max_digits=10, decimal_places=4, default=0)
    multiplier = models.IntegerField(default=1)
    closed_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        db_table = "closed_positions"
        ordering = ["-closed_at"]
        indexes = [models.Index(fields=["customer", "-closed_at"], name="closed_pos_customer_idx")]
        constraints = [
            models.CheckConstraint(condition=~Q(quantity=0), name="closed_pos_quantity_nonzero"),
            models.CheckConstraint(condition=Q(multiplier__gte=1), name="closed_pos_multiplier_positive"),
            models.CheckConstraint(condition=Q(asset_type__in=AssetType.values), name="closed_pos_asset_type_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.symbol} {self.quantity} closed {self.closed_at:%Y-%m-%d %H:%M}Z"


class WcbSnapshot(models.Model):
    """One row of ``closed_position_wcb_snapshots`` (design §3.1).

    ``user_id`` is a plain UUID column, not a foreign key, exactly as the DDL
    says; the account merge re-attributes it (revision §4.2).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    position = models.OneToOneField(ClosedPosition, on_delete=models.CASCADE, related_name="wcb_snapshot",
                                    db_column="position_id")
    user_id = models.UUIDField()
    symbol = models.CharField(max_length=16)
    tracking_horizon = models.CharField(max_length=24, choices=Horizon.choices)
    close_timestamp_utc = models.DateTimeField()
    close_price = models.DecimalField(max_digits=12, decimal_places=6)
    cost_basis = models.DecimalField(max_digits=12, decimal_places=6)
    position_size_signed = models.DecimalField(max_digits=12, decimal_places=4)
    close_commission = models.DecimalField(max_digits=10, decimal_places=4, default=0, db_default=0)
    multiplier = models.IntegerField(default=1, db_default=1)
    asset_type = models.CharField(max_length=16, choices=AssetType.choices, default=AssetType.EQUITY,
                                  db_default=AssetType.EQUITY)
    # Horizon fields: written by the scheduled jobs only; null until horizon_reached.
    horizon_price = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    horizon_timestamp_utc = models.DateTimeField(null=True, blank=True)
    would_have_pnl = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    actual_pnl = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    delta_pnl = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    dividends_in_window = models.DecimalField(max_digits=12, decimal_places=6, default=0, db_default=0)
    split_ratio_applied = models.DecimalField(max_digits=10, decimal_places=6, default=1, db_default=1)
    data_source = models.CharField(max_length=32, null=True, blank=True)
    last_computed_at = models.DateTimeField(null=True, blank=True)
    horizon_reached = models.BooleanField(default=False, db_default=False)
    spinoff_detected = models.BooleanField(default=False, db_default=False)
    created_at = models.DateTimeField(default=timezone.now, db_default=Now(), editable=False)
    updated_at = models.DateTimeField(default=timezone.now, db_default=Now())

    class Meta:
        db_table = "closed_position_wcb_snapshots"
        verbose_name = "WCB snapshot"
        ordering = ["-close_timestamp_utc"]
        indexes = [
            models.Index(fields=["user_id", "position"], name="idx_wcb_user_position"),
            models.Index(fields=["tracking_horizon", "close_timestamp_utc"], name="idx_wcb_pending_eod",
                         condition=Q(horizon_reached=False, tracking_horizon=HORIZON_EOD)),
            models.Index(fields=["tracking_horizon", "close_timestamp_utc"], name="idx_wcb_pending_eom",
                         condition=Q(horizon_reached=False, tracking_horizon=HORIZON_EOM)),
            # A job batch's chunks (its symbols' pending rows in pk order) without scanning every pending row.
            models.Index(fields=["tracking_horizon", "symbol", "id"], name="idx_wcb_pending_symbol",
                         condition=Q(horizon_reached=False)),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(tracking_horizon__in=Horizon.values), name="wcb_tracking_horizon_valid"),
            models.CheckConstraint(condition=Q(asset_type__in=AssetType.values), name="wcb_asset_type_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.symbol} · {self.get_tracking_horizon_display()} · {'final' if self.horizon_reached else 'pending'}"


class WcbSetting(models.Model):
    """A customer's WCB preference; absent means the default (close of market)."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, primary_key=True, related_name="wcb_setting")
    tracking_horizon = models.CharField(max_length=24, choices=Horizon.choices, default=HORIZON_EOD)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "wcb_settings"
        verbose_name = "WCB setting"
        constraints = [
            models.CheckConstraint(condition=Q(tracking_horizon__in=Horizon.values), name="wcb_setting_horizon_valid"),
        ]


class WcbTierObservation(models.Model):
    """What the WCB routes last saw of a customer's tier (for retention only).

    We never store a tier to decide access (CONTRACTS §1): tiers live in the
    token. Retention (revision §13.3) needs to know *when* a customer went
    free, so each WCB request records the tier its token carried:
    ``free_since`` is set at the first free (or tier-less) sighting after a
    paid one and cleared at the next paid sighting.
    """

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, primary_key=True,
                                    related_name="wcb_tier_observation")
    last_paid_seen_at = models.DateTimeField(null=True, blank=True)
    free_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "wcb_tier_observations"
        verbose_name = "WCB tier observation"
        indexes = [models.Index(fields=["free_since"], name="wcb_tier_obs_free_since_idx",
                                condition=Q(free_since__isnull=False))]


class WcbJobRun(models.Model):
    """The run ledger: one row per (job, session) for scheduled runs.

    A scheduled fire claims its (job, session) row; a second fire for a session
    already done (or in progress) does nothing. Manual runs (``wcb_run``, the
    admin action) are recorded too, with ``trigger`` saying so.
    """

    class Status(models.TextChoices):
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        PARTIAL = "partial"  # some symbols' providers failed: rows stay pending, a re-fire may retry
        FAILED = "failed"
        SKIPPED = "skipped"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    job = models.CharField(max_length=8)  # "eod" | "eom"
    session = models.DateField(help_text="The trading session whose close the run finalizes up to.")
    trigger = models.CharField(max_length=16, default="beat")  # beat | manual | admin
    dedupe_key = models.CharField(max_length=40, null=True, blank=True, unique=True,
                                  help_text="Scheduled runs: eod:SESSION, or eom:SESSION:FIRE-DAY; empty for manual runs.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    symbols = models.IntegerField(default=0)
    finalized = models.IntegerField(default=0)
    pending = models.IntegerField(default=0)
    failed = models.IntegerField(default=0)
    error = models.TextField(blank=True, default="")
    as_of = models.DateTimeField(null=True, blank=True, help_text="The moment the run computes as of (its batches use it).")
    batches = models.IntegerField(default=0, help_text="How many batch tasks the run was split into.")

    class Meta:
        db_table = "wcb_job_runs"
        verbose_name = "WCB job run"
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["job", "status", "-session"], name="wcb_job_runs_last_idx")]

    def __str__(self) -> str:
        return f"{self.job} {self.session} {self.status}"


class WcbJobBatch(models.Model):
    """One batch of a run: a set of symbols, processed by one Celery task (fan-out).

    The row is the batch's progress and its counter: every transaction that
    writes snapshot rows also advances the cursor (``last_symbol``, ``last_pk``)
    and adds to the counts, so a task redelivered after its worker died resumes
    after the last committed rows and the run's summary (the sum of its batches)
    counts each row once.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        DONE = "done"
        FAILED = "failed"

    id = models.BigAutoField(primary_key=True)
    run = models.ForeignKey(WcbJobRun, on_delete=models.CASCADE, related_name="batch_rows")
    index = models.IntegerField()
    symbols = models.JSONField(help_text="[[symbol, pending rows when planned, earliest close], ...]")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    # Keyset cursor over the batch's rows in (symbol, id) order: rows up to (last_symbol, last_pk) are done.
    last_symbol = models.CharField(max_length=16, blank=True, default="", help_text="Keyset cursor: symbol part.")
    last_pk = models.UUIDField(null=True, blank=True, help_text="Keyset cursor: rows up to here are done.")
    finalized = models.IntegerField(default=0)
    pending = models.IntegerField(default=0)
    failed = models.IntegerField(default=0)
    failed_symbols = models.JSONField(default=list, blank=True)
    attempts = models.IntegerField(default=0, help_text="Deliveries that started it (more than 1: redelivered).")
    worker = models.CharField(max_length=200, blank=True, default="", help_text="The worker of the last attempt.")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta:
        db_table = "wcb_job_batches"
        verbose_name = "WCB job batch"
        ordering = ["run", "index"]
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="wcb_job_batch_run_index_uniq")]

    def __str__(self) -> str:
        return f"{self.run_id} #{self.index} {self.status}"
