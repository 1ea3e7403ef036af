from datetime import timedelta

from journal.models import PaperOrder, TradeSentimentLabel
from journal.tests.conftest import make_label, make_order
from raxx.customer_data import OnMerge, rule_for


def test_both_tables_have_merge_export_erase_rules():
    orders = rule_for(PaperOrder, "customer")
    labels = rule_for(TradeSentimentLabel, "customer")
    assert orders.on_merge == OnMerge.REATTRIBUTE and orders.erase
    assert labels.on_merge == OnMerge.KEEP_PRIMARY_ON_CONFLICT and labels.erase
    unique = next(c for c in TradeSentimentLabel._meta.constraints if c.name == "idx_tsl_user_trade")
    assert {TradeSentimentLabel._meta.get_field(f).column for f in unique.fields} == {
        "user_id", "source_table", "trade_id"}
    assert {TradeSentimentLabel._meta.get_field(f).column for f in ("customer", *labels.unique_with)} == {
        "user_id", "source_table", "trade_id"}


def test_erasure_by_the_rule_deletes_locked_labels_too(customer, other_customer):
    make_label(customer, make_order(customer, exit="1", closed_ago=timedelta(days=3)), note="n", locked=True)
    make_label(customer, make_order(customer))
    kept = make_label(other_customer, make_order(other_customer))
    for model in (TradeSentimentLabel, PaperOrder):
        rule = rule_for(model, "customer")
        model.objects.filter(**{rule.field: customer}).delete()
    assert list(TradeSentimentLabel.objects.all()) == [kept]
    assert list(PaperOrder.objects.values_list("customer", flat=True)) == [other_customer.pk]


def test_merge_by_the_rules_moves_orders_and_locked_labels(customer, other_customer):
    locked = make_label(other_customer, make_order(other_customer, exit="1", closed_ago=timedelta(days=3)),
                        locked=True)
    from journal.tests.test_lock import in_merge

    for model in (PaperOrder, TradeSentimentLabel):  # as the merge does it: inside its transaction's flag
        in_merge(lambda: model.objects.filter(customer=other_customer).update(customer=customer))
    locked.refresh_from_db()
    assert locked.customer == customer and locked.trade.customer == customer and locked.is_locked
