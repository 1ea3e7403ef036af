"""WCB writes: closing a position, the horizon setting, tier sightings, retention."""

import logging
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from raxx.audit import audit_log
from raxx.errors import INVALID_REQUEST, ApplicationError
from raxx.models import Customer

from .models import HORIZON_EOD, HORIZON_EOM, AssetType, ClosedPosition, WcbSetting, WcbSnapshot, WcbTierObservation
from .selectors import forget_trajectories

logger = logging.getLogger(__name__)

PAID_TIERS = ("pro", "pro_plus")
TIER_HORIZONS = {"pro": (HORIZON_EOD,), "pro_plus": (HORIZON_EOD, HORIZON_EOM)}
RETENTION_AFTER_DOWNGRADE = timedelta(days=90)
# NUMERIC(14,6) P&L columns hold |x| < 1e8; keep the notional an order of magnitude
# below so a would-have P&L after a 10× move still fits (design §3.1 precisions).
MAX_NOTIONAL = Decimal(10) ** 7


def position_bounds_error(*, quantity: Decimal, multiplier: int, cost_basis: Decimal, close_price: Decimal) -> str | None:
    """Why these numbers cannot be stored in the §3.1 columns, or None."""
    if quantity == 0:
        return "quantity must not be zero"
    if multiplier < 1:
        return "multiplier must be at least 1"
    if cost_basis <= 0 or close_price <= 0:
        return "prices must be greater than zero"
    if abs(quantity) * multiplier * max(cost_basis, close_price) >= MAX_NOTIONAL:
        return f"position too large: |quantity| × multiplier × price must stay below {MAX_NOTIONAL:,}"
    return None


def horizon_for_new_snapshot(*, customer: Customer, tier: str) -> str:
    """The caller's setting, limited to what the tier allows (pro: close of market only)."""
    setting = WcbSetting.objects.filter(customer=customer).values_list("tracking_horizon", flat=True).first()
    horizon = setting or HORIZON_EOD
    return horizon if horizon in TIER_HORIZONS.get(tier, ()) else HORIZON_EOD


@transaction.atomic
def closed_position_record(*, customer: Customer, tier: str | None, symbol: str, asset_type: str,
                           quantity: Decimal, cost_basis: Decimal, close_price: Decimal,
                           close_commission: Decimal = Decimal(0), multiplier: int = 1,
                           closed_at: datetime | None = None) -> ClosedPosition:
    """Record a closed position and, for pro/pro_plus, its WCB snapshot — one transaction.

    The tier comes from the caller's current token (never a stored value);
    free or tier-less callers get the position only. ``position.wcb_tracking``
    says whether a snapshot was written.
    """
    from .compute import PositionInput, actual_pnl

    closed_at = closed_at or timezone.now()
    if timezone.is_naive(closed_at):  # the calendar needs an aware moment; naive means UTC here
        closed_at = closed_at.replace(tzinfo=dt_timezone.utc)
    symbol = symbol.strip().upper()
    quantity, cost_basis, close_price = Decimal(quantity), Decimal(cost_basis), Decimal(close_price)
    close_commission = Decimal(close_commission)
    problem = position_bounds_error(quantity=quantity, multiplier=multiplier, cost_basis=cost_basis,
                                    close_price=close_price)
    if asset_type not in AssetType.values:
        problem = f"asset_type must be one of {', '.join(AssetType.values)}"
    if problem:
        raise ApplicationError(INVALID_REQUEST, {"non_field_errors": [problem]}, status_code=400)
    position = ClosedPosition.objects.create(
        customer=customer, symbol=symbol, asset_type=asset_type, quantity=quantity, cost_basis=cost_basis,
        close_price=close_price, close_commission=close_commission, multiplier=multiplier, closed_at=closed_at)
    position.wcb_tracking = tier in PAID_TIERS
    position.tracking_horizon = None
    if position.wcb_tracking:
        horizon = horizon_for_new_snapshot(customer=customer, tier=tier)
        pnl = actual_pnl(PositionInput(
            symbol=symbol, asset_type=asset_type, quantity=quantity, cost_basis=cost_basis, close_price=close_price,
            close_commission=close_commission, multiplier=multiplier, closed_at=closed_at, horizon=horizon))
        WcbSnapshot.objects.create(
            position=position, user_id=customer.id, symbol=symbol, tracking_horizon=horizon,
            close_timestamp_utc=closed_at, close_price=close_price, cost_basis=cost_basis,
            position_size_signed=quantity, close_commission=close_commission, multiplier=multiplier,
            asset_type=asset_type, actual_pnl=pnl)
        position.tracking_horizon = horizon
    wcb_tier_observe(customer=customer, tier=tier)
    return position


def wcb_setting_get(*, customer: Customer) -> str:
    value = WcbSetting.objects.filter(customer=customer).values_list("tracking_horizon", flat=True).first()
    return value or HORIZON_EOD


@transaction.atomic
def wcb_setting_update(*, customer: Customer, tracking_horizon: str) -> str:
    """Store the horizon and audit the change (design §7.5). Tier rules are the caller's."""
    now = timezone.now()
    # FOR UPDATE: two concurrent PATCHes audit a consistent old → new chain.
    old = WcbSetting.objects.select_for_update().filter(customer=customer).values_list(
        "tracking_horizon", flat=True).first()
    created = False
    if old is None:
        try:
            with transaction.atomic():
                WcbSetting.objects.create(customer=customer, tracking_horizon=tracking_horizon, updated_at=now)
                created = True
        except IntegrityError:  # a concurrent first PATCH created the row: update it below
            pass
    if not created:
        WcbSetting.objects.filter(customer=customer).update(tracking_horizon=tracking_horizon, updated_at=now)
    audit_log("wcb_setting_changed", customer=customer, data={
        "user_id": str(customer.id), "old_value": old or HORIZON_EOD, "new_value": tracking_horizon,
        "changed_at_utc": now.strftime("%Y-%m-%dT%H:%M:%SZ")})
    return tracking_horizon


UNREAD = object()  # wcb_tier_observe(seen=...) not given: the service reads the row itself


def wcb_tier_observe(*, customer: Customer, tier: str | None, seen=UNREAD) -> None:
    """Remember when this customer was last seen paid, and since when free.

    One SELECT on the hot path (none when the caller read the row in its own query and
    passes it as ``seen``: ``{"free_since", "last_paid_seen_at"}``, or None for no row);
    a write only when the picture changed (first sighting, a switch between paid and free,
    or a day-old paid sighting).
    """
    now = timezone.now()
    paid = tier in PAID_TIERS
    if seen is UNREAD:
        seen = WcbTierObservation.objects.filter(customer=customer).values("free_since", "last_paid_seen_at").first()
    if seen is None:
        try:
            with transaction.atomic():
                WcbTierObservation.objects.create(customer=customer, last_paid_seen_at=now if paid else None,
                                                  free_since=None if paid else now)
        except IntegrityError:  # a concurrent request recorded the first sighting
            pass
        return
    if paid and (seen["free_since"] is not None or seen["last_paid_seen_at"] is None
                 or seen["last_paid_seen_at"] < now - timedelta(days=1)):
        WcbTierObservation.objects.filter(customer=customer).update(free_since=None, last_paid_seen_at=now)
    elif not paid and seen["free_since"] is None:
        WcbTierObservation.objects.filter(customer=customer, free_since__isnull=True).update(free_since=now)


def wcb_retention_prune(*, now: datetime | None = None) -> int:
    """Delete snapshots of customers seen only as free for 90 days (revision §13.3).

    Closed positions themselves are kept: they are the customer's trade
    history, not WCB data. Returns the number of snapshots deleted.
    """
    now = now or timezone.now()
    downgraded = WcbTierObservation.objects.filter(free_since__lte=now - RETENTION_AFTER_DOWNGRADE).values("customer_id")
    doomed = WcbSnapshot.objects.filter(user_id__in=downgraded)
    positions = list(doomed.values_list("position_id", flat=True))
    deleted, _ = doomed.delete()
    # CONTRACTS §10: nothing of a pruned snapshot stays in the cache either (its trajectories).
    # The positions themselves stay, so the keys are derived from them, after the rows are gone.
    forget_trajectories(positions)
    logger.info("wcb retention prune: %s snapshot(s) deleted", deleted)
    return deleted


# The journal's seam comment (journal/services.py, paper-order close) names this
# ``position_close``; same function, same keyword-only signature.
position_close = closed_position_record
