import uuid

from django.db import models
from django.utils import timezone


class Customer(models.Model):
    """The local row of a Queue customer. Queue is the source of truth.

    The primary key is the JWT ``sub``. Customers never have a password and
    never log into the admin: operators are Django staff users.
    """

    id = models.UUIDField(primary_key=True, editable=False)
    email = models.EmailField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_seen_at = models.DateTimeField(default=timezone.now)
    tombstoned_at = models.DateTimeField(null=True, blank=True)

    # What DRF and waffle ask of ``request.user``.
    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    is_active = True

    class Meta:
        db_table = "customers"
        indexes = [models.Index(fields=["email"], name="customers_email_idx")]

    def __str__(self) -> str:
        return f"{self.email or 'customer'} ({self.id})"

    @property
    def is_tombstoned(self) -> bool:
        return self.tombstoned_at is not None


class AuditEvent(models.Model):
    """One row of ``customer_audit_events``: append-only evidence.

    Written only through :func:`raxx.audit.audit_log`, which refuses secrets,
    tokens and note text. Rows are never updated.
    """

    id = models.BigAutoField(primary_key=True)
    event_type = models.CharField(max_length=64, db_index=True)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    actor = models.CharField(max_length=200)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        db_table = "customer_audit_events"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event_type} by {self.actor}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)


def new_uuid() -> uuid.UUID:
    return uuid.uuid4()


def normalize_email(email: str) -> str:
    return email.strip().lower()


class TombstonedEmail(models.Model):
    """The email of a merged-away account, kept only as a hash (``tombstoned_emails``).

    ``email_hash`` is argon2 (salted, slow: it cannot be reversed or matched
    in bulk); ``lookup_token`` is an HMAC-SHA256 of the normalised email keyed
    by ``SECRET_KEY``, indexed, so "is this email tombstoned?" is one indexed
    query. There is deliberately no link back to the customer row.
    """

    id = models.BigAutoField(primary_key=True)
    lookup_token = models.CharField(max_length=64, unique=True)
    email_hash = models.CharField(max_length=200)
    reason = models.CharField(max_length=20, default="merge")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "tombstoned_emails"

    def __str__(self) -> str:
        return f"tombstoned email #{self.pk} ({self.reason})"


class IdempotencyKey(models.Model):
    """A customer's ``Idempotency-Key`` on a create route (CONTRACTS §10; ``raxx/idempotency.py``).

    The row is inserted (committed) before the work runs, so a concurrent request with the
    same key meets the unique constraint and answers 409; the first response is written in
    the same transaction as the work, so it is never recorded for work that did not commit.
    ``response_status`` is NULL while the request is in flight. Rows expire after 24 hours.
    """

    id = models.BigAutoField(primary_key=True)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # sha256 of method, path and the canonical JSON body
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    completed_at = models.DateTimeField(null=True)

    class Meta:
        db_table = "idempotency_keys"
        constraints = [models.UniqueConstraint(fields=["customer", "key"], name="idempotency_keys_customer_key_uniq")]

    def __str__(self) -> str:
        return f"idempotency key #{self.pk} ({'done' if self.response_status else 'in flight'})"


class JobRunRecord(models.Model):
    """The last outcome of each periodic job (``job_runs``): one row per task, updated in place.

    Written by Celery's ``task_success``/``task_failure`` signals (and by manual
    WCB runs); read by :func:`raxx.jobs.job_health`. ``tracked_since`` is when
    the job was first synced (fires before it owe nothing); ``alerted_for`` is
    the owed fire last reported stale, so each missed run logs ERROR once.
    """

    task = models.CharField(max_length=200, unique=True)
    tracked_since = models.DateTimeField(default=timezone.now)
    paused_at = models.DateTimeField(null=True, blank=True)
    last_success = models.DateTimeField(null=True, blank=True)
    last_failure = models.DateTimeField(null=True, blank=True)
    last_run_id = models.CharField(max_length=64, blank=True, default="")
    last_error = models.CharField(max_length=200, blank=True, default="")  # exception class only: no data
    alerted_for = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "job_runs"
        verbose_name = "job run record"

    def __str__(self) -> str:
        return self.task


MERGE_REQUEST_TTL_DAYS = 7  # CONTRACTS §9: a merge request expires after 7 days


class MergeRequest(models.Model):
    """Support's request to merge ``secondary`` into ``primary`` (CONTRACTS §9, ``merge_requests``).

    A merge executes only from a request both holders confirmed with a step-up
    token (or with the audited break-glass). ``status`` is the stored state;
    ``effective_status`` also reads the clock, so a request past ``expires_at``
    shows as expired before the beat task has closed it.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        CONFIRMED = "confirmed"  # both holders confirmed; not yet executed
        EXECUTED = "executed"
        CANCELLED = "cancelled"  # declined by a holder or cancelled by support
        EXPIRED = "expired"

    OPEN = (Status.PENDING, Status.CONFIRMED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    primary = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    secondary = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    reason = models.TextField()
    opened_by = models.CharField(max_length=200)  # the actor: operator:<username> or cli:merge_request
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    primary_confirmed_at = models.DateTimeField(null=True, blank=True)
    secondary_confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)  # executed, cancelled or expired
    closed_by = models.CharField(max_length=200, blank=True)
    consent = models.CharField(max_length=16, blank=True)  # on execution: "both" or "waived"

    class Meta:
        db_table = "merge_requests"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["primary", "status"], name="merge_requests_primary_idx"),
                   models.Index(fields=["secondary", "status"], name="merge_requests_secondary_idx")]
        constraints = [models.CheckConstraint(condition=~models.Q(primary=models.F("secondary")),
                                              name="merge_requests_two_accounts")]

    def __str__(self) -> str:
        return f"merge request {self.pk} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.effective_status in self.OPEN

    @property
    def effective_status(self) -> str:
        if self.status in self.OPEN and self.expires_at <= timezone.now():
            return self.Status.EXPIRED
        return self.status

    @property
    def both_confirmed(self) -> bool:
        return self.primary_confirmed_at is not None and self.secondary_confirmed_at is not None

    def role_of(self, customer_id) -> str | None:
        if customer_id == self.primary_id:
            return "primary"
        if customer_id == self.secondary_id:
            return "secondary"
        return None

    def confirmed_at_of(self, role: str):
        return self.primary_confirmed_at if role == "primary" else self.secondary_confirmed_at
