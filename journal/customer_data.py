"""Merge, export and erasure rules for the journal's customer-owned tables.

Both tables belong to the customer and are erased with them. On a merge the
secondary's orders move to the primary, and so do their labels. A label is
unique per (customer, source_table, trade_id); trade ids are global, so the
moved labels cannot collide with the primary's — ``keep_primary_on_conflict``
states the rule anyway, so a source table added later with per-customer trade ids
stays safe (the primary's label wins, the secondary's duplicate is deleted).
Locked labels stay read-only: the database trigger lets a merge change only
their ``user_id`` (see migrations/0003).
"""

from raxx.customer_data import OnMerge, register

from .models import PaperOrder, TradeSentimentLabel

register(PaperOrder, field="customer", on_merge=OnMerge.REATTRIBUTE,
         note="The customer's paper trades; exported with prices and P&L.")
register(TradeSentimentLabel, field="customer", on_merge=OnMerge.KEEP_PRIMARY_ON_CONFLICT,
         unique_with=("source_table", "trade_id"),
         note="Self-asserted trade labels and journal notes; erased with the customer (design §3.4).")
