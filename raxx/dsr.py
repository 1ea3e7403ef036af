"""Data-subject requests: export everything about a customer, or erase it.

Both walk ``raxx.customer_data.rules()`` — the registry the merge reads — plus
the rows each registered row owns through a cascading foreign key, so a table
with a rule is exported and erased without being named here.

Erasure runs in one transaction under the customer's row lock: rules with
``erase=True`` delete the rows (their cascade children go with them: WCB
snapshots with their positions, walkthrough paper trades with their progress
row); rules with ``erase=False`` keep the row as evidence with the link set to
NULL. The customer row itself stays, tombstoned with its email nulled, so the
customer's tokens get 401 instead of re-provisioning a fresh account; one
``dsr_erased`` audit event (counts only, no PII) is the proof.

The cache goes too (CONTRACTS §10): each app declares the keys it may hold about
a customer (``raxx.customer_data.register_cache_keys``); erasure reads them while
the rows still exist, deletes them after the rows (and again after the transaction,
in case a render cached one meanwhile) and returns them in ``ErasureResult.cache_keys``
for ``leftovers`` to check.
"""

import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import CharField, JSONField, TextField
from django.utils import timezone

from .audit import audit_log
from .customer_cache import invalidate_or_refuse
from .customer_data import CustomerDataRule, cache_keys_of, cascade_children, rules
from .merge import AccountsRefused, _parse_id, lock_customers
from .metrics import ACCOUNT_OPERATIONS
from .models import AuditEvent, Customer, TombstonedEmail
from .tombstones import forget_tombstoned_email

logger = logging.getLogger(__name__)
EXPORT_FORMAT = "raxx.dsr_export"
EXPORT_VERSION = 1
CUSTOMER_FIELDS = ("id", "email", "created_at", "last_seen_at", "tombstoned_at")

Progress = Callable[[str, int], None]  # (table key, rows so far)


# --- reading everything about a customer --------------------------------------------

def _rows(queryset, progress: Progress | None, key: str) -> Iterator[dict]:
    for n, row in enumerate(queryset.order_by("pk").values().iterator(chunk_size=2000), start=1):
        if progress and n % 10_000 == 0:
            progress(key, n)
        yield row


def customer_tables(customer: Customer, *, progress: Progress | None = None) -> list[dict]:
    """Every row about ``customer``, table by table: one entry per rule, with owned (cascade) rows."""
    tables = []
    for rule in rules():
        rows = rule.rows_of(customer)
        owned = [{"model": rel.related_model._meta.label, "table": rel.related_model._meta.db_table,
                  "via": rel.field.name,
                  "rows": list(_rows(rel.related_model._default_manager.filter(
                      **{f"{rel.field.name}__in": rows.values("pk")}), progress, rel.related_model._meta.label))}
                 for rel in cascade_children(rule.model)]
        tables.append({"model": rule.label, "table": rule.table, "field": rule.field, "link": str(rule.link),
                       "rows": list(_rows(rows, progress, rule.key)), "owned": owned})
    return tables


def customer_row_ids(customer: Customer) -> dict[str, set]:
    """``{"app.Model": {pk, ...}}`` of every row about ``customer`` (owned rows included).

    The helper for cross-app tests: snapshot the secondary before a merge,
    then check every id is reachable by the primary afterwards.
    """
    ids: dict[str, set] = {}
    for rule in rules():
        rows = rule.rows_of(customer)
        ids.setdefault(rule.label, set()).update(rows.values_list("pk", flat=True))
        for rel in cascade_children(rule.model):
            child = rel.related_model
            ids.setdefault(child._meta.label, set()).update(child._default_manager.filter(
                **{f"{rel.field.name}__in": rows.values("pk")}).values_list("pk", flat=True))
    return ids


def leftovers(*, customer_id, email: str | None, cache_keys: Iterable[str] = ()) -> list[str]:
    """What is still held about a customer: ``[]`` after a complete erasure.

    Scans every registered table (and the tables its rows own): rows still
    linked to the customer (the one ``dsr_erased`` event excepted), and any
    text or JSON value anywhere in them, in ``tombstoned_emails`` or in
    ``customers``, containing the email address. And the cache: the keys the
    apps declare for the customer's current rows, plus ``cache_keys`` (after an
    erasure the rows are gone: pass ``ErasureResult.cache_keys``, read before).
    """
    probe = Customer(pk=_parse_id(customer_id, "customer"), email=email)
    found, scanned = [], {Customer, TombstonedEmail}
    keys = sorted(set(cache_keys) | set(cache_keys_of(probe)))
    try:
        held = cache.get_many(keys) if keys else {}
    except Exception:  # noqa: BLE001 - not checked is not "nothing left": say so
        found.append(f"cache: unreachable, {len(keys)} keys not checked")
    else:
        if held:
            found.append(f"cache: {len(held)} keys ({', '.join(sorted(held)[:5])})")
    for rule in rules():
        scanned.add(rule.model)
        scanned.update(rel.related_model for rel in cascade_children(rule.model))
        remaining = rule.rows_of(probe)
        if rule.model is AuditEvent:
            remaining = remaining.exclude(event_type="dsr_erased")
        if n := remaining.count():
            found.append(f"{rule.key}: {n} rows")
    if email:
        for model in sorted(scanned, key=lambda m: m._meta.label):
            for f in model._meta.concrete_fields:
                if isinstance(f, CharField | TextField | JSONField):
                    column = f.attname
                    hits = sum(email.lower() in str(v).lower()
                               for v in model._default_manager.exclude(**{f"{column}__isnull": True})
                               .values_list(column, flat=True).iterator())
                    if hits:
                        found.append(f"{model._meta.label}.{column}: {hits} values hold the email")
    return found


def erasure_preview(*, customer_id) -> dict[str, int]:
    """Rows an erasure would delete (or unlink), per rule and owned table; refuses a missing account."""
    customer_id = _parse_id(customer_id, "customer")
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        raise AccountsRefused("not_found", f"No account {customer_id}; nothing was erased.")
    return {label: len(ids) for label, ids in customer_row_ids(customer).items()}


def _customer_row(customer: Customer) -> dict:
    return {name: getattr(customer, name) for name in CUSTOMER_FIELDS}


def export_customer(*, customer_id, actor: str | None = None, progress: Progress | None = None) -> dict:
    """The DSR export document (JSON-ready after ``export_json``); writes a ``dsr_exported`` event."""
    customer_id = _parse_id(customer_id, "customer")
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        raise AccountsRefused("not_found", f"No account {customer_id}; nothing was exported.")
    with transaction.atomic():  # the export and its audit event together
        tables = customer_tables(customer, progress=progress)
        counts = {t["model"]: len(t["rows"]) + sum(len(o["rows"]) for o in t["owned"]) for t in tables}
        audit_log("dsr_exported", customer=customer, actor=actor,
                  data={"rows": sum(counts.values()), "tables": counts})
    ACCOUNT_OPERATIONS.labels("dsr_export").inc()
    return {"format": EXPORT_FORMAT, "version": EXPORT_VERSION, "generated_at": timezone.now(),
            "customer": _customer_row(customer), "tables": tables}


def export_json(document: dict) -> str:
    """Readable by a person (indented, sorted keys) and by a program (plain JSON, ISO-8601 Z times)."""
    return json.dumps(document, cls=DjangoJSONEncoder, indent=2, sort_keys=True, ensure_ascii=False)


# --- erasure ----------------------------------------------------------------------------

@dataclass
class ErasureResult:
    customer_id: uuid.UUID
    deleted: dict[str, int] = field(default_factory=dict)  # app.Model → rows deleted (cascades included)
    unlinked: dict[str, int] = field(default_factory=dict)  # app.Model.field → rows kept with the link nulled
    cache_keys: list[str] = field(default_factory=list)  # every cache key deleted (read before the rows went)
    seconds: float = 0.0

    @property
    def rows_deleted(self) -> int:
        return sum(self.deleted.values())


def _erase_rule(rule: CustomerDataRule, customer: Customer, result: ErasureResult) -> None:
    rows = rule.rows_of(customer)
    if rule.erase:
        _, per_model = rows.delete()
        for label, n in per_model.items():
            result.deleted[label] = result.deleted.get(label, 0) + n
    else:
        result.unlinked[rule.key] = rows.update(**{rule.attname: None})


def _forget_cached(keys: list[str]) -> None:
    """Delete the keys; the cache being down fails no erasure (it is logged, and ``leftovers`` reports it)."""
    if not keys:
        return
    try:
        cache.delete_many(keys)
    except Exception:  # noqa: BLE001
        logger.warning("dsr erase: the cache is unreachable; %s cached key(s) not deleted", len(keys))


def erase_customer(*, customer_id, actor: str | None = None,
                   progress: Callable[[str, int, int], None] | None = None) -> ErasureResult:
    """Erase everything about the customer in one transaction; refuse a missing or already-erased account."""
    customer_id = _parse_id(customer_id, "customer")
    start = time.perf_counter()
    with transaction.atomic():
        customer = lock_customers([customer_id]).get(customer_id)
        if customer is None:
            raise AccountsRefused("not_found", f"No account {customer_id}; nothing was erased.")
        erased = AuditEvent.objects.filter(customer=customer, event_type="dsr_erased").first()
        if erased is not None:
            raise AccountsRefused(
                "already_erased", f"Account {customer_id} was already erased on {erased.created_at:%Y-%m-%d %H:%M}Z; "
                                  "nothing was changed.")
        invalidate_or_refuse(customer.pk)  # the next request with its token gets 401, in every process
        result = ErasureResult(customer_id, cache_keys=cache_keys_of(customer))
        todo = rules()
        for index, rule in enumerate(todo, start=1):
            _erase_rule(rule, customer, result)
            if progress:
                progress(rule.key, index, len(todo))
        if customer.email:
            forget_tombstoned_email(customer.email)
        Customer.objects.filter(pk=customer.pk).update(email=None, tombstoned_at=customer.tombstoned_at or timezone.now())
        _forget_cached(result.cache_keys)
        audit_log("dsr_erased", customer=customer, actor=actor, data={
            "rows_deleted": result.rows_deleted, "tables": result.deleted, "unlinked": result.unlinked,
            "cache_keys": len(result.cache_keys)})
    _forget_cached(result.cache_keys)  # again once the rows are gone for others too: a render in between re-cached
    result.seconds = time.perf_counter() - start
    ACCOUNT_OPERATIONS.labels("dsr_erase").inc()
    return result
