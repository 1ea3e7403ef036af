"""Account merge: every row of the secondary customer moves to the primary, in one transaction.

The engine knows no table by name: it walks ``raxx.customer_data.rules()``
(the same registry export and erasure read) and applies each declared rule
with set-based statements (``queryset.update`` / ``queryset.delete``), never
row by row:

- ``reattribute``: ``UPDATE t SET <field> = :primary WHERE <field> = :secondary``
  (plus ``auto_now`` columns and the rule's ``touch`` columns: WCB's ``updated_at = NOW()``);
- ``keep_primary_on_conflict``: first delete the secondary's rows whose unique
  key the primary already holds (their cascade children go with them), then
  re-attribute the rest;
- ``delete``: the secondary's rows are deleted; ``keep``: nothing moves.

Rows owned through a cascading foreign key (WCB snapshots of a position,
walkthrough paper trades of a progress row) keep pointing at their parent,
so they follow it. Email-linked rows (``Link.EMAIL``) move to the primary's email.

Concurrency: both customer rows are locked first (``SELECT ... FOR UPDATE``
ordered by id, so two merges over the same pair lock in the same order and
cannot deadlock). On PostgreSQL the lock wait is bounded by
``ACCOUNTS_LOCK_TIMEOUT_MS``: a merge or erasure already running on either
account makes the next one fail with ``busy`` (or, if the first finishes in
time, see the tombstone and refuse). On SQLite ``select_for_update`` is a
no-op, but every write transaction starts ``BEGIN IMMEDIATE`` (settings), so
merges are serialised by the database lock, and the re-check after locking
refuses the second one.

Consent (CONTRACTS §9): a merge runs only from a merge request both holders
confirmed (``request_id=``; checked under the request's row lock in the merge's
own transaction, so two executions of one request make one merge) or as the
audited break-glass (``without_consent_reason=``). See ``raxx/merge_requests.py``.

On PostgreSQL the transaction sets ``raxx.account_merge = 'on'``
(``set_config(..., true)``, transaction-local), so a table trigger that freezes
rows (the journal's locked labels) can let the merge re-attribute them:
``IF current_setting('raxx.account_merge', true) = 'on' THEN`` allow a change
of the customer column only.
"""

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from .audit import audit_log, current_actor
from .customer_cache import invalidate_or_refuse
from .customer_data import CustomerDataRule, Link, OnMerge, cascade_children, rules
from .metrics import ACCOUNT_OPERATIONS
from .models import Customer, MergeRequest, normalize_email
from .tombstones import tombstone_email

logger = logging.getLogger(__name__)

DEFAULT_LOCK_TIMEOUT_MS = 5000


class AccountsRefused(Exception):
    """A merge / export / erasure that must not run; nothing was changed."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class TableStep:
    """What the merge does (or did) to one registered table."""

    key: str  # app.Model.field
    table: str
    on_merge: str
    rows: int = 0  # the secondary's rows before the merge
    moved: int = 0
    collisions: int = 0  # the secondary's rows dropped because the primary holds the same unique key
    deleted: int = 0
    kept: int = 0
    unique_key: tuple[str, ...] = ()
    collision_samples: list[dict] = field(default_factory=list)  # up to 5 colliding keys (dry run display)
    owned: dict[str, int] = field(default_factory=dict)  # cascade children that follow the moved rows
    email_link: bool = False

    @property
    def resolution(self) -> str:
        if self.kept and self.on_merge != OnMerge.KEEP:
            return f"{self.kept} already the primary's (both accounts have this email)"
        if self.on_merge == OnMerge.REATTRIBUTE:
            return f"{self.moved} moved"
        if self.on_merge == OnMerge.KEEP_PRIMARY_ON_CONFLICT:
            key = ", ".join(self.unique_key) or "one per customer"
            text = f"{self.moved} moved"
            if self.collisions:
                text += (f"; {self.collisions} collide on ({key}): the primary's row is kept, "
                         "the secondary's is deleted")
            return text
        if self.on_merge == OnMerge.DELETE:
            return f"{self.deleted} deleted (rule: delete)"
        text = f"{self.kept} stay with the tombstoned secondary (rule: keep)"
        return text + ("; linked by email: the address stays in this table" if self.email_link and self.kept else "")

    def counts(self) -> dict:
        return {"moved": self.moved, "collisions_dropped": self.collisions, "deleted": self.deleted,
                "kept": self.kept}


@dataclass
class MergePlan:
    primary_id: uuid.UUID
    secondary_id: uuid.UUID
    steps: list[TableStep]
    dry_run: bool = True
    seconds: float = 0.0

    @property
    def rows_moved(self) -> int:
        return sum(s.moved for s in self.steps)

    @property
    def collisions(self) -> int:
        return sum(s.collisions for s in self.steps)

    def as_dict(self) -> dict:
        return {"primary_id": str(self.primary_id), "secondary_id": str(self.secondary_id),
                "dry_run": self.dry_run, "rows_moved": self.rows_moved, "collisions": self.collisions,
                "tables": [{**asdict(s), "resolution": s.resolution} for s in self.steps]}


Progress = Callable[[TableStep, int, int], None]


# --- locking -----------------------------------------------------------------

def lock_customers(ids) -> dict[uuid.UUID, Customer]:
    """Lock the customer rows ``ids`` (one by one, ordered by id) inside the current transaction.

    Refuses with ``busy``, naming the account, when another merge or erasure holds
    one of them for longer than ``ACCOUNTS_LOCK_TIMEOUT_MS`` (PostgreSQL).
    """
    ids = sorted({uuid.UUID(str(i)) for i in ids})
    timeout_ms = int(getattr(settings, "ACCOUNTS_LOCK_TIMEOUT_MS", DEFAULT_LOCK_TIMEOUT_MS))
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute("SELECT current_setting('lock_timeout')")
            previous = cursor.fetchone()[0]
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{timeout_ms}ms"])
    locked = {}
    for cid in ids:
        try:
            customer = Customer.objects.select_for_update().filter(pk=cid).first()
        except OperationalError as exc:  # lock_not_available: the transaction is aborted, leave it
            raise AccountsRefused(
                "busy", f"A merge or erasure involving account {cid} is already running; nothing was changed. "
                        "Try again when it has finished.") from exc
        if customer is not None:
            locked[cid] = customer
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])
    return locked


def _parse_id(value, role: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise AccountsRefused("invalid_id", f"The {role} id {value!r} is not a UUID; nothing was changed.")


def _validate(customers: dict, primary_id: uuid.UUID, secondary_id: uuid.UUID) -> tuple[Customer, Customer]:
    if primary_id == secondary_id:
        raise AccountsRefused("same_account", "Primary and secondary are the same account; nothing was changed.")
    for role, cid in (("primary", primary_id), ("secondary", secondary_id)):
        if cid not in customers:
            raise AccountsRefused("not_found", f"No {role} account {cid}; nothing was changed.")
        if customers[cid].is_tombstoned:
            raise AccountsRefused(
                "tombstoned", f"The {role} account {cid} is already tombstoned (merged away or erased) "
                              f"since {customers[cid].tombstoned_at:%Y-%m-%d %H:%M}Z; nothing was changed.")
    return customers[primary_id], customers[secondary_id]


def refuse_open_requests(primary_id: uuid.UUID, secondary_id: uuid.UUID, *, exclude=None) -> None:
    """Refuse while an open merge request (other than ``exclude``) names either account."""
    blockers = MergeRequest.objects.filter(
        Q(primary_id__in=(primary_id, secondary_id)) | Q(secondary_id__in=(primary_id, secondary_id)),
        status__in=MergeRequest.OPEN, expires_at__gt=timezone.now())
    if exclude is not None:
        blockers = blockers.exclude(pk=exclude)
    blocker = blockers.order_by("created_at").first()
    if blocker is not None:
        named = primary_id if primary_id in (blocker.primary_id, blocker.secondary_id) else secondary_id
        raise AccountsRefused(
            "open_request", f"Merge request {blocker.pk} ({blocker.status}, secondary {blocker.secondary_id} into "
                            f"primary {blocker.primary_id}) is still open for account {named}; nothing was changed. "
                            "Execute it, or cancel it first.")


def _consent(request_id, reason, primary_id, secondary_id) -> tuple[str, MergeRequest | None]:
    """Under the lock: ``("both", request)`` for a request both holders confirmed, ``("waived", request or
    None)`` for the break-glass; anything else is refused (changing nothing)."""
    if reason is not None and not str(reason).strip():
        raise AccountsRefused("reason_required", "A merge without consent needs a reason; nothing was changed.")
    waived = reason is not None
    request = None
    if request_id is not None:
        request_id = _parse_id(request_id, "merge request")
        request = MergeRequest.objects.select_for_update().filter(pk=request_id).first()
        if request is None:
            raise AccountsRefused("not_found", f"No merge request {request_id}; nothing was changed.")
        if (request.primary_id, request.secondary_id) != (primary_id, secondary_id):
            raise AccountsRefused("request_mismatch", f"Merge request {request_id} is for secondary "
                                  f"{request.secondary_id} into primary {request.primary_id}; nothing was changed.")
        status = request.effective_status
        if status not in MergeRequest.OPEN:
            raise AccountsRefused("merge_request_closed", f"Merge request {request_id} is {status}; "
                                                          "nothing was changed.")
        if not waived and not (status == MergeRequest.Status.CONFIRMED and request.both_confirmed):
            missing = [role for role in ("primary", "secondary") if request.confirmed_at_of(role) is None]
            raise AccountsRefused("consent_missing", f"Merge request {request_id} is not confirmed by the "
                                  f"{' and the '.join(missing)} account holder; nothing was changed.")
    elif not waived:
        raise AccountsRefused("consent_required", "A merge needs a merge request both holders confirmed "
                                                  "(or --without-consent with a reason); nothing was changed.")
    refuse_open_requests(primary_id, secondary_id, exclude=request.pk if request else None)
    return ("waived" if waived else "both"), request


# --- per-table planning and execution ------------------------------------------

def _collisions(rule: CustomerDataRule, rows, primary: Customer):
    """The secondary's ``rows`` whose unique key the primary already holds."""
    primary_rows = rule.rows_of(primary).filter(**{f: OuterRef(f) for f in rule.unique_with})
    return rows.filter(Exists(primary_rows))


def _refuse_unmovable_email_rows(rule: CustomerDataRule, rows, primary: Customer) -> None:
    if (rule.link == Link.EMAIL and rule.on_merge in (OnMerge.REATTRIBUTE, OnMerge.KEEP_PRIMARY_ON_CONFLICT)
            and not primary.email and rows.exists()):
        raise AccountsRefused(
            "primary_without_email",
            f"{rule.key} rows of the secondary are linked by email, and the primary has no email to move "
            "them to; nothing was changed. Give the primary its email in Queue first.")


def _shared_email(rule: CustomerDataRule, primary: Customer, secondary: Customer) -> bool:
    """Both accounts hold the same address: the email-linked rows already are the primary's.
    (Without this guard every such row would "collide with itself" and be deleted.)"""
    return (rule.link == Link.EMAIL and bool(primary.email) and bool(secondary.email)
            and normalize_email(primary.email) == normalize_email(secondary.email))


def _owned_counts(rule: CustomerDataRule, rows) -> dict[str, int]:
    return {rel.related_model._meta.label: rel.related_model._default_manager.filter(
        **{f"{rel.field.name}__in": rows.values("pk")}).count() for rel in cascade_children(rule.model)}


def plan_rule(rule: CustomerDataRule, primary: Customer, secondary: Customer, *, detail: bool = True) -> TableStep:
    """Counts for one rule; ``detail`` adds collision samples and owned-row counts (for the preview)."""
    rows = rule.rows_of(secondary)
    step = TableStep(rule.key, rule.table, str(rule.on_merge), rows=rows.count(), unique_key=rule.unique_with,
                     email_link=rule.link == Link.EMAIL)
    if not step.rows or _shared_email(rule, primary, secondary):
        step.kept = step.rows
        return step
    _refuse_unmovable_email_rows(rule, rows, primary)
    if rule.on_merge == OnMerge.REATTRIBUTE:
        step.moved = step.rows
    elif rule.on_merge == OnMerge.KEEP_PRIMARY_ON_CONFLICT:
        colliding = _collisions(rule, rows, primary)
        step.collisions = colliding.count()
        step.moved = step.rows - step.collisions
        if step.collisions and detail:
            fields = list(rule.unique_with) or ["pk"]
            step.collision_samples = list(colliding.order_by("pk").values(*fields)[:5])
    elif rule.on_merge == OnMerge.DELETE:
        step.deleted = step.rows
    else:
        step.kept = step.rows
    if step.moved and detail:
        step.owned = _owned_counts(rule, rows)
    return step


def _touch_values(rule: CustomerDataRule, now) -> dict:
    """``queryset.update`` skips ``auto_now``: set those, and the rule's ``touch`` columns, explicitly
    (revision §4.2: ``SET user_id = :primary, updated_at = NOW()``)."""
    fields = [f for f in rule.model._meta.concrete_fields if getattr(f, "auto_now", False)]
    fields += [rule.model._meta.get_field(name) for name in rule.touch]
    return {f.attname: now for f in fields}


def _merge_rule(rule: CustomerDataRule, primary: Customer, secondary: Customer, now) -> TableStep:
    """Apply one rule with set-based statements; the counts come from their row counts.

    Tests patch this to fail half-way.
    """
    step = TableStep(rule.key, rule.table, str(rule.on_merge), unique_key=rule.unique_with,
                     email_link=rule.link == Link.EMAIL)
    rows = rule.rows_of(secondary)
    if rule.on_merge == OnMerge.KEEP or _shared_email(rule, primary, secondary):
        step.kept = rows.count()
    elif rule.on_merge == OnMerge.DELETE:
        step.deleted = rows.delete()[1].get(rule.label, 0)
    else:
        if rule.on_merge == OnMerge.KEEP_PRIMARY_ON_CONFLICT:
            step.collisions = _collisions(rule, rows, primary).delete()[1].get(rule.label, 0)
        target = primary.email if rule.link == Link.EMAIL else primary.pk
        step.moved = rows.update(**{rule.attname: target}, **_touch_values(rule, now))
    step.rows = step.moved + step.collisions + step.deleted + step.kept
    return step


# --- public API ----------------------------------------------------------------------

def plan_merge(*, primary_id, secondary_id) -> MergePlan:
    """The dry run: what ``merge_accounts`` would do, per table, without changing anything."""
    primary_id, secondary_id = _parse_id(primary_id, "primary"), _parse_id(secondary_id, "secondary")
    customers = Customer.objects.in_bulk([primary_id, secondary_id])
    primary, secondary = _validate(customers, primary_id, secondary_id)
    start = time.perf_counter()
    steps = [plan_rule(rule, primary, secondary) for rule in rules()]
    return MergePlan(primary_id, secondary_id, steps, dry_run=True, seconds=time.perf_counter() - start)


def merge_accounts(*, primary_id, secondary_id, actor: str | None = None, progress: Progress | None = None,
                   request_id=None, without_consent_reason: str | None = None) -> MergePlan:
    """Merge ``secondary`` into ``primary`` in one transaction; refuse (changing nothing) when it must not run.

    Consent is required: ``request_id`` of a merge request both holders confirmed, or the
    break-glass ``without_consent_reason`` (with or without a request). Both are re-checked
    under the row locks of the two customers and of the request.
    """
    primary_id, secondary_id = _parse_id(primary_id, "primary"), _parse_id(secondary_id, "secondary")
    start = time.perf_counter()
    with transaction.atomic():
        if primary_id == secondary_id:
            _validate({}, primary_id, secondary_id)
        customers = lock_customers([primary_id, secondary_id])
        consent, request = _consent(request_id, without_consent_reason, primary_id, secondary_id)
        primary, secondary = _validate(customers, primary_id, secondary_id)
        invalidate_or_refuse(secondary.pk)  # its next request gets 401, in every process (before any change)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('raxx.account_merge', 'on', true)")
        now = timezone.now()
        todo = rules()
        for rule in todo:  # every refusal before the first change
            _refuse_unmovable_email_rows(rule, rule.rows_of(secondary), primary)
        steps = []
        for index, rule in enumerate(todo, start=1):
            step = _merge_rule(rule, primary, secondary, now)
            steps.append(step)
            if progress:
                progress(step, index, len(todo))
        if secondary.email:
            tombstone_email(secondary.email, reason="merge")
        Customer.objects.filter(pk=secondary.pk).update(email=None, tombstoned_at=now)
        plan = MergePlan(primary_id, secondary_id, steps, dry_run=False)
        if request is not None:
            MergeRequest.objects.filter(pk=request.pk).update(
                status=MergeRequest.Status.EXECUTED, closed_at=now, closed_by=actor or current_actor(),
                consent=consent)
        data = {"primary_id": str(primary_id), "secondary_id": str(secondary_id), "consent": consent,
                "request_id": str(request.pk) if request else None,
                "rows_moved": plan.rows_moved, "collisions_dropped": plan.collisions,
                "tables": {s.key: s.counts() for s in steps}}
        if consent == "waived":
            data["reason"] = str(without_consent_reason).strip()
        audit_log("account_merged", customer=primary, actor=actor, data=data)
    plan.seconds = time.perf_counter() - start
    logger.info("account_merged primary=%s secondary=%s rows_moved=%s consent=%s", primary_id, secondary_id,
                plan.rows_moved, consent)
    ACCOUNT_OPERATIONS.labels("merge").inc()
    return plan
