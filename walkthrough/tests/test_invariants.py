"""Design §2 invariants: copy rules, no live order path, no dependency on the templates-v2 flag."""

import ast
import json
import re
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from raxx.tests.copy_rules import FORWARD_WORDS
from walkthrough.models import WalkthroughPaperTrade, WalkthroughProgress
from walkthrough.tests.conftest import LEGS, PERSONA, SURVEY, client_for
from walkthrough.tests.test_matrix import walk

APP = Path(__file__).resolve().parent.parent
BROKERS = r"alpaca|robinhood|nyse|nasdaq|cboe|schwab|fidelity|ibkr|interactive brokers|ameritrade|e\*trade|etrade|" \
          r"webull|tastytrade|tastyworks|vanguard|merrill|etoro|moomoo|firstrade|tradestation|public\.com"
EMOTIONS = r"fear\w*|greed\w*|panic\w*|anxious|anxiety|nervous|excit\w*|fomo|regret\w*|confident|confidence|" \
           r"scared|afraid|happy|sad|angry|frustrat\w*|euphori\w*|emotion\w*|worr\w*|impulsive|revenge|stress\w*"
FORWARD = FORWARD_WORDS  # the project's rule (raxx/tests/copy_rules.py)
BANNED = re.compile(rf"\b({BROKERS}|{EMOTIONS}|{FORWARD})\b", re.IGNORECASE)


def strings_in(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from strings_in(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings_in(v)


def test_the_banned_pattern_catches_what_it_should():
    for phrase in ["Sent to Alpaca", "the NYSE close", "you will profit", "expected move", "a likely outcome",
                   "prices tend to rise", "fear index", "feeling anxious", "we predict"]:
        assert BANNED.search(phrase), phrase
    assert not BANNED.search("a willow tree, an unexpectedness-free phrase is checked by word")


def test_every_fixture_obeys_the_copy_rules_and_says_it_is_historical():
    files = sorted((APP / "fixtures").glob("*.json"))
    assert len(files) == 3
    for path in files:
        data = json.loads(path.read_text())
        assert "historical end-of-day snapshot" in data["_meta"]["note"].lower()
        assert "not live" in data["_meta"]["note"].lower()
        hits = [s for s in strings_in(data) if BANNED.search(s)]
        assert hits == [], (path.name, hits)


@pytest.mark.parametrize("self_select,routing", [(False, False), (False, True), (True, False), (True, True)])
def test_every_string_served_obeys_the_copy_rules(invite, cell, self_select, routing):
    cell(self_select, routing)
    served = []
    for intent in ("income", "covered_call", "directional", "unknown", None):
        _, token = invite(f"{intent}-{self_select}-{routing}@example.test")
        c = client_for(token)
        body = {"track": "full"} if self_select else {"answers": PERSONA}
        if intent:
            body["intent_bucket"] = intent
        for route in ("screen/1", "screen/simple/1", "screen/2", "screen/3", "screen/4", "screen/5", "status"):
            served.append(c.get(f"/api/walkthrough/{route}").json())
        served.append(c.post("/api/walkthrough/screen/1", body, format="json").json())
        for route in ("screen/simple/1", "screen/2", "screen/3", "status"):
            served.append(c.get(f"/api/walkthrough/{route}").json())
        served.append(c.post("/api/walkthrough/screen/3", {"legs": LEGS["ic"][:1]}, format="json").json())
        served.append(c.post("/api/walkthrough/screen/5", {"answers": SURVEY}, format="json").json())
    served.append(client_for("nope").get("/api/walkthrough/status").json())
    hits = sorted({s for body in served for s in strings_in(body) if BANNED.search(s)})
    assert hits == []


def _source_files():
    return [p for p in APP.rglob("*") if p.suffix in (".py", ".json", ".html", ".md") and "tests" not in p.parts]


V2_FLAG = "FLAG_STRATEGY_" + "TEMPLATES_V2"  # spelled in two parts so this file does not contain it


def test_the_walkthrough_never_references_the_v2_templates_flag():
    name = V2_FLAG
    for path in _source_files():
        text = path.read_text(encoding="utf-8")
        if path.suffix != ".md":  # the README may say that the walkthrough does not use it
            assert name not in text, path
            assert "strategy_" + "templates" not in text.lower(), path


def test_the_walkthrough_imports_nothing_that_places_orders():
    allowed_roots = {"django", "rest_framework", "drf_spectacular", "celery", "raxx", "flags", "walkthrough", "waffle"}
    for path in APP.rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                modules = [node.module]
            elif isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            else:
                continue
            for module in modules:
                root = module.split(".")[0]
                if root in allowed_roots or root in __import__("sys").stdlib_module_names:
                    continue
                raise AssertionError(f"{path.name} imports {module}")
            assert not any(m.split(".")[0] in ("journal", "wcb") for m in modules), path


@pytest.mark.parametrize("v2_on", [False, True])
def test_a_full_run_writes_only_walkthrough_tables_with_the_v2_flag_on_or_off(invite, cell, flags, v2_on):
    (flags.on if v2_on else flags.off)(V2_FLAG)
    writes = []
    for self_select, routing, intent in [(False, False, "income"), (False, True, "covered_call"),
                                         (True, True, "directional"), (True, True, "covered_call")]:
        cell(self_select, routing)
        progress, token = invite(f"{intent}-{self_select}-{routing}@example.test")
        with CaptureQueriesContext(connection) as ctx:
            walk(client_for(token), self_select, intent)
        assert WalkthroughProgress.objects.get(pk=progress.pk).completed_at is not None
        writes += [q["sql"] for q in ctx.captured_queries
                   if re.match(r"\s*(INSERT|UPDATE|DELETE)\b", q["sql"], re.IGNORECASE)]
    assert writes, "the run wrote nothing?"
    for sql in writes:
        table = re.search(r'(?:INTO|UPDATE|FROM)\s+"?(\w+)"?', sql, re.IGNORECASE).group(1)
        assert table.startswith("beta_walkthrough_"), sql
    assert {t.strategy_type for t in WalkthroughPaperTrade.objects.all()} == {
        "iron_condor", "covered_call", "vertical_spread"}
