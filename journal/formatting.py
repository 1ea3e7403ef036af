"""Output shapes shared by the API, the admin and the demo: plain dicts, no ModelSerializer.

Money is a decimal string, timestamps are ISO-8601 UTC with ``Z``. Every sentence
built here describes what occurred, in the past tense.
"""

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from raxx.openapi import (BOOLEAN, CENTS, DATE, DATE_TIME, DECIMAL, INTEGER, NUMBER, STRING, UUID, array, component,
                          enum, nullable, obj)

from .models import POST_LABELS, PRE_LABELS, SOURCE_TABLES

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


# --- The same rules in PostgreSQL, for a statement that returns the display text itself ---
# (the sentiment filter's page: formatting 100 rows in Python cost more than reading them).
# Each takes a column expression and yields the text its Python twin above gives for the value
# the ORM would load, NULL for NULL; journal/tests/test_formatting_sql.py checks each pair agrees.
# Python's decimal context keeps 28 significant digits and SQL stays exact: the pairs agree on
# the journal's columns (decimal_str on numeric(20, 6), cents on numeric(34, 12): ≤ 25 digits).
# PostgreSQL's numeric has no negative zero, so only cents() can produce one (a tiny loss).

def iso_z_sql(column: str) -> str:
    return f"""replace(to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), '.000000Z', 'Z')"""


def decimal_str_sql(column: str) -> str:
    return f"CASE WHEN scale(trim_scale({column})) < 2 THEN round({column}, 2)::text ELSE trim_scale({column})::text END"


def quantity_str_sql(column: str) -> str:
    return f"trim_scale({column})::text"


def cents_sql(column: str) -> str:
    return f"CASE WHEN {column} < 0 AND round({column}, 2) = 0 THEN '-0.00' ELSE round({column}, 2)::text END"


def trade_summary_sql(*, side: str, quantity: str, symbol: str, entry_price: str, exit_price: str,
                      realized_pnl: str, pre_label: str, post_label: str) -> str:
    """:func:`trade_summary` (the arguments are column expressions). A closed order always has an
    exit price, but the CHECK constraint lets a NULL through (NULL > 0 is unknown), so a NULL one
    reads as Python prints it rather than turning the whole sentence NULL."""
    return (f"CASE {side} WHEN 'buy' THEN 'Bought ' ELSE 'Sold ' END || {quantity_str_sql(quantity)} || ' ' "
            f"|| {symbol} || ' at ' || {decimal_str_sql(entry_price)} "
            f"|| CASE WHEN {realized_pnl} IS NULL THEN '; the position was still open when this view was generated' "
            f"ELSE '; closed at ' || coalesce({decimal_str_sql(exit_price)}, 'None') || ' with a realized P&L of ' "
            f"|| {cents_sql(realized_pnl)} END "
            f"|| '. Pre-trade setup recorded as ' || {pre_label} "
            f"|| CASE WHEN coalesce({post_label}, '') <> '' THEN '; post-trade label recorded as ' || {post_label} "
            f"ELSE '; no post-trade label was recorded' END || '.'")


# --- The shapes above, as the OpenAPI schema publishes them (checked on every test response) ---
PRE_LABEL = enum(*PRE_LABELS)
POST_LABEL = enum(*POST_LABELS)
SIDE = enum("buy", "sell")

ORDER = component("PaperOrder", obj({
    "id": INTEGER, "symbol": STRING, "side": SIDE, "quantity": DECIMAL, "entry_price": DECIMAL,
    "exit_price": nullable(DECIMAL), "strategy_type": nullable(STRING), "status": enum("open", "closed"),
    "opened_at": DATE_TIME, "closed_at": nullable(DATE_TIME), "realized_pnl": nullable(DECIMAL),
    "position_id": nullable(UUID),
}))
LABEL = component("SentimentLabel", obj({
    "id": INTEGER, "trade_id": INTEGER, "pre_label": PRE_LABEL, "pre_label_recorded_at": DATE_TIME,
    "post_label": nullable(POST_LABEL), "post_label_locked_at": nullable(DATE_TIME),
    "journal_note_present": BOOLEAN, "taxonomy_version": INTEGER, "created_at": DATE_TIME,
}, description="Design §4.1: never the note text, only whether one exists."))
LABEL_DETAIL = component("SentimentLabelDetail", obj({
    "id": INTEGER, "trade_id": INTEGER, "source_table": enum(*SOURCE_TABLES), "pre_label": PRE_LABEL,
    "pre_label_recorded_at": DATE_TIME, "post_label": nullable(POST_LABEL),
    "post_label_recorded_at": nullable(DATE_TIME), "post_label_locked_at": nullable(DATE_TIME),
    "journal_note": nullable(STRING), "taxonomy_version": INTEGER, "created_at": DATE_TIME, "updated_at": DATE_TIME,
}, description="Design §4.3: the single-record shape, the only one carrying the note text."))
ORDER_CREATED = obj({"order": ORDER, "sentiment_label": nullable(LABEL)})
ORDER_ONE = obj({"order": ORDER})
ORDER_LIST = obj({"orders": array(ORDER), "limit": INTEGER, "offset": INTEGER})
TAXONOMY = obj({"version": INTEGER, "pre_labels": array(PRE_LABEL), "post_labels": array(POST_LABEL)})

STATS = component("SentimentStats", obj({
    "n": INTEGER, "closed": INTEGER, "wins": INTEGER, "losses": INTEGER, "win_rate": nullable(NUMBER),
    "total_pnl": CENTS, "avg_pnl": nullable(CENTS), "avg_win": nullable(CENTS), "avg_loss": nullable(CENTS),
    "profit_factor": nullable(NUMBER),
    # CONTRACTS §12: 95% intervals, [low, high] (Wilson; Student-t).
    "win_rate_ci": nullable(array(NUMBER, minItems=2, maxItems=2)),
    "avg_pnl_ci": nullable(array(CENTS, minItems=2, maxItems=2)),
}))
FILTER_TRADE = obj({
    "trade_id": INTEGER, "symbol": STRING, "side": SIDE, "strategy_type": nullable(STRING),
    "opened_at": DATE_TIME, "closed_at": nullable(DATE_TIME), "realized_pnl": nullable(CENTS),
    "pre_label": PRE_LABEL, "post_label": nullable(POST_LABEL), "journal_note_present": BOOLEAN,
    "summary": {"type": "string", "description": "One past-tense sentence."},
})
SENTIMENT_FILTER = obj({
    "filters": obj({"pre_label": nullable(PRE_LABEL), "post_label": nullable(POST_LABEL),
                    "source_table": enum(*SOURCE_TABLES), "strategy_type": nullable(STRING),
                    "date_from": nullable(DATE), "date_to": nullable(DATE),
                    "taxonomy_version": nullable(INTEGER)}),
    "sample": obj({"n": INTEGER, "sample_too_small": BOOLEAN}),
    "stats": STATS, "baseline": STATS,
    "trades": array(FILTER_TRADE),
    "page": obj({"limit": INTEGER, "offset": INTEGER, "returned": INTEGER}),
    "generated_at": DATE_TIME,
})

INSIGHTS = obj({
    "matrix": array(obj({
        "pre_label": PRE_LABEL, "post_label": nullable(POST_LABEL), "n": INTEGER, "closed": INTEGER,
        "wins": INTEGER, "win_rate": nullable(NUMBER),
        "win_rate_ci": nullable(array(NUMBER, minItems=2, maxItems=2)), "total_pnl": CENTS})),
    "held": nullable(array(obj({
        "post_label": nullable(POST_LABEL), "n": INTEGER, "actual_pnl": CENTS, "would_have_pnl": CENTS,
        "delta_pnl": CENTS}))),
    "equity_curve": array(array({"anyOf": [DATE, CENTS]}, minItems=2, maxItems=2)),
    "generated_at": DATE_TIME,
}, description="CONTRACTS §12. `held` is null unless FLAG_WCB_ENABLED is on for the caller and the tier is "
               "pro or pro_plus. `equity_curve` items are [date, cumulative realized P&L].")
