"""Merge / export / erase rules for WCB tables (CONTRACTS §6, revision §4).

- ``closed_positions.customer`` and ``closed_position_wcb_snapshots.user_id``:
  re-attributed to the primary on merge (revision §4.2: no WCB row is deleted
  in a merge; in-progress rows keep being finalized, §4.4 — the jobs never
  filter by customer). Erasure deletes positions, and snapshots by cascade.
- ``wcb_settings``: one row per customer. On merge the primary keeps its own
  choice and the secondary's row is dropped (it was the other account
  holder's preference); with no row the primary has the default.
- ``wcb_tier_observations``: only feeds retention for the account it was seen
  on; the secondary's is dropped, the primary's own sightings govern.
- Cache (CONTRACTS §10): the trajectories cached for the customer's positions
  (keys by position id, so a merge keeps them valid); erasure deletes them and
  ``dsr.leftovers`` checks them.
"""

from raxx.customer_data import OnMerge, register, register_cache_keys

from .models import ClosedPosition, WcbSetting, WcbSnapshot, WcbTierObservation
from .selectors import trajectory_cache_keys

register(ClosedPosition, field="customer", on_merge=OnMerge.REATTRIBUTE,
         note="Closed positions follow the surviving primary account.")
register(WcbSnapshot, field="user_id", on_merge=OnMerge.REATTRIBUTE, touch=("updated_at",),
         note="Revision §4.2: SET user_id = :primary, updated_at = NOW(); none deleted in a merge.")
register(WcbSetting, field="customer", on_merge=OnMerge.DELETE,
         note="The primary keeps its own horizon setting; the secondary's is dropped.")
register(WcbTierObservation, field="customer", on_merge=OnMerge.DELETE,
         note="Retention bookkeeping for the account it was seen on only.")


def _trajectory_keys(customer) -> list[str]:
    positions = set(ClosedPosition.objects.filter(customer=customer).values_list("pk", flat=True))
    positions.update(WcbSnapshot.objects.filter(user_id=customer.pk).values_list("position_id", flat=True))
    return trajectory_cache_keys(sorted(positions, key=str))


register_cache_keys("wcb_trajectory", _trajectory_keys)
