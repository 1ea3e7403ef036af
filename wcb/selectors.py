"""WCB reads: the render body of design §7.3, with the trajectory cache of §6."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from raxx.errors import ApplicationError
from raxx.metrics import cache_read
from raxx.models import Customer
from raxx.sql import column_converters, converted

from . import calendar as nyse
from . import market_data
from .compute import PositionInput, compute, horizon_session_for
from .models import HORIZON_EOD, HORIZON_EOM, ClosedPosition, WcbSnapshot, WcbTierObservation

logger = logging.getLogger(__name__)

POSITION_NOT_FOUND = "position_not_found"
WCB_NOT_AVAILABLE = "wcb_not_available"
MARKET_DATA_UNAVAILABLE = "market_data_unavailable"
IN_PROGRESS_TTL = 3600  # design §6.1: 1 h while the horizon is open; finalized: no expiry

HORIZON_PARAM = {"eod": HORIZON_EOD, "eom": HORIZON_EOM}
SPINOFF_NOTE = "A corporate spinoff occurred during this window. Tracking reflected the original security only."

_SNAPSHOT_FIELDS = ("symbol", "asset_type", "tracking_horizon", "close_timestamp_utc", "close_price", "cost_basis",
                    "position_size_signed", "close_commission", "multiplier", "actual_pnl", "horizon_reached",
                    "horizon_timestamp_utc", "horizon_price", "would_have_pnl", "delta_pnl", "dividends_in_window",
                    "split_ratio_applied", "spinoff_detected", "data_source")
_HORIZON_FIELDS = ("horizon_reached", "horizon_timestamp_utc", "horizon_price", "would_have_pnl", "delta_pnl",
                   "dividends_in_window", "split_ratio_applied", "spinoff_detected", "data_source")


def utc_z(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(dt_timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=None)
def _quantum(field_name: str) -> Decimal:
    return Decimal(1).scaleb(-WcbSnapshot._meta.get_field(field_name).decimal_places)


def decimal_string(value: Decimal | None, field_name: str) -> str | None:
    """NUMERIC precision kept: a value of a NUMERIC(12,6) column is '182.340000'."""
    if value is None:
        return None
    try:
        value = Decimal(value).quantize(_quantum(field_name))
        return f"{abs(value) if value == 0 else value:f}"  # never "-0.000000"
    except InvalidOperation:  # a computed (never stored) value too wide to quantize: show it as it is
        return f"{Decimal(value):f}"


@dataclass(frozen=True)
class RenderRow:
    """What one render reads, in one query: the caller's position's snapshot and their tier sighting."""

    snapshot: WcbSnapshot | None  # None: the position has no snapshot (closed on free, pruned)
    sighting: dict | None  # wcb_tier_observations' row for the caller ({free_since, last_paid_seen_at}), or None


_SIGHTING_FIELDS = ("free_since", "last_paid_seen_at")


@lru_cache(maxsize=4)
def _render_sql(vendor: str) -> tuple[str, tuple]:
    """The render's one query, and each column's converters (the ORM's own, applied without the ORM)."""
    qn = connection.ops.quote_name
    columns = [("s", f) for f in WcbSnapshot._meta.concrete_fields] + \
        [("o", WcbTierObservation._meta.get_field(name)) for name in _SIGHTING_FIELDS]
    sql = (f"SELECT p.id, o.customer_id IS NOT NULL, {', '.join(f'{a}.{qn(f.column)}' for a, f in columns)} "
           f"FROM {qn(ClosedPosition._meta.db_table)} p "
           f"LEFT JOIN {qn(WcbSnapshot._meta.db_table)} s ON s.position_id = p.id "
           f"LEFT JOIN {qn(WcbTierObservation._meta.db_table)} o ON o.customer_id = p.customer_id "
           "WHERE p.id = %s AND p.customer_id = %s")
    # a foreign key reads as its target (a UUID here)
    return sql, column_converters([field.get_col(alias) for alias, field in columns], connection)


def render_row(*, customer: Customer, position_id: str) -> RenderRow:
    """The caller's position's snapshot, and their tier sighting, in one query.

    Ownership is part of the query: another customer's position looks absent (404
    ``position_not_found``, not 403). The sighting rides along (the caller's own row,
    joined), so a cached render costs this one query.
    """
    try:
        pid = uuid.UUID(str(position_id))
    except ValueError:
        raise ApplicationError(POSITION_NOT_FOUND, status_code=404)
    sql, converters = _render_sql(connection.vendor)
    uuid_field = WcbSnapshot._meta.pk
    with connection.cursor() as cursor:
        cursor.execute(sql, [uuid_field.get_db_prep_value(pid, connection),
                             uuid_field.get_db_prep_value(customer.pk, connection)])
        row = cursor.fetchone()
    if row is None:
        raise ApplicationError(POSITION_NOT_FOUND, status_code=404)
    seen, values = row[1], converted(row[2:], converters, connection)
    fields = WcbSnapshot._meta.concrete_fields
    sighting = dict(zip(_SIGHTING_FIELDS, values[len(fields):])) if seen else None
    if values[0] is None:  # the LEFT JOIN found no snapshot
        return RenderRow(None, sighting)
    snapshot = WcbSnapshot.from_db(connection.alias, [f.attname for f in fields], values[:len(fields)])
    return RenderRow(snapshot, sighting)


def _input(snapshot: WcbSnapshot, horizon: str) -> PositionInput:
    return PositionInput(
        symbol=snapshot.symbol, asset_type=snapshot.asset_type, quantity=snapshot.position_size_signed,
        cost_basis=snapshot.cost_basis, close_price=snapshot.close_price, close_commission=snapshot.close_commission,
        multiplier=snapshot.multiplier, closed_at=snapshot.close_timestamp_utc, horizon=horizon)


def trajectory_payload(snapshot: WcbSnapshot, horizon: str, now: datetime) -> dict:
    """Recompute the trajectory (and horizon values) from market data.

    Raises ``MarketDataUnavailable`` when the provider is down. Only the
    sessions that had closed by ``now`` are asked for; before the first one
    closes there is nothing to fetch.
    """
    p = _input(snapshot, horizon)
    first, horizon_session, horizon_close = horizon_session_for(p)
    if horizon == snapshot.tracking_horizon and snapshot.horizon_reached:
        # A finalized row shows its whole window, even when the job that finalized it
        # ran with an --as-of ahead of this server's clock (the values are final).
        now = max(now, horizon_close)
    last_done = nyse.last_completed_session(now)
    if last_done is None or last_done < first:
        data = market_data.MarketData(symbol=snapshot.symbol, bars=(), actions=(), source="none")
    else:
        # design §5.2: never Alpha Vantage on the render path (its 25-calls/day quota is the jobs')
        data = market_data.get_market_data(snapshot.symbol, first, min(horizon_session, last_done), fallback=False)
    result = compute(p, data, as_of=now)
    return {
        "trajectory": [[d.isoformat(), float(v) + 0.0] for d, v in result.trajectory],  # + 0.0: no -0.0
        "tracking_days": len(result.trajectory),
        "near_eom_note": getattr(result, "near_eom_note", None),
        "options_caveat": result.options_caveat,
        "spinoff_note": getattr(result, "spinoff_note", None) or (SPINOFF_NOTE if result.spinoff_detected else None),
        "data_as_of_utc": utc_z(getattr(result, "data_as_of_utc", None)),
        "notes": list(result.notes),
        "horizon": {
            "horizon_reached": result.horizon_reached,
            "horizon_timestamp_utc": result.horizon_timestamp_utc if result.horizon_reached else None,
            "horizon_price": result.horizon_price if result.horizon_reached else None,
            "would_have_pnl": result.would_have_pnl if result.horizon_reached else None,
            "delta_pnl": result.delta_pnl if result.horizon_reached else None,
            "dividends_in_window": result.dividends_in_window,
            "split_ratio_applied": result.split_ratio_applied,
            "spinoff_detected": result.spinoff_detected,
            "data_source": result.data_source,
        },
    }


def _now() -> datetime:
    return timezone.now()


def _cache_get(key: str):
    """A miss when the cache is down (django-redis IGNORE_EXCEPTIONS does this too; belt and braces)."""
    try:
        value = cache.get(key)
    except Exception:
        logger.warning("wcb render: trajectory cache unreachable; recomputing")
        value = None
    cache_read("wcb_trajectory", value is not None)
    return value


def _cache_get_first(*keys: str):
    """The value of the first key the cache holds (one round trip), as ``_cache_get``."""
    try:
        found = cache.get_many(keys)
    except Exception:
        logger.warning("wcb render: trajectory cache unreachable; recomputing")
        found = {}
    value = next((found[key] for key in keys if found.get(key) is not None), None)
    cache_read("wcb_trajectory", value is not None)
    return value


def _cache_set(key: str, value, timeout) -> None:
    try:
        cache.set(key, value, timeout)
    except Exception:
        logger.warning("wcb render: trajectory cache unreachable; result not cached")


def trajectory_cache_key(position_id, day, horizon: str | None = None) -> str:
    """An in-progress trajectory: one key per day it is viewed on (kept ``IN_PROGRESS_TTL``).

    ``day=None``: the finalized trajectory, one key per position (and horizon asked
    for), kept without expiry: its values never change, whatever day it is viewed on.
    """
    key = f"wcb_trajectory:{position_id}:{'final' if day is None else day.isoformat()}"
    return f"{key}:{horizon}" if horizon else key


def trajectory_cache_keys_of_render(position_id: str, now: datetime | None = None) -> list[str]:
    """The keys a render of the position's own horizon reads (final, or today's), for a
    position id as the URL spells it; none unless it is a UUID's canonical spelling."""
    try:
        canonical = str(uuid.UUID(position_id)) == position_id
    except (ValueError, TypeError, AttributeError):
        canonical = False
    return [trajectory_cache_key(position_id, day) for day in (None, (now or _now()).date())] if canonical else []


def trajectory_cache_keys(position_ids, now: datetime | None = None) -> list[str]:
    """Every key a render may have cached for these positions that can still be live.

    Finalized: one per position and horizon. In progress: the key of the render's
    day, kept for an hour, so only today's and yesterday's (UTC) can remain.
    """
    today = (now or timezone.now()).date()
    days = (None, today, today - timedelta(days=1))
    return [trajectory_cache_key(pid, day, horizon)
            for pid in position_ids for day in days for horizon in (None, HORIZON_EOD, HORIZON_EOM)]


def forget_trajectories(position_ids) -> int:
    """Delete every cached trajectory of these positions (best effort: a cache outage is logged)."""
    keys = trajectory_cache_keys(position_ids)
    if not keys:
        return 0
    try:
        cache.delete_many(keys)
    except Exception:  # the cache is an accelerator; its outage fails no erasure or job
        logger.warning("wcb: trajectory cache unreachable; %s key(s) not cleared", len(keys))
    return len(keys)


def wcb_render(*, snapshot: WcbSnapshot, horizon: str | None, tier: str | None, now: datetime | None = None,
               cached: dict | None = None) -> dict:
    """The §7.3 body for one of the customer's positions (its snapshot from :func:`render_row`).

    ``horizon`` is a stored value (``close_of_market_only``/``monthly``) or None
    for the snapshot's own. Tier checks are the caller's; a ``pro`` caller whose
    snapshot tracks monthly (recorded while pro_plus) is shown close of market.
    Snapshot fields mirror the row; asked for the other horizon, the horizon
    fields are computed for that horizon instead (never stored). ``cached``: cache keys
    already read in this request (key -> value or None), not read again.
    """
    now = now or _now()
    if horizon is None:
        horizon = snapshot.tracking_horizon
        if horizon == HORIZON_EOM and tier != "pro_plus":
            horizon = HORIZON_EOD
    own = horizon == snapshot.tracking_horizon
    variant = None if own else horizon
    final_key = trajectory_cache_key(snapshot.position_id, None, variant)
    day_key = trajectory_cache_key(snapshot.position_id, now.date(), variant)
    if own:  # the row says whether it is final
        key = final_key if snapshot.horizon_reached else day_key
        if cached is not None and key in cached:
            payload = cached[key]
            cache_read("wcb_trajectory", payload is not None)
        else:
            payload = _cache_get(key)
    else:  # only the computation says whether the other horizon is reached: look under both keys
        payload = _cache_get_first(final_key, day_key)
    if payload is None:
        try:
            payload = trajectory_payload(snapshot, horizon, now)
        except market_data.MarketDataUnavailable:
            logger.warning("wcb render: market data unavailable for %s and nothing cached", snapshot.symbol)
            raise ApplicationError(MARKET_DATA_UNAVAILABLE, status_code=503)
        except ArithmeticError:  # prices the Decimal context cannot carry (e.g. 1e30): unusable data
            logger.exception("wcb render: market data for %s could not be used", snapshot.symbol)
            raise ApplicationError(MARKET_DATA_UNAVAILABLE, status_code=503)
        except ValueError:  # a row the calendar cannot place (e.g. outside its range): nothing to show
            logger.exception("wcb render: snapshot %s could not be computed", snapshot.pk)
            raise ApplicationError(WCB_NOT_AVAILABLE, status_code=404)
        final = snapshot.horizon_reached if own else payload["horizon"]["horizon_reached"]
        _cache_set(final_key if final else day_key, payload, None if final else IN_PROGRESS_TTL)
    return _body(snapshot, horizon, own, payload)


def _body(snapshot: WcbSnapshot, horizon: str, own: bool, payload: dict) -> dict:
    values = {name: getattr(snapshot, name) for name in _SNAPSHOT_FIELDS}
    if not own:
        values.update(payload["horizon"])
        values["tracking_horizon"] = horizon
    snapshot_body = {
        "position_id": str(snapshot.position_id),
        "symbol": values["symbol"],
        "asset_type": values["asset_type"],
        "tracking_horizon": values["tracking_horizon"],
        "close_timestamp_utc": utc_z(values["close_timestamp_utc"]),
        "close_price": decimal_string(values["close_price"], "close_price"),
        "cost_basis": decimal_string(values["cost_basis"], "cost_basis"),
        "position_size_signed": decimal_string(values["position_size_signed"], "position_size_signed"),
        "close_commission": decimal_string(values["close_commission"], "close_commission"),
        "multiplier": values["multiplier"],
        "actual_pnl": decimal_string(values["actual_pnl"], "actual_pnl"),
        "horizon_reached": bool(values["horizon_reached"]),
        "horizon_timestamp_utc": utc_z(values["horizon_timestamp_utc"]),
        "horizon_price": decimal_string(values["horizon_price"], "horizon_price"),
        "would_have_pnl": decimal_string(values["would_have_pnl"], "would_have_pnl"),
        "delta_pnl": decimal_string(values["delta_pnl"], "delta_pnl"),
        "dividends_in_window": decimal_string(values["dividends_in_window"], "dividends_in_window"),
        "split_ratio_applied": decimal_string(values["split_ratio_applied"], "split_ratio_applied"),
        "spinoff_detected": bool(values["spinoff_detected"]),
        "data_source": values["data_source"],
    }
    return {
        "snapshot": snapshot_body,
        "trajectory": payload["trajectory"],
        "metadata": {
            "horizon_reached": snapshot_body["horizon_reached"],
            "tracking_days": payload["tracking_days"],
            "near_eom_note": payload["near_eom_note"] if horizon == HORIZON_EOM else None,
            "options_caveat": payload["options_caveat"],
            "spinoff_note": payload["spinoff_note"] or (SPINOFF_NOTE if snapshot_body["spinoff_detected"] else None),
            "data_as_of_utc": payload["data_as_of_utc"],
        },
    }

