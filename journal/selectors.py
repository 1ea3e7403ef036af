"""Journal reads. Every query starts from the customer (the IDOR defence of design §3.3)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Context, Decimal

from django.db import connection
from django.db.models import BooleanField, Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from raxx.errors import ApplicationError
from raxx.models import Customer
from raxx.sql import whole_book_plans, without_nested_loops

from .formatting import cents, cents_sql, iso_z, iso_z_sql, trade_summary, trade_summary_sql
from .models import POST_LABELS, PRE_LABELS, PaperOrder, SentimentTaxonomyVersion, TradeSentimentLabel
from .stats import mean_interval, wilson_interval

TRADE_FIELDS = ("trade_id", "trade__symbol", "trade__side", "trade__quantity", "trade__entry_price",
                "trade__exit_price", "trade__strategy_type", "trade__opened_at", "trade__closed_at",
                "trade__realized_pnl", "pre_label", "post_label", "has_note")
MIN_SAMPLE = 10
MAX_ID = 2**63 - 1


def in_id_range(value: int) -> bool:
    """Ids beyond BIGINT would make PostgreSQL raise; such an id names nothing (404)."""
    return 0 < value <= MAX_ID


def current_taxonomy() -> SentimentTaxonomyVersion:
    """The newest taxonomy version already in effect."""
    return SentimentTaxonomyVersion.objects.filter(effective_from__lte=timezone.now()).order_by("-version").first()


def paper_orders_list(*, customer: Customer, limit: int = 100, offset: int = 0) -> list[PaperOrder]:
    return list(PaperOrder.objects.filter(customer=customer).order_by("-opened_at", "-id")[offset:offset + limit])


def paper_order_get(*, customer: Customer, order_id: int) -> PaperOrder:
    order = PaperOrder.objects.filter(customer=customer, pk=order_id).first() if in_id_range(order_id) else None
    if order is None:
        raise ApplicationError("not_found", status_code=404)
    return order


def sentiment_label_get(*, customer: Customer, label_id: int) -> TradeSentimentLabel:
    label = (_my_labels(customer).select_related("trade").filter(pk=label_id).first()
             if in_id_range(label_id) else None)
    if label is None:
        raise ApplicationError("not_found", status_code=404)
    return label


@dataclass(frozen=True)
class SentimentFilter:
    pre_label: str | None = None
    post_label: str | None = None
    source_table: str = "paper_orders"
    strategy_type: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    taxonomy_version: int | None = None

    def conditions(self) -> list[tuple[str, str, object]]:
        """(ORM lookup, the same test in SQL over ``l`` = labels and ``o`` = orders, value): one list
        both the ORM filter and the PostgreSQL statements below are built from."""
        found = [("source_table", "l.source_table = %s", self.source_table)]
        if self.pre_label:
            found.append(("pre_label", "l.pre_label = %s", self.pre_label))
        if self.post_label:
            found.append(("post_label", "l.post_label = %s", self.post_label))
        if self.strategy_type:
            found.append(("trade__strategy_type", "o.strategy_type = %s", self.strategy_type))
        if self.date_from:
            found.append(("trade__closed_at__gte", "o.closed_at >= %s",
                          datetime.combine(self.date_from, time.min, tzinfo=UTC)))
        if self.date_to and self.date_to < date.max:  # date_to = 9999-12-31 bounds nothing (and +1 day overflows)
            found.append(("trade__closed_at__lt", "o.closed_at < %s",
                          datetime.combine(self.date_to + timedelta(days=1), time.min, tzinfo=UTC)))
        if self.taxonomy_version is not None:
            found.append(("taxonomy_version_id", "l.taxonomy_version = %s", self.taxonomy_version))
        return found

    def q(self) -> Q:
        q = Q()
        for lookup, _, value in self.conditions():
            q &= Q(**{lookup: value})
        return q

    def echo(self) -> dict:
        return {"pre_label": self.pre_label, "post_label": self.post_label, "source_table": self.source_table,
                "strategy_type": self.strategy_type,
                "date_from": self.date_from.isoformat() if self.date_from else None,
                "date_to": self.date_to.isoformat() if self.date_to else None,
                "taxonomy_version": self.taxonomy_version}


def _my_labels(customer: Customer) -> QuerySet:
    """The caller's labels, with the joined paper orders scoped to the caller too: a label's trade is
    always its owner's, and saying so lets PostgreSQL read paper_orders by its user index instead of
    scanning every customer's orders for the join (140 ms → 7 ms at 100k trades among 1M)."""
    return TradeSentimentLabel.objects.filter(customer=customer, trade__customer=customer)


_MONEY = DecimalField(max_digits=40, decimal_places=12)
_SQUARES = DecimalField(max_digits=80, decimal_places=24)
_ZERO = Value(Decimal(0), output_field=_MONEY)


_SUMS = ("total", "squares", "win_sum", "loss_sum")
_EXACT = Context(prec=200)  # adds numeric(34, 12) sums without rounding (≤ 80 digits: the squares)


def _aggregates() -> dict:
    """One STATS block's sums and counts; grouped by "matches the filter", so the database evaluates
    the filter once per trade and the baseline is the groups added up."""
    pnl = F("trade__realized_pnl")
    return {
        "n": Count("trade_id"),
        "closed": Count("trade__realized_pnl"),
        "wins": Count("trade_id", filter=Q(trade__realized_pnl__gt=0)),
        "losses": Count("trade_id", filter=Q(trade__realized_pnl__lt=0)),
        "total": Sum(pnl, output_field=_MONEY),
        "squares": Sum(ExpressionWrapper(pnl * pnl, output_field=_SQUARES), output_field=_SQUARES),
        "win_sum": Sum(pnl, filter=Q(trade__realized_pnl__gt=0), output_field=_MONEY),
        "loss_sum": Sum(pnl, filter=Q(trade__realized_pnl__lt=0), output_field=_MONEY),
    }


def _filter_groups(labels: QuerySet, where: Q) -> list[dict]:
    return list(labels.annotate(matched=ExpressionWrapper(where, output_field=BooleanField()))
                .values("matched").order_by().annotate(**_aggregates()))


def _added(groups: list[dict]) -> dict:
    total = {key: 0 for key in ("n", "closed", "wins", "losses")} | {key: Decimal(0) for key in _SUMS}
    for group in groups:
        for key in total:
            if group[key] is not None:
                total[key] = _EXACT.add(total[key], group[key]) if key in _SUMS else total[key] + group[key]
    return total


def _stats(row: dict) -> dict:
    n, closed, wins, losses = (row[k] for k in ("n", "closed", "wins", "losses"))
    total, win_sum, loss_sum, squares = (Decimal(row[k]) for k in ("total", "win_sum", "loss_sum", "squares"))
    avg_ci = mean_interval(closed, total, squares)
    return {
        "n": n, "closed": closed, "wins": wins, "losses": losses,
        "win_rate": wins / closed if closed else None,
        "win_rate_ci": wilson_interval(wins, closed),
        "total_pnl": cents(total),
        "avg_pnl": cents(total / closed) if closed else None,
        "avg_pnl_ci": [cents(bound) for bound in avg_ci] if avg_ci else None,
        "avg_win": cents(win_sum / wins) if wins else None,
        "avg_loss": cents(loss_sum / losses) if losses else None,
        "profit_factor": float(win_sum / abs(loss_sum)) if losses else None,
    }


def sentiment_filter(*, customer: Customer, filters: SentimentFilter, limit: int = 100, offset: int = 0) -> dict:
    """Stats for the filtered labels, the unfiltered baseline, and one page of trades.

    Two statements whatever the number of trades: one aggregate (filtered and baseline
    side by side) and one page of rows. Note text is never selected, only its presence.
    On PostgreSQL they are the statements below, written once instead of compiled by the ORM on
    every request (that compiling cost more than running them at a thousand trades), sent
    together as one query (:func:`_pg_filter_rows`), the page's rows coming back as the text the
    response shows; elsewhere the ORM runs them as two and :func:`_trade_dict` formats the rows.
    """
    if connection.vendor == "postgresql":
        groups, trades = _pg_filter_rows(customer, filters, limit=limit, offset=offset)
    else:
        mine = _my_labels(customer)
        where = filters.q()
        groups = _filter_groups(mine, where)
        trades = [_trade_dict(row) for row in _trade_page_rows(mine.filter(where), limit=limit, offset=offset)]
    filtered, baseline = _added([g for g in groups if g["matched"] is True]), _added(groups)
    n = filtered["n"]
    return {
        "filters": filters.echo(),
        "sample": {"n": n, "sample_too_small": n < MIN_SAMPLE},
        "stats": _stats(filtered),
        "baseline": _stats(baseline),
        "trades": trades,
        "page": {"limit": limit, "offset": offset, "returned": len(trades)},
        "generated_at": iso_z(timezone.now()),
    }


_PG_MINE = ("trade_sentiment_labels l JOIN paper_orders o ON o.id = l.trade_id "
            "WHERE l.user_id = %s AND o.user_id = %s")
_PG_GROUPS = f"""SELECT {{matched}}, count(l.trade_id), count(o.realized_pnl),
    count(l.trade_id) FILTER (WHERE o.realized_pnl > 0), count(l.trade_id) FILTER (WHERE o.realized_pnl < 0),
    sum(o.realized_pnl), sum(o.realized_pnl * o.realized_pnl),
    sum(o.realized_pnl) FILTER (WHERE o.realized_pnl > 0), sum(o.realized_pnl) FILTER (WHERE o.realized_pnl < 0)
FROM {_PG_MINE} GROUP BY 1"""
# The page: the customer's orders walked newest first on paper_orders_user_recent (which holds
# the order columns a filter tests), each kept when its label matches, until the page's last row.
# The label is probed per order on idx_tsl_user_filter (OFFSET 0 keeps the EXISTS a per-row
# subplan, not a join): one index probe per order visited. Only then are the page's rows read,
# each by its primary key in a LATERAL subquery (again OFFSET 0: a probe per row, not a join).
# The label read is the one the walk matched: the same conditions, which include source_table,
# and (customer, source_table, trade) is unique.
# No join anywhere for a stale row estimate to get wrong.
# Each row comes back as the text of the response (journal/formatting.py's SQL forms): formatting
# the page in Python (timestamps and decimals loaded, then printed) cost more than the statement.
_PG_PAGE = f"""SELECT p.id, o.symbol, o.side, o.strategy_type, {iso_z_sql('p.opened_at')}, {iso_z_sql('o.closed_at')},
    {cents_sql('o.realized_pnl')}, l.pre_label, l.post_label, l.has_note,
    {trade_summary_sql(side='o.side', quantity='o.quantity', symbol='o.symbol', entry_price='o.entry_price',
                       exit_price='o.exit_price', realized_pnl='o.realized_pnl', pre_label='l.pre_label',
                       post_label='l.post_label')}
FROM (SELECT o.id, o.opened_at FROM paper_orders o WHERE o.user_id = %s AND {{orders}} AND EXISTS (
          SELECT FROM trade_sentiment_labels l WHERE l.trade_id = o.id AND l.user_id = %s AND {{labels}} OFFSET 0)
      ORDER BY o.opened_at DESC, o.id DESC LIMIT %s OFFSET %s) p
CROSS JOIN LATERAL (SELECT o.symbol, o.side, o.quantity, o.entry_price, o.exit_price, o.strategy_type,
                           o.closed_at, o.realized_pnl
                    FROM paper_orders o WHERE o.id = p.id AND o.user_id = %s OFFSET 0) o
CROSS JOIN LATERAL (SELECT l.pre_label, l.post_label, (l.journal_note IS NOT NULL AND l.journal_note <> '') AS has_note
                    FROM trade_sentiment_labels l WHERE l.trade_id = p.id AND l.user_id = %s AND {{labels}}
                    OFFSET 0) l
ORDER BY p.opened_at DESC, p.id DESC"""
_GROUP_KEYS = ("matched", "n", "closed", "wins", "losses", *_SUMS)
_PAGE_KEYS = ("trade_id", "symbol", "side", "strategy_type", "opened_at", "closed_at", "realized_pnl", "pre_label",
              "post_label", "journal_note_present", "summary")  # _trade_dict's keys, in its order


def _pg_filter_rows(customer: Customer, filters: SentimentFilter, *, limit: int, offset: int):
    """:func:`sentiment_filter` on PostgreSQL in one query: the groups (as the ORM path's: psycopg
    returns the same Decimal and bool values the ORM would) and the page, each row already the
    response's trade (what :func:`_trade_dict` makes of the ORM path's row).

    The stats read the whole book, planned without nested loops (:func:`raxx.sql.without_nested_loops`:
    linear even when the statistics predate most of the customer's trades); the page (above) is
    planned as usual, after the ``RESET``.
    """
    conditions = filters.conditions()
    where = " AND ".join(sql for _, sql, _ in conditions)
    values = [value for _, _, value in conditions]
    side = {alias: [(sql, value) for _, sql, value in conditions if sql.startswith(alias)] for alias in ("o.", "l.")}
    assert len(side["o."]) + len(side["l."]) == len(conditions), "each condition tests orders (o.) or labels (l.)"
    page = _PG_PAGE.format(orders=" AND ".join([sql for sql, _ in side["o."]] or ["TRUE"]),
                           labels=" AND ".join([sql for sql, _ in side["l."]] or ["TRUE"]))
    me = customer.pk
    with connection.cursor() as cursor:
        cursor.execute(f"{without_nested_loops(_PG_GROUPS.format(matched=f'({where})'))}; {page}",
                       [*values, me, me, me, *(v for _, v in side["o."]), me, *(v for _, v in side["l."]),
                        limit, offset, me, me, *(v for _, v in side["l."])])
        cursor.nextset()  # past the SET
        groups = [dict(zip(_GROUP_KEYS, row)) for row in cursor.fetchall()]
        cursor.nextset()  # past the RESET, to the page
        cursor.nextset()
        trades = [dict(zip(_PAGE_KEYS, row)) for row in cursor.fetchall()]
    return groups, trades


def _trade_page_rows(labels: QuerySet, *, limit: int, offset: int) -> list[dict]:
    """The page is chosen first from what the covering indexes hold (trade ids, open times, filter
    columns), then only its rows are read from the tables: the cost of reading a trade's symbol,
    prices and note is paid ``limit`` times, not once per filtered trade."""
    order = ("-trade__opened_at", "-trade_id")
    page = labels.order_by(*order).values("trade_id")[offset:offset + limit]
    return list(labels.filter(trade_id__in=page)
                .annotate(has_note=ExpressionWrapper(Q(journal_note__isnull=False) & ~Q(journal_note=""),
                                                     output_field=BooleanField()))
                .order_by(*order).values(*TRADE_FIELDS))


def _trade_dict(r: dict) -> dict:
    return {
        "trade_id": r["trade_id"],
        "symbol": r["trade__symbol"],
        "side": r["trade__side"],
        "strategy_type": r["trade__strategy_type"],
        "opened_at": iso_z(r["trade__opened_at"]),
        "closed_at": iso_z(r["trade__closed_at"]),
        "realized_pnl": cents(r["trade__realized_pnl"]),
        "pre_label": r["pre_label"],
        "post_label": r["post_label"],
        "journal_note_present": bool(r["has_note"]),
        "summary": trade_summary(side=r["trade__side"], quantity=r["trade__quantity"], symbol=r["trade__symbol"],
                                 entry_price=r["trade__entry_price"], exit_price=r["trade__exit_price"],
                                 realized_pnl=r["trade__realized_pnl"], pre_label=r["pre_label"],
                                 post_label=r["post_label"]),
    }


def _label_order(pre: str, post: str | None) -> tuple:
    """Taxonomy order, a missing post-label last (the same on every database)."""
    def rank(value, labels):
        return labels.index(value) if value in labels else len(labels)
    return (rank(pre, PRE_LABELS), post is None, rank(post, POST_LABELS), pre, post or "")


def journal_insights(*, customer: Customer, filters: SentimentFilter, include_held: bool) -> dict:
    """CONTRACTS §12: the pre × post label matrix, what holding would have changed per post-label
    (only when ``include_held``: WCB flag on and a paid tier), and the realized equity curve.

    Three grouped queries over the caller's own labels, whatever the number of trades, each
    planned for reading the whole book (:func:`raxx.sql.whole_book_plans`).
    """
    mine = _my_labels(customer).filter(filters.q())
    with whole_book_plans(connection):
        return {
            "matrix": _label_matrix(mine),
            "held": _held_comparison(mine, customer=customer) if include_held else None,
            "equity_curve": _equity_curve(mine),
            "generated_at": iso_z(timezone.now()),
        }


def label_matrix(*, customer: Customer) -> list[dict]:
    """The customer's pre × post label matrix, every trade (the console's heat map)."""
    with whole_book_plans(connection):
        return _label_matrix(_my_labels(customer).filter(source_table="paper_orders"))


def _label_matrix(labels: QuerySet) -> list[dict]:
    pnl = F("trade__realized_pnl")
    rows = labels.values("pre_label", "post_label").order_by().annotate(
        n=Count("id"), closed=Count("id", filter=Q(trade__realized_pnl__isnull=False)),
        wins=Count("id", filter=Q(trade__realized_pnl__gt=0)),
        total=Coalesce(Sum(pnl, output_field=_MONEY), _ZERO))
    return [{
        "pre_label": r["pre_label"], "post_label": r["post_label"], "n": r["n"], "closed": r["closed"],
        "wins": r["wins"], "win_rate": r["wins"] / r["closed"] if r["closed"] else None,
        "win_rate_ci": wilson_interval(r["wins"], r["closed"]), "total_pnl": cents(Decimal(r["total"])),
    } for r in sorted(rows, key=lambda r: _label_order(r["pre_label"], r["post_label"]))]


def _held_comparison(labels: QuerySet, *, customer: Customer) -> list[dict]:
    """Per post-label sums over the labelled trades whose position has a finalized snapshot
    with a would-have P&L (options have none: the data cannot support one)."""
    snapshot = "trade__closed_position__wcb_snapshot__"
    rows = (labels.filter(**{f"{snapshot}horizon_reached": True, f"{snapshot}would_have_pnl__isnull": False,
                             f"{snapshot}user_id": customer.pk, "trade__closed_position__customer": customer})
            .values("post_label").order_by()
            .annotate(n=Count("id"), actual=Sum(f"{snapshot}actual_pnl"), would=Sum(f"{snapshot}would_have_pnl"),
                      delta=Sum(f"{snapshot}delta_pnl")))
    return [{"post_label": r["post_label"], "n": r["n"], "actual_pnl": cents(r["actual"]),
             "would_have_pnl": cents(r["would"]), "delta_pnl": cents(r["delta"])}
            for r in sorted(rows, key=lambda r: _label_order("", r["post_label"]))]


def _equity_curve(labels: QuerySet) -> list[list]:
    """Cumulative realized P&L of the labelled trades, one point per UTC day a trade closed."""
    days = (labels.filter(trade__realized_pnl__isnull=False)
            .annotate(day=TruncDate("trade__closed_at", tzinfo=UTC)).values("day").order_by("day")
            .annotate(total=Sum("trade__realized_pnl", output_field=_MONEY)))
    curve, running = [], Decimal(0)
    for row in days:
        running += Decimal(row["total"])
        curve.append([row["day"].isoformat(), cents(running)])
    return curve
