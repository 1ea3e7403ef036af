"""Beta walkthrough tables (design §3.Q2, §3.Q7).

Every row here is beta-tester data tied to the tester's email address and is
purged 30 days after the tester's program ends (``services.walkthrough_purge``).
The raw invite token is never stored: only its SHA-256 hex digest.
"""

from django.db import models
from django.db.models import Q

TRACKS = ("simple", "full")
INTENT_BUCKETS = ("income", "covered_call", "directional", "unknown")
STRATEGY_TYPES = ("iron_condor", "covered_call", "vertical_spread")


class WalkthroughProgram(models.Model):
    """A beta cohort; its testers' data is purged 30 days after ``ends_on``."""

    name = models.CharField(max_length=100, unique=True)
    starts_on = models.DateField()
    ends_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "beta_walkthrough_programs"
        constraints = [models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")),
                                              name="beta_walkthrough_program_dates")]

    def __str__(self) -> str:
        return f"{self.name} (ends {self.ends_on})"


class WalkthroughProgress(models.Model):
    tester_email = models.EmailField()
    token_hash = models.CharField(max_length=64, unique=True)
    program = models.ForeignKey(WalkthroughProgram, on_delete=models.PROTECT, related_name="testers")
    track_selected = models.TextField(null=True, blank=True)
    persona_answers = models.JSONField(null=True, blank=True)
    # Routing key (§3.Q2): NULL until the intent question is answered.
    intent_bucket = models.TextField(null=True, blank=True)
    screen_completed_max = models.PositiveSmallIntegerField(default=0)
    scenario_answers = models.JSONField(null=True, blank=True)
    # The flag matrix cell (§3.Q1) of the tester's latest screen POST, for the funnel.
    flag_cell = models.CharField(max_length=32, blank=True, default="")
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "beta_walkthrough_progress"
        verbose_name = "tester progress"
        verbose_name_plural = "tester progress"
        constraints = [
            models.UniqueConstraint(fields=["tester_email", "program"], name="beta_walkthrough_one_row_per_tester"),
            models.CheckConstraint(condition=Q(track_selected__isnull=True) | Q(track_selected__in=TRACKS),
                                   name="beta_walkthrough_track_selected"),
            models.CheckConstraint(condition=Q(screen_completed_max__lte=5), name="beta_walkthrough_screen_max"),
            models.CheckConstraint(condition=Q(intent_bucket__isnull=True) | Q(intent_bucket__in=INTENT_BUCKETS),
                                   name="beta_walkthrough_intent_bucket"),
        ]
        indexes = [models.Index(fields=["program", "screen_completed_max"], name="beta_wt_program_screen"),
                   models.Index(fields=["intent_bucket"], name="beta_wt_intent_bucket_idx")]  # design §3.Q2

    def __str__(self) -> str:
        return f"{self.tester_email} / {self.program_id}"


class WalkthroughPaperTrade(models.Model):
    """A paper fill from screen 3 (or the simple-track guide). Never an order."""

    progress = models.OneToOneField(WalkthroughProgress, on_delete=models.CASCADE, related_name="paper_trade")
    strategy_type = models.TextField(default="iron_condor", db_default="iron_condor")
    underlying = models.CharField(max_length=12)
    # Iron-condor named columns: filled for iron condors only, NULL for the other
    # shapes, whose consumers read legs_json (design §3.Q7, documented and intentional).
    short_call_strike = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    long_call_strike = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    short_put_strike = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    long_put_strike = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    wing_width = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    legs_json = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "beta_walkthrough_paper_trades"
        constraints = [models.CheckConstraint(condition=Q(strategy_type__in=STRATEGY_TYPES),
                                              name="beta_walkthrough_strategy_type")]

    def __str__(self) -> str:
        return f"paper trade {self.pk}"


class WalkthroughResponse(models.Model):
    """The screen-5 survey answers (uniform across paths, §3.Q8)."""

    progress = models.OneToOneField(WalkthroughProgress, on_delete=models.CASCADE, related_name="response")
    answers = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "beta_walkthrough_responses"
