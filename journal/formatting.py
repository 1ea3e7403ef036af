"""Output shapes shared by the API, the admin and the demo: plain dicts, no ModelSerializer.

Money is a decimal string, timestamps are ISO-8601 UTC with ``Z``. Every sentence
built here describes what occurred, in the past tense.
"""

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def iso_z(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def decimal_str(value: Decimal | None) -> str | None:
    """Exact value, trailing zeros dropped, at least two places for money."""
    if value is None:
        return None
    text = format(Decimal(value).normalize(), "f")
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def quantity_str(value: Decimal) -> str:
    return format(Decimal(value).normalize(), "f")


def cents(value: Decimal | None) -> str | None:
    return None if value is None else str(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP))


def order_dict(order) -> dict:
    return {
        "id": order.id,
        "symbol": order.symbol,
        "side": order.side,
        "quantity": quantity_str(order.quantity),
        "entry_price": decimal_str(order.entry_price),
        "exit_price": decimal_str(order.exit_price),
        "strategy_type": order.strategy_type,
        "status": order.status,
        "opened_at": iso_z(order.opened_at),
        "closed_at": iso_z(order.closed_at),
        "realized_pnl": decimal_str(order.realized_pnl),
        "position_id": str(order.closed_position_id) if order.closed_position_id else None,
    }


def label_dict(label) -> dict:
    """Design §4.1: the create shape. Never the note text, only whether one exists."""
    return {
        "id": label.id,
        "trade_id": label.trade_id,
        "pre_label": label.pre_label,
        "pre_label_recorded_at": iso_z(label.pre_label_recorded_at),
        "post_label": label.post_label,
        "post_label_locked_at": iso_z(label.locked_at()),
        "journal_note_present": bool(label.journal_note),
        "taxonomy_version": label.taxonomy_version_id,
        "created_at": iso_z(label.created_at),
    }


def label_detail_dict(label) -> dict:
    """Design §4.3: the single-record shape, the only one carrying the note text."""
    return {
        "id": label.id,
        "trade_id": label.trade_id,
        "source_table": label.source_table,
        "pre_label": label.pre_label,
        "pre_label_recorded_at": iso_z(label.pre_label_recorded_at),
        "post_label": label.post_label,
        "post_label_recorded_at": iso_z(label.post_label_recorded_at),
        "post_label_locked_at": iso_z(label.locked_at()),
        "journal_note": label.journal_note,
        "taxonomy_version": label.taxonomy_version_id,
        "created_at": iso_z(label.created_at),
        "updated_at": iso_z(label.updated_at),
    }


def trade_summary(*, side: str, quantity, symbol: str, entry_price, exit_price, realized_pnl,
                  pre_label: str, post_label: str | None) -> str:
    """One past-tense sentence about a trade and the labels its owner recorded."""
    verb = "Bought" if side == "buy" else "Sold"
    parts = [f"{verb} {quantity_str(quantity)} {symbol} at {decimal_str(entry_price)}"]
    if realized_pnl is None:
        parts.append("the position was still open when this view was generated")
    else:
        parts.append(f"closed at {decimal_str(exit_price)} with a realized P&L of {cents(realized_pnl)}")
    text = "; ".join(parts) + f". Pre-trade setup recorded as {pre_label}"
    if post_label:
        text += f"; post-trade label recorded as {post_label}"
    else:
        text += "; no post-trade label was recorded"
    return text + "."
