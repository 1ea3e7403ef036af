"""One declared rule for every model that refers to a customer.

Merge, export and erasure all read this registry, so a table cannot be
forgotten by one of them: the system check in ``raxx.checks`` fails when a
model refers to a customer (a foreign key to ``Customer``, a customer UUID
column, or an email column) and has no rule here, or when a rule cannot work
(a plain re-attribution on a column that is part of a unique constraint).

Each app declares its rules in ``<app>/customer_data.py``, imported at start-up:

    register(TradeSentimentLabel, field="customer", on_merge=OnMerge.KEEP_PRIMARY_ON_CONFLICT,
             unique_with=("source_table", "trade_id"))

Rows owned by a registered row through a cascading foreign key (WCB snapshots
of a position, walkthrough paper trades of a progress row) need no rule of
their own: they follow their parent on merge, are exported under it and are
deleted with it. See ``raxx/ACCOUNTS.md`` for every rule and why.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db import models
from django.db.models import Model


class OnMerge(StrEnum):
    REATTRIBUTE = "reattribute"  # move every row to the primary
    KEEP_PRIMARY_ON_CONFLICT = "keep_primary_on_conflict"  # move; where the unique key collides, keep the primary's
    DELETE = "delete"  # the secondary's rows are dropped
    KEEP = "keep"  # rows stay with the (tombstoned) secondary


class Link(StrEnum):
    CUSTOMER = "customer"  # the field holds the customer (FK) or the customer's UUID
    EMAIL = "email"  # the field holds the customer's email address


@dataclass(frozen=True)
class CustomerDataRule:
    model: type[Model]
    field: str
    on_merge: OnMerge
    link: Link = Link.CUSTOMER
    unique_with: tuple[str, ...] = ()
    erase: bool = True  # erasure deletes the rows; False: the link is set to NULL and the row kept as evidence
    note: str = ""
    touch: tuple[str, ...] = ()  # timestamp columns set to now when rows are re-attributed (WCB's updated_at)

    @property
    def label(self) -> str:
        return self.model._meta.label

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def key(self) -> str:
        """A stable name for this rule in reports and audit events: ``app.Model.field``."""
        return f"{self.label}.{self.field}"

    @property
    def model_field(self) -> models.Field:
        return self.model._meta.get_field(self.field)

    @property
    def attname(self) -> str:
        """The model attribute holding the raw value (``customer_id`` for a foreign key)."""
        return self.model_field.attname

    @property
    def column(self) -> str:
        """The database column (``user_id`` for the journal's ``customer`` foreign key)."""
        return self.model_field.column

    def value_for(self, customer) -> object | None:
        """What this rule's column holds for ``customer`` (its id, or its email)."""
        return customer.email if self.link == Link.EMAIL else customer.pk

    def lookup(self, value) -> dict:
        """Queryset filter kwargs selecting the rows of the customer with ``value``."""
        if self.link == Link.EMAIL:
            return {f"{self.field}__iexact": value}
        return {self.attname: value}

    def rows_of(self, customer) -> models.QuerySet:
        value = self.value_for(customer)
        if value is None:  # an email link for a customer without (or no longer with) an email
            return self.model._default_manager.none()
        return self.model._default_manager.filter(**self.lookup(value))


_RULES: dict[tuple[str, str], CustomerDataRule] = {}


def register(model: type[Model], *, field: str, on_merge: OnMerge, link: Link = Link.CUSTOMER,
             unique_with: tuple[str, ...] = (), erase: bool = True, note: str = "",
             touch: tuple[str, ...] = ()) -> CustomerDataRule:
    """Declare what merge, export and erasure do with ``model.field``.

    ``unique_with``: the other columns of the unique key that holds ``field``
    (empty when ``field`` is unique by itself, e.g. a one-to-one setting).
    ``erase=False`` keeps the row on erasure with ``field`` set to NULL, so
    it must be nullable (checked by ``raxx.E003``, like the other rule
    mistakes that need not stop start-up). ``touch``: timestamp columns the
    merge sets to now on re-attributed rows (``auto_now`` columns always are),
    e.g. ``touch=("updated_at",)`` for the WCB snapshot (revision §4.2).
    """
    model_field = model._meta.get_field(field)  # fail at start-up on a typo
    for name in (*unique_with, *touch):
        model._meta.get_field(name)
    if on_merge == OnMerge.KEEP_PRIMARY_ON_CONFLICT and not unique_with and not model_field.unique:
        raise ValueError(f"{model._meta.label}: keep_primary_on_conflict needs unique_with "
                         f"(or {field} must be unique by itself)")
    rule = CustomerDataRule(model, field, OnMerge(on_merge), Link(link), tuple(unique_with), erase, note,
                            tuple(touch))
    _RULES[(model._meta.label, field)] = rule
    return rule


def unregister(model: type[Model], field: str) -> CustomerDataRule | None:
    """Remove a rule (tests use it to prove the system check notices)."""
    return _RULES.pop((model._meta.label, field), None)


def rules() -> list[CustomerDataRule]:
    """Every rule, in a stable order (by table, then field): the order merge and erasure run in."""
    return sorted(_RULES.values(), key=lambda r: (r.table, r.field))


def rule_for(model: type[Model], field: str) -> CustomerDataRule | None:
    return _RULES.get((model._meta.label, field))


def cascade_children(model: type[Model]) -> list[models.ForeignObjectRel]:
    """Reverse relations whose rows are deleted with a ``model`` row (ON DELETE CASCADE)
    and that have no customer rule of their own: the rows owned through the parent."""
    children = []
    for rel in model._meta.related_objects:
        if rel.on_delete is not models.CASCADE or rel.related_model is model:
            continue
        if any(r.model is rel.related_model for r in _RULES.values()):
            continue  # it has its own rule: it is handled as a table of its own
        children.append(rel)
    return children


# --- cached data about a customer (CONTRACTS §10: erasure leaves nothing in the cache) ---------

CacheKeys = Callable[[Any], Iterable[str]]
_CACHE_KEYS: dict[str, CacheKeys] = {}


def register_cache_keys(name: str, keys_of: CacheKeys) -> None:
    """Declare the cache keys an app may hold about a customer: ``keys_of(customer) → keys``.

    Called with the customer while its rows still exist (erasure reads it before
    deleting anything); the keys must be enumerable from the rows and the clock,
    never a pattern scan. Erasure deletes them and ``dsr.leftovers`` checks them.
    """
    _CACHE_KEYS[name] = keys_of


def cache_keys_of(customer) -> list[str]:
    """Every cache key any app may hold about ``customer`` (sorted, no duplicates)."""
    keys: set[str] = set()
    for keys_of in _CACHE_KEYS.values():
        keys.update(keys_of(customer))
    return sorted(keys)
