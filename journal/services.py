"""Journal writes: plain keyword-only functions, each one transaction.

Error codes are the public ones of CONTRACTS §3. Log lines carry ids only:
journal note text never reaches a log, an audit event or an exception message.
"""

import logging
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, ExpressionWrapper, OuterRef, Subquery, Value
from django.utils import timezone

from raxx.audit import audit_log
from raxx.errors import INVALID_REQUEST, ApplicationError
from raxx.models import Customer
from wcb.services import closed_position_record, position_bounds_error

from .models import LOCK_AFTER_HOURS, NOTE_MAX_LENGTH, PaperOrder, TradeSentimentLabel
from .selectors import current_taxonomy, in_id_range

logger = logging.getLogger(__name__)

ORDER_CLOSED = "order_closed"
LABEL_EXISTS = "label_exists"
ENTRY_IS_LOCKED = "entry_is_locked"
TRADE_NOT_CLOSED = "trade_not_closed"
NOT_FOUND = "not_found"

_UNSET = object()


def _invalid(field: str, message: str) -> ApplicationError:
    return ApplicationError(INVALID_REQUEST, {field: [message]}, status_code=400)


@transaction.atomic
def paper_order_create(*, customer: Customer, symbol: str, side: str, quantity: Decimal, entry_price: Decimal,
                       strategy_type: str | None = None, pre_label: str | None = None,
                       journal_on: bool = False) -> tuple[PaperOrder, TradeSentimentLabel | None]:
    """Open a paper order; with the journal on, its pre-label is written in the same transaction."""
    taxonomy = None
    if journal_on:
        if not pre_label:
            raise _invalid("pre_label", "This field is required while the journal is on.")
        taxonomy = current_taxonomy()
        if pre_label not in taxonomy.pre_label_list:
            raise _invalid("pre_label", f"Not a pre-trade label of taxonomy version {taxonomy.version}.")
    order = PaperOrder.objects.create(customer=customer, symbol=symbol, side=side, quantity=quantity,
                                      entry_price=entry_price, strategy_type=strategy_type or None,
                                      opened_at=timezone.now())
    audit_log("paper_order_opened", customer=customer,
              data={"order_id": order.id, "symbol": symbol, "side": side, "quantity": str(quantity),
                    "entry_price": str(entry_price)})
    label = None
    if journal_on:
        label = _label_insert(customer=customer, order=order, pre_label=pre_label, taxonomy_version=taxonomy.version)
    logger.info("paper order %s opened (label %s)", order.id, label.id if label else None)
    return order, label


@transaction.atomic
def paper_order_close(*, customer: Customer, order_id: int, exit_price: Decimal, tier: str | None) -> PaperOrder:
    """Close the customer's open paper order at ``exit_price`` and realize its P&L.

    ``tier`` is the caller's token tier (never stored): What Could've Been records
    the closed position in this same transaction for pro/pro_plus callers.
    """
    # The row lock makes a double close (two concurrent requests) give one 200 and one 409.
    if not in_id_range(order_id):
        raise ApplicationError(NOT_FOUND, status_code=404)
    order = PaperOrder.objects.select_for_update().filter(customer=customer, pk=order_id).first()
    if order is None:
        raise ApplicationError(NOT_FOUND, status_code=404)
    if order.status == PaperOrder.Status.CLOSED:
        raise ApplicationError(ORDER_CLOSED, status_code=409)
    move = exit_price - order.entry_price
    order.realized_pnl = move * order.quantity if order.side == PaperOrder.Side.BUY else -move * order.quantity
    order.exit_price = exit_price
    order.status = PaperOrder.Status.CLOSED
    order.closed_at = timezone.now()
    order.closed_position = _record_closed_position(customer=customer, order=order, tier=tier)
    order.save(update_fields=["exit_price", "status", "closed_at", "realized_pnl", "closed_position"])
    audit_log("paper_order_closed", customer=customer,
              data={"order_id": order.id, "exit_price": str(exit_price), "realized_pnl": str(order.realized_pnl)})
    logger.info("paper order %s closed", order.id)
    return order


def _record_closed_position(*, customer: Customer, order: PaperOrder, tier: str | None):
    """Closing a paper order records a closed position for What Could've Been (CONTRACTS §4),
    in the caller's transaction. A paper trade too large for WCB's columns is still closed;
    it is just not tracked there."""
    quantity = order.quantity if order.side == PaperOrder.Side.BUY else -order.quantity
    if position_bounds_error(quantity=quantity, multiplier=1, cost_basis=order.entry_price,
                             close_price=order.exit_price) or not _fits_wcb_columns(order):
        logger.info("paper order %s is outside WCB's bounds; no closed position recorded", order.id)
        return None
    return closed_position_record(customer=customer, tier=tier, symbol=order.symbol, asset_type="equity",
                           quantity=quantity, cost_basis=order.entry_price, close_price=order.exit_price,
                           closed_at=order.closed_at)


# WCB's columns (wcb.models.ClosedPosition / WcbSnapshot): quantity numeric(12, 4), prices
# numeric(12, 6). The journal accepts more (numeric(20, 6)); such a paper trade still closes,
# it is only not tracked by WCB (a price of 2,000,000 would overflow the column: a 500 on PG).
_WCB_MAX_QUANTITY = Decimal(10) ** 8
_WCB_MAX_PRICE = Decimal(10) ** 6


def _fits_wcb_columns(order: PaperOrder) -> bool:
    quantity = order.quantity
    return (quantity < _WCB_MAX_QUANTITY and quantity == quantity.quantize(Decimal("0.0001"))
            and order.entry_price < _WCB_MAX_PRICE and order.exit_price < _WCB_MAX_PRICE)


def _label_insert(*, customer: Customer, order: PaperOrder, pre_label: str, taxonomy_version: int,
                  source_table: str = "paper_orders") -> TradeSentimentLabel:
    now = timezone.now()
    try:
        # A savepoint: a concurrent create for the same trade blocks on the unique index
        # and then fails here, which is answered with 409 instead of a 500.
        with transaction.atomic():
            label = TradeSentimentLabel.objects.create(
                customer=customer, source_table=source_table, trade=order, pre_label=pre_label,
                pre_label_recorded_at=now, taxonomy_version_id=taxonomy_version, created_at=now, updated_at=now)
    except IntegrityError:
        raise ApplicationError(LABEL_EXISTS, status_code=409)
    audit_log("sentiment_label_created", customer=customer,
              data={"label_id": label.id, "trade_id": order.id, "pre_label": pre_label,
                    "taxonomy_version": taxonomy_version})
    return label


@transaction.atomic
def sentiment_label_create(*, customer: Customer, source_table: str, trade_id: int,
                           pre_label: str) -> TradeSentimentLabel:
    """The customer's pre-label for one of their own trades (one per trade)."""
    taxonomy = current_taxonomy()
    if pre_label not in taxonomy.pre_label_list:
        raise _invalid("pre_label", f"Not a pre-trade label of taxonomy version {taxonomy.version}.")
    order = PaperOrder.objects.filter(customer=customer, pk=trade_id).first()
    if order is None:
        raise ApplicationError(NOT_FOUND, status_code=404)
    label = _label_insert(customer=customer, order=order, pre_label=pre_label,
                          taxonomy_version=taxonomy.version, source_table=source_table)
    logger.info("sentiment label %s created for trade %s", label.id, order.id)
    return label


@transaction.atomic
def sentiment_label_update(*, customer: Customer, label_id: int, post_label=_UNSET,
                           journal_note=_UNSET) -> TradeSentimentLabel:
    """Set the post-label and/or the note while the 24-hour window after the close is open."""
    if post_label is _UNSET and journal_note is _UNSET:
        raise _invalid("non_field_errors", "Send post_label, journal_note or both.")
    if journal_note is not _UNSET and journal_note is not None and len(journal_note) > NOTE_MAX_LENGTH:
        raise _invalid("journal_note", f"At most {NOTE_MAX_LENGTH} characters.")
    # Locked together with the lock worker's UPDATE: whichever runs second sees the other's result.
    if not in_id_range(label_id):
        raise ApplicationError(NOT_FOUND, status_code=404)
    label = (TradeSentimentLabel.objects.select_for_update().select_related("trade", "taxonomy_version")
             .filter(customer=customer, trade__customer=customer, pk=label_id).first())
    if label is None:
        raise ApplicationError(NOT_FOUND, status_code=404)
    now = timezone.now()
    if label.locked_at(now=now) is not None:
        raise ApplicationError(ENTRY_IS_LOCKED, status_code=409)
    changed = []
    if post_label is not _UNSET:
        if post_label not in label.taxonomy_version.post_label_list:
            raise _invalid("post_label", f"Not a post-trade label of taxonomy version {label.taxonomy_version_id}.")
        if label.trade.status != PaperOrder.Status.CLOSED:
            raise ApplicationError(TRADE_NOT_CLOSED, status_code=409)
        label.post_label, label.post_label_recorded_at = post_label, now
        changed += ["post_label", "post_label_recorded_at"]
    if journal_note is not _UNSET:
        label.journal_note = journal_note or None
        changed.append("journal_note")
    label.updated_at = now
    label.save(update_fields=[*changed, "updated_at"])
    audit_log("sentiment_label_updated", customer=customer,
              data={"label_id": label.id, "trade_id": label.trade_id, "post_label": label.post_label,
                    "fields": [f for f in changed if f != "post_label_recorded_at"]})
    logger.info("sentiment label %s updated (%s)", label.id, ", ".join(changed))
    return label


# The moment a label locks: its trade's close + 24 h (the same value the API shows on read
# before the worker's run, see TradeSentimentLabel.locked_at).
_LOCKS_AT = ExpressionWrapper(
    Subquery(PaperOrder.objects.filter(pk=OuterRef("trade_id")).values("closed_at")[:1])
    + Value(timedelta(hours=LOCK_AFTER_HOURS)), output_field=DateTimeField())


def sentiment_labels_lock_due(*, now: datetime | None = None, batch_size: int = 1000) -> int:
    """Lock every label whose trade closed 24 h ago or earlier; safe to run any number of times.

    Set-based: each batch is one UPDATE of up to ``batch_size`` rows, in its own transaction,
    and only touches rows still unlocked, so two overlapping runs never lock a row twice.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(hours=LOCK_AFTER_HOURS)
    due = TradeSentimentLabel.objects.filter(post_label_locked_at__isnull=True, trade__closed_at__lte=cutoff)
    total = 0
    while True:
        with transaction.atomic():
            ids = list(due.order_by("id").values_list("id", flat=True)[:batch_size])
            if not ids:
                break
            total += TradeSentimentLabel.objects.filter(id__in=ids, post_label_locked_at__isnull=True).update(
                post_label_locked_at=_LOCKS_AT)
        if len(ids) < batch_size:
            break
    if total:
        logger.info("locked %s sentiment labels whose trades closed before %s", total, cutoff.isoformat())
    return total
