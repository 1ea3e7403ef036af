"""Copy is retrospective and structural; note text never leaves the single-label GET."""

import ast
import itertools
import logging
import re
from datetime import timedelta
from pathlib import Path

import pytest

from journal.formatting import trade_summary
from journal.models import POST_LABELS, PRE_LABELS, SentimentTaxonomyVersion
from journal.services import sentiment_labels_lock_due
from journal.tests.conftest import make_label, make_order
from raxx.models import AuditEvent
from raxx.tests.copy_rules import FORWARD_WORDS

APP = Path(__file__).resolve().parent.parent
# the project's forward-looking words (raxx/tests/copy_rules.py), plus the journal's own
FORBIDDEN = [rf"\b({FORWARD_WORDS})\b", r"\blikelihood\b",
             r"\bpanic\w*", r"\bfear\w*", r"\bgreed\w*", r"\bdisciplin\w*"]
PATTERN = re.compile("|".join(FORBIDDEN), re.IGNORECASE)
NOTE = "note-text-canary-5518 I sold because of the news"


def app_strings() -> list[tuple[str, str]]:
    """Every string literal in the app's code (messages, summaries, admin text, docstrings), templates, README."""
    found = []
    for path in sorted(APP.rglob("*.py")):
        if "tests" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.append((f"{path.relative_to(APP)}:{node.lineno}", node.value))
    found.append(("README.md", (APP / "README.md").read_text()))
    found += [(str(path.relative_to(APP)), path.read_text()) for path in sorted(APP.rglob("*.html"))]
    return found


def forward_or_emotional(text: str) -> list[str]:
    return [m.group(0) for m in PATTERN.finditer(text)]


def test_the_scanner_catches_what_it_looks_for():
    for phrase in ("Override Rule closes tend to lose", "you will profit", "expected move", "likely up",
                   "Panicked exit", "fear index", "greedy", "Disciplined"):
        assert forward_or_emotional(phrase), phrase
    assert not forward_or_emotional("UnexpectedOutcome was recorded")


def test_no_app_string_is_forward_looking_or_emotional():
    strings = app_strings()
    assert len(strings) > 100
    offenders = [(where, hits) for where, text in strings if (hits := forward_or_emotional(text))]
    assert offenders == []


def test_taxonomy_labels_are_structural():
    labels = [*PRE_LABELS, *POST_LABELS]
    assert not [x for x in labels if forward_or_emotional(re.sub(r"(?<!^)(?=[A-Z])", " ", x))]


def test_every_summary_is_past_tense():
    combos = itertools.product(("buy", "sell"), PRE_LABELS, (*POST_LABELS, None), ((None, None), ("11", "10")))
    for side, pre, post, (exit_price, pnl) in combos:
        text = trade_summary(side=side, quantity="5", symbol="MSFT", entry_price="10", exit_price=exit_price,
                             realized_pnl=pnl, pre_label=pre, post_label=post)
        assert not forward_or_emotional(text), text
        assert re.match(r"^(Bought|Sold) \S+ MSFT at ", text)
        assert "recorded" in text and not re.search(r"\b(is|are|shall|can|may)\b", text), text


def test_runtime_copy_of_the_api_is_clean(api, customer, journal_on):
    label = make_label(customer, make_order(customer, exit="101"))
    bodies = [api.get("/api/backtest/sentiment-filter").content, api.get("/api/sentiment-labels/taxonomy").content,
              api.patch(f"/api/sentiment-labels/{label.id}", {}, format="json").content,
              api.post("/api/paper-orders", {"symbol": "A", "side": "buy", "quantity": "1", "entry_price": "1"},
                       format="json").content]
    for body in bodies:
        assert not forward_or_emotional(body.decode())


def test_note_text_is_never_logged_audited_or_shown_outside_the_single_get(api, customer, journal_on, caplog,
                                                                           admin_client):
    caplog.set_level(logging.DEBUG)
    created = api.post("/api/paper-orders", {"symbol": "AAPL", "side": "buy", "quantity": "1",
                                             "entry_price": "10", "pre_label": "Neutral"}, format="json").json()
    order_id, label_id = created["order"]["id"], created["sentiment_label"]["id"]
    api.post(f"/api/paper-orders/{order_id}/close", {"exit_price": "12"}, format="json")
    patched = api.patch(f"/api/sentiment-labels/{label_id}", {"post_label": "AdjustedWithReason",
                                                              "journal_note": NOTE}, format="json")
    assert patched.status_code == 200
    assert api.get(f"/api/sentiment-labels/{label_id}").json()["journal_note"] == NOTE  # the one place it shows
    elsewhere = [
        api.get("/api/backtest/sentiment-filter").content,
        api.get("/api/paper-orders").content,
        api.get(f"/api/paper-orders/{order_id}").content,
        api.post("/api/sentiment-labels", {"source_table": "paper_orders", "trade_id": order_id,
                                           "pre_label": "Bullish"}, format="json").content,  # 409
        api.patch(f"/api/sentiment-labels/{label_id}", {"journal_note": NOTE + "x" * 2000}, format="json").content,
        admin_client.get("/admin/journal/tradesentimentlabel/").content,
        admin_client.get(f"/admin/journal/tradesentimentlabel/{label_id}/change/").content,
        admin_client.get("/admin/journal/paperorder/").content,
    ]
    from journal.models import TradeSentimentLabel

    TradeSentimentLabel.objects.filter(pk=label_id).update(post_label_locked_at=None)
    order = make_order(customer, exit="1", closed_ago=timedelta(days=3))
    make_label(customer, order, note=NOTE)
    sentiment_labels_lock_due()
    api.patch(f"/api/sentiment-labels/{label_id}", {"journal_note": "second " + NOTE}, format="json")
    assert all(NOTE.encode() not in body for body in elsewhere)
    assert "canary-5518" not in caplog.text
    assert all("canary-5518" not in str(e.data) for e in AuditEvent.objects.all())
    assert AuditEvent.objects.filter(event_type="sentiment_label_updated").exists()


@pytest.mark.django_db
def test_taxonomy_version_one_is_seeded_by_migration():
    v1 = SentimentTaxonomyVersion.objects.get(version=1)
    assert v1.pre_label_list == list(PRE_LABELS) and v1.post_label_list == list(POST_LABELS)
