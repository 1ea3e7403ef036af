from raxx.customer_data import Link, OnMerge, register

from .models import Draft, Label, Order, Position, Progress, Receipt, Setting, Snapshot

register(Order, field="customer", on_merge=OnMerge.REATTRIBUTE)
register(Label, field="customer", on_merge=OnMerge.KEEP_PRIMARY_ON_CONFLICT, unique_with=("source_table", "trade_id"))
register(Position, field="customer", on_merge=OnMerge.REATTRIBUTE)
register(Snapshot, field="user_id", on_merge=OnMerge.REATTRIBUTE, touch=("updated_at",))
register(Setting, field="customer", on_merge=OnMerge.KEEP_PRIMARY_ON_CONFLICT)
register(Progress, field="tester_email", link=Link.EMAIL, on_merge=OnMerge.KEEP_PRIMARY_ON_CONFLICT,
         unique_with=("program",))
register(Draft, field="customer", on_merge=OnMerge.DELETE)
register(Receipt, field="customer", on_merge=OnMerge.KEEP, erase=False,
         note="Bookkeeping evidence: kept, unlinked from the customer, on erasure.")
