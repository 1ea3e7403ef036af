import io

from conftest import make_customer
from journal.demo import seed_demo
from journal.models import PaperOrder, TradeSentimentLabel


def test_seed_demo_is_idempotent_and_says_what_it_made(db):
    pro, free = make_customer(), make_customer()
    out = io.StringIO()
    seed_demo(demo_customers=[(pro, "pro_plus"), (free, "free")], stdout=out)
    counts = (PaperOrder.objects.count(), TradeSentimentLabel.objects.count())
    assert counts[0] > 0 and counts[1] > 0
    assert TradeSentimentLabel.objects.filter(customer=free).count() == 0
    assert TradeSentimentLabel.objects.filter(post_label_locked_at__isnull=False).exists()
    seed_demo(demo_customers=[(pro, "pro_plus"), (free, "free")], stdout=out)
    assert (PaperOrder.objects.count(), TradeSentimentLabel.objects.count()) == counts
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("journal: ")


def test_demo_book_feeds_the_filter(db, api_for, flags):
    pro = make_customer()
    seed_demo(demo_customers=[(pro, "pro_plus")], stdout=io.StringIO())
    flags.on("FLAG_SENTIMENT_JOURNAL")
    body = api_for(pro).get("/api/backtest/sentiment-filter").json()
    assert body["sample"]["sample_too_small"] is False and body["stats"]["closed"] == 10
