"""One declared rule for every model that refers to a customer.

Merge, export and erasure all read this registry, so a table cannot be
forgotten by one of them: the system check in ``raxx.checks`` fails when a
model refers to a customer (a foreign key to ``Customer``, a customer UUID
column, or an email column) and has no rule here.

Each app declares its rules in ``<app>/customer_data.py``, imported at start-up:

    register(TradeSentimentLabel, field="customer", on_merge=OnMerge.KEEP_PRIMARY_ON_CONFLICT,
             unique_with=("source_table", "trade_id"))
"""

from dataclasses import dataclass
from enum import StrEnum

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
    erase: bool = True  # erasure deletes the rows (False only for evidence kept without PII)
    note: str = ""

    @property
    def label(self) -> str:
        return self.model._meta.label

    @property
    def table(self) -> str:
        return self.model._meta.db_table


_RULES: dict[tuple[str, str], CustomerDataRule] = {}


def register(model: type[Model], *, field: str, on_merge: OnMerge, link: Link = Link.CUSTOMER,
             unique_with: tuple[str, ...] = (), erase: bool = True, note: str = "") -> CustomerDataRule:
    model._meta.get_field(field)  # fail at start-up on a typo
    if on_merge == OnMerge.KEEP_PRIMARY_ON_CONFLICT and not unique_with:
        raise ValueError(f"{model._meta.label}: keep_primary_on_conflict needs unique_with")
    rule = CustomerDataRule(model, field, OnMerge(on_merge), Link(link), tuple(unique_with), erase, note)
    _RULES[(model._meta.label, field)] = rule
    return rule


def rules() -> list[CustomerDataRule]:
    return list(_RULES.values())


def rule_for(model: type[Model], field: str) -> CustomerDataRule | None:
    return _RULES.get((model._meta.label, field))
