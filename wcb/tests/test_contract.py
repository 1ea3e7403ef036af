"""Black-box acceptance tests for CONTRACTS §4, written as an outside tester would.

Only HTTP, ``manage.py wcb_run`` and a MARKET_DATA_FIXTURES_DIR of our own (one
``<SYMBOL>.json`` per symbol in the pinned format) are used — no internals. The
expected numbers are worked by hand in the comments.
"""

import io
import json
import re
import uuid
from decimal import Decimal

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from raxx.models import AuditEvent

CLOSE = "/api/trading/close-position"
RENDER = "/api/positions/{}/what-could-have-been"
SETTINGS = "/api/account/settings/wcb"
Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")

SNAPSHOT_KEYS = {
    "position_id", "symbol", "asset_type", "tracking_horizon", "close_timestamp_utc", "close_price", "cost_basis",
    "position_size_signed", "close_commission", "multiplier", "actual_pnl", "horizon_reached",
    "horizon_timestamp_utc", "horizon_price", "would_have_pnl", "delta_pnl", "dividends_in_window",
    "split_ratio_applied", "spinoff_detected", "data_source"}
METADATA_KEYS = {"horizon_reached", "tracking_days", "near_eom_note", "options_caveat", "spinoff_note",
                 "data_as_of_utc"}
DECIMAL_KEYS = ("close_price", "cost_basis", "position_size_signed", "close_commission", "actual_pnl",
                "horizon_price", "would_have_pnl", "delta_pnl", "dividends_in_window", "split_ratio_applied")

# TST raw closes, April 2026 (a 2-for-1 split goes ex on 2026-04-20).
TST_CLOSES = {
    "2026-04-13": "99", "2026-04-14": "99.5", "2026-04-15": "100", "2026-04-16": "101", "2026-04-17": "102",
    "2026-04-20": "51", "2026-04-21": "51.5", "2026-04-22": "51", "2026-04-23": "52", "2026-04-24": "52.5",
    "2026-04-27": "53", "2026-04-28": "54", "2026-04-29": "54.5", "2026-04-30": "55",
    "2026-05-01": "56", "2026-05-04": "57",
}
TST_ACTIONS = [
    {"ca_type": "dividend", "ex_date": "2026-04-15", "cash_amount": "1.00"},  # on the close date: not counted
    {"ca_type": "split", "ex_date": "2026-04-20", "old_rate": 1, "new_rate": 2},
    {"ca_type": "dividend", "ex_date": "2026-04-22", "cash_amount": "0.50"},  # per post-split share
]


def bar(day, close):
    c = Decimal(close)
    return {"date": day, "open": str(c - 1), "high": str(c + 1), "low": str(c - 2), "close": str(c), "volume": 1000}


def flat_bars(days, close="100"):
    return [bar(d, close) for d in days]


@pytest.fixture
def data_dir(tmp_path, settings):
    settings.MARKET_DATA_PROVIDER = "fixture"
    settings.MARKET_DATA_FIXTURES_DIR = str(tmp_path)

    def write(symbol, bars, actions=()):
        (tmp_path / f"{symbol}.json").write_text(json.dumps(
            {"symbol": symbol, "bars": bars, "corporate_actions": list(actions)}))

    write("TST", [bar(d, c) for d, c in TST_CLOSES.items()], TST_ACTIONS)
    return write


@pytest.fixture
def wcb_on(flags):
    flags.on("FLAG_WCB_ENABLED")


def wcb_run(*args):
    out = io.StringIO()
    call_command("wcb_run", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


def close(client, **overrides):
    body = {"symbol": "TST", "asset_type": "equity", "quantity": "10", "cost_basis": "95", "close_price": "100",
            "closed_at": "2026-04-15T18:00:00Z"}
    body.update(overrides)
    return client.post(CLOSE, body, format="json")


def assert_body_shape(body):
    assert set(body) == {"snapshot", "trajectory", "metadata"}
    snap, meta = body["snapshot"], body["metadata"]
    assert set(snap) == SNAPSHOT_KEYS
    assert set(meta) == METADATA_KEYS
    for key in DECIMAL_KEYS:
        assert snap[key] is None or isinstance(snap[key], str), key
        if snap[key] is not None:
            Decimal(snap[key])
    assert isinstance(snap["multiplier"], int) and not isinstance(snap["multiplier"], bool)
    assert isinstance(snap["horizon_reached"], bool) and isinstance(snap["spinoff_detected"], bool)
    assert Z.match(snap["close_timestamp_utc"])
    assert snap["horizon_timestamp_utc"] is None or Z.match(snap["horizon_timestamp_utc"])
    assert meta["data_as_of_utc"] is None or Z.match(meta["data_as_of_utc"])
    assert isinstance(body["trajectory"], list)
    for point in body["trajectory"]:
        assert isinstance(point, list) and len(point) == 2
        assert re.match(r"^\d{4}-\d\d-\d\d$", point[0])
        assert isinstance(point[1], (int, float)) and not isinstance(point[1], bool)
    assert meta["horizon_reached"] == snap["horizon_reached"]
    assert isinstance(meta["tracking_days"], int)


# ---------------------------------------------------------------- close-position


@pytest.mark.parametrize("tier, tracking", [("pro", True), ("pro_plus", True), ("free", False), (None, False)])
def test_close_position_201_and_snapshot_only_for_paid_tiers(api_for, customer, data_dir, wcb_on, tier, tracking):
    client = api_for(customer, tier)
    response = close(client)
    assert response.status_code == 201, response.content
    body = response.json()
    uuid.UUID(body["position_id"])
    assert body["wcb_tracking"] is tracking
    # the render tells whether a snapshot exists (paid token used to look)
    paid = api_for(customer, "pro_plus")
    rendered = paid.get(RENDER.format(body["position_id"]))
    if tracking:
        assert rendered.status_code == 200
        assert rendered.json()["snapshot"]["tracking_horizon"] == "close_of_market_only"
    else:
        assert rendered.status_code == 404 and rendered.json() == {"error": "wcb_not_available"}


def test_close_position_accepts_numbers_naive_and_default_closed_at(api, data_dir):
    r = close(api, quantity=10, cost_basis=95.5, close_price=100, close_commission=1.25, multiplier=1)
    assert r.status_code == 201, r.content
    r = close(api, closed_at="2026-04-15T18:00:00")  # no timezone: read as UTC
    assert r.status_code == 201, r.content
    assert r.json()["closed_at"] == "2026-04-15T18:00:00Z"
    r = close(api, closed_at="2026-04-15T14:00:00-04:00")
    assert r.status_code == 201 and r.json()["closed_at"] == "2026-04-15T18:00:00Z"
    body = {"symbol": "TST", "asset_type": "equity", "quantity": "-5", "cost_basis": "95", "close_price": "100"}
    r = api.post(CLOSE, body, format="json")  # closed_at defaults to now
    assert r.status_code == 201 and Z.match(r.json()["closed_at"])


@pytest.mark.parametrize("field, value", [
    ("asset_type", "bond"), ("asset_type", None), ("quantity", "0"), ("quantity", "abc"), ("quantity", None),
    ("quantity", "NaN"), ("quantity", "Infinity"), ("quantity", "-Infinity"), ("quantity", 1e308),
    ("quantity", "1e400"), ("quantity", True), ("quantity", []), ("quantity", {"a": 1}),
    ("cost_basis", "x"), ("cost_basis", "-1"), ("cost_basis", "0"), ("cost_basis", "NaN"),
    ("close_price", "1e20"), ("close_price", "abc"), ("close_price", None), ("close_commission", "-1"),
    ("close_commission", "NaN"), ("multiplier", 0), ("multiplier", "x"), ("multiplier", 10**30),
    ("multiplier", 1.5), ("closed_at", "yesterday"), ("closed_at", "2026-13-45T00:00:00Z"), ("closed_at", 12),
    ("closed_at", "1900-01-01T00:00:00Z"), ("symbol", ""), ("symbol", None), ("symbol", "A" * 40),
    ("symbol", "../etc/passwd"), ("symbol", "A B"),
])
def test_close_position_bad_input_is_400_invalid_request(api, customer, data_dir, field, value):
    from wcb.models import ClosedPosition
    r = close(api, **{field: value})
    assert r.status_code == 400, (field, value, r.content)
    assert r.json()["error"] == "invalid_request"
    assert not ClosedPosition.objects.filter(customer=customer).exists()


def test_close_position_missing_fields_and_non_json(api, customer):
    r = api.post(CLOSE, {}, format="json")
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    assert {"symbol", "asset_type", "quantity", "cost_basis", "close_price"} <= set(r.json()["detail"])
    for raw, ctype in [("not json", "application/json"), ("[1, 2]", "application/json"), ("null", "application/json"),
                       ('{"quantity": NaN}', "application/json"), ("<x/>", "application/xml"), ("a=b", "text/plain")]:
        r = api.generic("POST", CLOSE, raw, content_type=ctype)
        assert 400 <= r.status_code < 500, (raw, r.status_code)
        assert "error" in r.json()


def test_close_position_requires_auth(client, db):
    r = client.post(CLOSE, {}, content_type="application/json")
    assert r.status_code == 401


# ---------------------------------------------------------------- render: errors


def test_render_error_codes(api_for, customer, other_customer, data_dir, wcb_on):
    pro_plus = api_for(customer, "pro_plus")
    pid = close(pro_plus).json()["position_id"]
    free_pid = close(api_for(customer, "free")).json()["position_id"]
    url = RENDER.format(pid)
    assert api_for(customer, "free").get(url).json() == {"error": "tier_insufficient"}
    assert api_for(customer, "free").get(url).status_code == 403
    assert api_for(customer, None).get(url).status_code == 403
    r = api_for(customer, "pro").get(url + "?horizon=eom")
    assert (r.status_code, r.json()) == (403, {"error": "tier_insufficient"})
    r = pro_plus.get(url + "?horizon=weekly")
    assert (r.status_code, r.json()) == (422, {"error": "invalid_horizon", "detail": "horizon must be eod or eom"})
    for bad in ["", "EOD", "eod ", "1", "null"]:
        r = pro_plus.get(url, {"horizon": bad})
        assert r.status_code == 422 and r.json()["error"] == "invalid_horizon", bad
    r = api_for(other_customer, "pro_plus").get(url)
    assert (r.status_code, r.json()) == (404, {"error": "position_not_found"})
    for bad_id in [uuid.uuid4(), "not-a-uuid", "1", "%20", "0" * 500, "' OR 1=1 --"]:
        r = pro_plus.get(RENDER.format(bad_id))
        assert r.status_code == 404 and r.json() == {"error": "position_not_found"}, bad_id
    r = pro_plus.get(RENDER.format(free_pid))
    assert (r.status_code, r.json()) == (404, {"error": "wcb_not_available"})
    assert pro_plus.get(url).status_code == 200
    assert api_for(customer, "pro").get(url + "?horizon=eod").status_code == 200


def test_render_404_when_flag_off(api, data_dir, flags):
    pid = close(api).json()["position_id"]
    flags.off("FLAG_WCB_ENABLED")
    r = api.get(RENDER.format(pid))
    assert r.status_code == 404 and "error" in r.json()
    flags.on("FLAG_WCB_ENABLED")
    assert api.get(RENDER.format(pid)).status_code == 200


def test_render_503_when_no_data_source_answers(api, data_dir, wcb_on, settings, monkeypatch):
    from wcb import market_data

    pid = close(api).json()["position_id"]

    def down(*args, **kwargs):
        raise market_data.MarketDataUnavailable("down")

    monkeypatch.setattr(market_data, "get_market_data", down)
    r = api.get(RENDER.format(pid))
    assert (r.status_code, r.json()) == (503, {"error": "market_data_unavailable"})


# ---------------------------------------------------------------- the §4 arithmetic, end to end


def test_hand_computed_eom_short_with_split_dividend_commission_multiplier(api, data_dir, wcb_on):
    """Short 3 × multiplier 10, cost 100, closed at 98 on 2026-04-15 14:00 ET, commission 2.50.

    actual = (98 − 100) × (−3) × 10 − 2.5 = 57.5
    window 2026-04-15 .. 2026-04-30 (EOM): split 1→2 ex 04-20; dividend 0.50 ex 04-22 (after the
    split: counts 0.50 × 2 = 1.00 per original share); dividend 1.00 ex 04-15 = close date: not counted.
    pnl(04-30) = (55 × 2 − 100) × (−30) + 1.00 × (−30) − 2.5 = −300 − 30 − 2.5 = −332.5
    delta = −332.5 − 57.5 = −390
    """
    assert api.patch(SETTINGS, {"tracking_horizon": "monthly"}, format="json").status_code == 200
    r = close(api, quantity="-3", multiplier=10, cost_basis="100", close_price="98", close_commission="2.50")
    assert r.status_code == 201 and r.json()["wcb_tracking"] is True
    pid = r.json()["position_id"]

    line = wcb_run("eom", "--as-of", "2026-04-30")
    assert re.search(r"finalized=1\b", line) and "pending=" in line and "failed=0" in line, line
    assert "\n" not in line

    r = api.get(RENDER.format(pid))
    assert r.status_code == 200, r.content
    body = r.json()
    assert_body_shape(body)
    snap = body["snapshot"]
    assert snap == {
        "position_id": pid, "symbol": "TST", "asset_type": "equity", "tracking_horizon": "monthly",
        "close_timestamp_utc": "2026-04-15T18:00:00Z", "close_price": "98.000000", "cost_basis": "100.000000",
        "position_size_signed": "-3.0000", "close_commission": "2.5000", "multiplier": 10,
        "actual_pnl": "57.500000", "horizon_reached": True, "horizon_timestamp_utc": "2026-04-30T20:00:00Z",
        "horizon_price": "55.000000", "would_have_pnl": "-332.500000", "delta_pnl": "-390.000000",
        "dividends_in_window": "1.000000", "split_ratio_applied": "2.000000", "spinoff_detected": False,
        "data_source": "fixture",
    }
    assert body["trajectory"] == [
        ["2026-04-15", -2.5], ["2026-04-16", -32.5], ["2026-04-17", -62.5], ["2026-04-20", -62.5],
        ["2026-04-21", -92.5], ["2026-04-22", -92.5], ["2026-04-23", -152.5], ["2026-04-24", -182.5],
        ["2026-04-27", -212.5], ["2026-04-28", -272.5], ["2026-04-29", -302.5], ["2026-04-30", -332.5],
    ]
    meta = body["metadata"]
    assert meta["tracking_days"] == len(body["trajectory"]) == 12
    assert meta["horizon_reached"] is True
    assert meta["options_caveat"] is None and meta["spinoff_note"] is None and meta["near_eom_note"] is None
    assert meta["data_as_of_utc"] == "2026-04-30T20:00:00Z"

    # the same row seen as EOD (pro_plus may ask): horizon = 2026-04-15 close, no split/dividend yet
    eod = api.get(RENDER.format(pid) + "?horizon=eod").json()
    assert_body_shape(eod)
    assert eod["snapshot"]["horizon_timestamp_utc"] == "2026-04-15T20:00:00Z"
    assert eod["snapshot"]["would_have_pnl"] == "-2.500000"  # (100 − 100) × −30 − 2.5
    assert eod["snapshot"]["delta_pnl"] == "-60.000000"
    assert eod["snapshot"]["dividends_in_window"] == "0.000000"
    assert eod["trajectory"] == [["2026-04-15", -2.5]] and eod["metadata"]["tracking_days"] == 1

    # re-running never changes a finalized row
    assert re.search(r"finalized=0\b", wcb_run("eom", "--as-of", "2026-05-04"))
    assert api.get(RENDER.format(pid)).json()["snapshot"] == snap


def test_eod_long_with_multiplier_right_after_close(api, data_dir, wcb_on):
    """Long 2 × 100 at cost 97, closed at 100 on 04-16 10:00 ET, commission 1.

    actual = (100 − 97) × 2 × 100 − 1 = 599; horizon 04-16 close 101:
    would = (101 − 97) × 200 − 1 = 799; delta = 200.
    """
    pid = close(api, quantity=2, multiplier=100, cost_basis="97", close_price="100", close_commission="1",
                closed_at="2026-04-16T14:00:00Z").json()["position_id"]
    before = api.get(RENDER.format(pid)).json()
    assert before["snapshot"]["actual_pnl"] == "599.000000"
    line = wcb_run("eod", "--as-of", "2026-04-16")
    assert re.search(r"finalized=1\b", line), line
    body = api.get(RENDER.format(pid)).json()
    assert_body_shape(body)
    s = body["snapshot"]
    assert (s["horizon_reached"], s["horizon_price"], s["would_have_pnl"], s["delta_pnl"]) == (
        True, "101.000000", "799.000000", "200.000000")
    assert s["horizon_timestamp_utc"] == "2026-04-16T20:00:00Z"
    assert body["trajectory"] == [["2026-04-16", 799.0]]
    assert body["metadata"]["tracking_days"] == 1


def test_eod_before_the_horizon_stays_pending(api, data_dir, wcb_on):
    pid = close(api, closed_at="2026-04-16T14:00:00Z").json()["position_id"]
    line = wcb_run("eod", "--as-of", "2026-04-15")  # the session had not closed yet
    assert re.search(r"finalized=0\b", line)
    s = api.get(RENDER.format(pid)).json()["snapshot"]
    assert s["horizon_reached"] is False


@pytest.mark.parametrize("closed_at, first, horizon_utc", [
    ("2026-04-15T20:30:00Z", "2026-04-16", "2026-04-16T20:00:00Z"),  # after the 16:00 ET close
    ("2026-04-15T19:59:59Z", "2026-04-15", "2026-04-15T20:00:00Z"),  # one second before it
    ("2026-04-15T20:00:00Z", "2026-04-16", "2026-04-16T20:00:00Z"),  # at the close: not before it
    ("2026-04-15T11:00:00Z", "2026-04-15", "2026-04-15T20:00:00Z"),  # pre-market
    ("2026-04-18T15:00:00Z", "2026-04-20", "2026-04-20T20:00:00Z"),  # Saturday
    ("2026-04-03T15:00:00Z", "2026-04-06", "2026-04-06T20:00:00Z"),  # Good Friday 2026 (holiday)
    ("2026-04-16T02:00:00Z", "2026-04-16", "2026-04-16T20:00:00Z"),  # 22:00 ET on 04-15 → next session
    ("2026-03-06T20:30:00Z", "2026-03-06", "2026-03-06T21:00:00Z"),  # 15:30 EST: before the 21:00 UTC close
    ("2026-03-09T20:30:00Z", "2026-03-10", "2026-03-10T20:00:00Z"),  # 16:30 EDT (DST began 03-08)
])
def test_effective_first_session_and_eod_horizon(api, data_dir, wcb_on, closed_at, first, horizon_utc):
    data_dir("FLAT", flat_bars(["2026-03-06", "2026-03-10", "2026-04-02", "2026-04-06", "2026-04-15",
                                "2026-04-16", "2026-04-17", "2026-04-20"]))
    pid = close(api, symbol="FLAT", closed_at=closed_at).json()["position_id"]
    wcb_run("eod", "--as-of", "2026-04-20")
    body = api.get(RENDER.format(pid)).json()
    assert body["snapshot"]["horizon_reached"] is True
    assert body["snapshot"]["horizon_timestamp_utc"] == horizon_utc
    assert body["trajectory"] == [[first, 50.0]]  # (100 − 95) × 10


def test_early_close_and_eom_horizon_timestamps(api, data_dir, wcb_on):
    """Early closes at 13:00 ET (18:00 UTC) — 2025-11-28, the day after Thanksgiving."""
    data_dir("EARLY", flat_bars(["2025-11-26", "2025-11-28", "2025-12-01", "2025-12-24", "2025-12-26",
                                 "2025-12-31"]))
    early = close(api, symbol="EARLY", closed_at="2025-11-28T15:00:00Z").json()["position_id"]
    after = close(api, symbol="EARLY", closed_at="2025-11-28T18:30:00Z").json()["position_id"]
    wcb_run("eod", "--as-of", "2025-12-01")
    assert api.get(RENDER.format(early)).json()["snapshot"]["horizon_timestamp_utc"] == "2025-11-28T18:00:00Z"
    # 13:30 ET is after that day's early close → Monday 2025-12-01, 16:00 EST = 21:00 UTC
    assert api.get(RENDER.format(after)).json()["snapshot"]["horizon_timestamp_utc"] == "2025-12-01T21:00:00Z"
    # EOM of November 2025 is the early-close Friday itself
    eom = api.get(RENDER.format(early) + "?horizon=eom").json()
    assert eom["snapshot"]["horizon_timestamp_utc"] == "2025-11-28T18:00:00Z"
    assert eom["snapshot"]["horizon_reached"] is True


def test_eom_horizon_is_last_session_of_the_month(api, data_dir, wcb_on):
    # closed on 2026-04-30 after the close → first session 2026-05-01 → EOM 2026-05-29 (Memorial day 05-25)
    days = ["2026-05-01", "2026-05-04", "2026-05-29", "2026-06-01"]
    data_dir("MAY", flat_bars(days))
    api.patch(SETTINGS, {"tracking_horizon": "monthly"}, format="json")
    pid = close(api, symbol="MAY", closed_at="2026-04-30T21:00:00Z").json()["position_id"]
    assert re.search(r"finalized=0\b", wcb_run("eom", "--as-of", "2026-04-30"))
    assert re.search(r"finalized=1\b", wcb_run("eom", "--as-of", "2026-06-01"))
    body = api.get(RENDER.format(pid)).json()
    assert body["snapshot"]["horizon_timestamp_utc"] == "2026-05-29T20:00:00Z"
    assert body["snapshot"]["horizon_reached"] is True
    assert body["metadata"]["tracking_days"] == len(body["trajectory"])


def test_options_state_the_underlying_move_without_an_option_pnl(api, data_dir, wcb_on):
    pid = close(api, asset_type="call", quantity=1, multiplier=100, cost_basis="2.5", close_price="3",
                closed_at="2026-04-16T14:00:00Z").json()["position_id"]
    wcb_run("eod", "--as-of", "2026-04-16")
    body = api.get(RENDER.format(pid)).json()
    assert_body_shape(body)
    assert body["snapshot"]["actual_pnl"] == "50.000000"
    assert "TST" in body["metadata"]["options_caveat"]
    assert body["snapshot"]["would_have_pnl"] is None


# ---------------------------------------------------------------- settings


def test_settings_patch(api_for, customer, data_dir):
    pro_plus, pro = api_for(customer, "pro_plus"), api_for(customer, "pro")
    r = pro_plus.patch(SETTINGS, {"tracking_horizon": "monthly"}, format="json")
    assert (r.status_code, r.json()) == (200, {"tracking_horizon": "monthly"})
    event = AuditEvent.objects.filter(customer=customer, event_type="wcb_setting_changed").latest("pk")
    assert event.data["old_value"] == "close_of_market_only" and event.data["new_value"] == "monthly"
    assert event.data["user_id"] == str(customer.id) and Z.match(event.data["changed_at_utc"])
    # new positions are tracked monthly
    r = close(pro_plus)
    assert r.json()["wcb_tracking"] is True
    r = pro.patch(SETTINGS, {"tracking_horizon": "monthly"}, format="json")
    assert (r.status_code, r.json()) == (403, {"error": "tier_insufficient"})
    r = pro.patch(SETTINGS, {"tracking_horizon": "close_of_market_only"}, format="json")
    assert (r.status_code, r.json()) == (200, {"tracking_horizon": "close_of_market_only"})
    for tier in ("free", None):
        r = api_for(customer, tier).patch(SETTINGS, {"tracking_horizon": "close_of_market_only"}, format="json")
        assert (r.status_code, r.json()) == (403, {"error": "tier_insufficient"})
    events = AuditEvent.objects.filter(customer=customer, event_type="wcb_setting_changed").count()
    for bad in ["weekly", "", None, 1, ["monthly"], {"x": 1}, "MONTHLY", "eom"]:
        r = pro_plus.patch(SETTINGS, {"tracking_horizon": bad}, format="json")
        assert (r.status_code, r.json()) == (422, {"error": "invalid_value"}), bad
    r = pro_plus.patch(SETTINGS, {}, format="json")
    assert r.status_code == 422 and r.json()["error"] == "invalid_value"
    for raw, ctype in [("nope", "application/json"), ("[]", "application/json"), ("x=1", "text/plain")]:
        r = pro_plus.generic("PATCH", SETTINGS, raw, content_type=ctype)
        assert 400 <= r.status_code < 500 and "error" in r.json()
    assert AuditEvent.objects.filter(customer=customer, event_type="wcb_setting_changed").count() == events


def test_pro_monthly_setting_then_close_tracks_close_of_market(api_for, customer, data_dir, wcb_on):
    api_for(customer, "pro_plus").patch(SETTINGS, {"tracking_horizon": "monthly"}, format="json")
    pro = api_for(customer, "pro")
    pid = close(pro).json()["position_id"]
    body = pro.get(RENDER.format(pid)).json()
    assert body["snapshot"]["tracking_horizon"] == "close_of_market_only"
    assert pro.get(RENDER.format(pid) + "?horizon=eod").status_code == 200


def test_pro_plus_monthly_row_asked_eod(api, data_dir, wcb_on):
    api.patch(SETTINGS, {"tracking_horizon": "monthly"}, format="json")
    pid = close(api).json()["position_id"]
    wcb_run("eod", "--as-of", "2026-04-15")
    body = api.get(RENDER.format(pid) + "?horizon=eod").json()
    assert body["snapshot"]["horizon_reached"] is True
    assert body["snapshot"]["would_have_pnl"] == "50.000000"  # (100 − 95) × 10
    assert body["trajectory"] == [["2026-04-15", 50.0]]


# ---------------------------------------------------------------- jobs


def test_wcb_run_summary_and_bad_arguments(db, data_dir):
    for job in ("eod", "eom"):
        line = wcb_run(job)
        assert re.search(r"finalized=\d+", line) and re.search(r"pending=\d+", line)
        assert re.search(r"failed=\d+", line) and "\n" not in line
        line = wcb_run(job, "--as-of", "2026-04-15")
        assert re.search(r"finalized=\d+ pending=\d+ failed=\d+", line)
    from django.core.management.base import CommandError
    with pytest.raises(CommandError):
        wcb_run("eod", "--as-of", "15/04/2026")
    with pytest.raises(CommandError):
        wcb_run("weekly")


def test_beat_rows_exist_after_migrate(db):
    eod = PeriodicTask.objects.get(task="wcb.tasks.wcb_eod_job")
    eom = PeriodicTask.objects.get(task="wcb.tasks.wcb_eom_job")
    assert (eod.crontab.minute, eod.crontab.hour, eod.crontab.day_of_month, eod.crontab.day_of_week) == (
        "0", "22", "*", "*")
    assert (eom.crontab.minute, eom.crontab.hour) == ("0", "2")
    assert str(eod.crontab.timezone) == "UTC" and str(eom.crontab.timezone) == "UTC"
    assert eod.enabled and eom.enabled


def test_tasks_are_importable_and_run(db, data_dir):
    from wcb import tasks

    tasks.wcb_eod_job.apply()
    tasks.wcb_eom_job.apply()


# ---------------------------------------------------------------- admin smoke


def test_admin_pages(admin_client, api, data_dir):
    close(api)
    for url in ["/admin/wcb/", "/admin/wcb/wcbsnapshot/", "/admin/wcb/closedposition/",
                "/admin/wcb/wcbsnapshot/?horizon_reached__exact=0", "/admin/wcb/wcbsnapshot/?q=TST"]:
        assert admin_client.get(url).status_code == 200, url
    from wcb.models import WcbSnapshot

    snap = WcbSnapshot.objects.get()
    assert admin_client.get(f"/admin/wcb/wcbsnapshot/{snap.pk}/change/").status_code == 200


def test_early_close_2026_11_27_with_an_as_of_run(api, data_dir, wcb_on):
    """The day after Thanksgiving 2026 closes at 13:00 ET = 18:00 UTC (EST).

    An outside tester may pick it even when the server clock is before it: the close is
    accepted, stays pending, and ``wcb_run eod --as-of 2026-11-27`` finalizes it; the
    render then shows the finalized window in full.
    """
    data_dir("THX", flat_bars(["2026-11-25", "2026-11-27", "2026-11-30"]))
    r = close(api, symbol="THX", closed_at="2026-11-27T15:00:00Z")
    assert r.status_code == 201, r.content
    pid = r.json()["position_id"]
    after = close(api, symbol="THX", closed_at="2026-11-27T18:30:00Z").json()["position_id"]
    assert re.search(r"finalized=1\b", wcb_run("eod", "--as-of", "2026-11-27"))
    body = api.get(RENDER.format(pid)).json()
    assert_body_shape(body)
    s = body["snapshot"]
    assert (s["horizon_reached"], s["horizon_timestamp_utc"], s["would_have_pnl"]) == (
        True, "2026-11-27T18:00:00Z", "50.000000")
    assert body["trajectory"] == [["2026-11-27", 50.0]] and body["metadata"]["tracking_days"] == 1
    assert body["metadata"]["data_as_of_utc"] == "2026-11-27T18:00:00Z"
    # 13:30 ET is after the early close: Monday 2026-11-30, 16:00 EST = 21:00 UTC
    assert re.search(r"finalized=1\b", wcb_run("eod", "--as-of", "2026-11-30"))
    s = api.get(RENDER.format(after)).json()["snapshot"]
    assert (s["horizon_reached"], s["horizon_timestamp_utc"]) == (True, "2026-11-30T21:00:00Z")


def test_runs_without_as_of_finalize_past_positions(api, data_dir, wcb_on):
    eod = close(api).json()["position_id"]
    api.patch(SETTINGS, {"tracking_horizon": "monthly"}, format="json")
    eom = close(api, quantity="-3", multiplier=10, cost_basis="100", close_price="98",
                close_commission="2.50").json()["position_id"]
    assert re.search(r"finalized=1\b", wcb_run("eod"))
    assert re.search(r"finalized=1\b", wcb_run("eom"))
    assert api.get(RENDER.format(eod)).json()["snapshot"]["would_have_pnl"] == "50.000000"
    assert api.get(RENDER.format(eom)).json()["snapshot"]["would_have_pnl"] == "-332.500000"


def test_close_is_recorded_with_the_flag_off_dark_phase(api, customer, data_dir, flags):
    flags.off("FLAG_WCB_ENABLED")
    pid = close(api).json()["position_id"]
    flags.on("FLAG_WCB_ENABLED")
    assert api.get(RENDER.format(pid)).status_code == 200


def test_close_more_than_a_year_ahead_is_400(api, data_dir):
    r = close(api, closed_at="2099-01-01T00:00:00Z")
    assert r.status_code == 400 and "closed_at" in r.json()["detail"]


def test_eod_dividend_in_the_window_after_an_after_hours_close(api, data_dir, wcb_on):
    """Closed 2026-04-15 17:00 ET (after the close) → window = 2026-04-16, dividend 0.40 ex 04-16 counts.

    would = (100 − 95) × 10 + 0.40 × 10 = 54; delta = 54 − 50 = 4. The fixture provider's corporate
    actions are complete, so the EOD run of 04-16 finalizes (no dividend-lag hold).
    """
    data_dir("DIV", flat_bars(["2026-04-15", "2026-04-16", "2026-04-17"]),
             [{"ca_type": "dividend", "ex_date": "2026-04-16", "cash_amount": "0.40"}])
    pid = close(api, symbol="DIV", closed_at="2026-04-15T21:00:00Z").json()["position_id"]
    assert re.search(r"finalized=1\b", wcb_run("eod", "--as-of", "2026-04-16"))
    body = api.get(RENDER.format(pid)).json()
    s = body["snapshot"]
    assert (s["horizon_reached"], s["would_have_pnl"], s["delta_pnl"], s["dividends_in_window"]) == (
        True, "54.000000", "4.000000", "0.400000")
    assert body["trajectory"] == [["2026-04-16", 54.0]]


def test_spinoff_and_near_eom_notes(api, data_dir, wcb_on):
    data_dir("SP", flat_bars(["2026-04-27", "2026-04-28", "2026-04-29", "2026-04-30"]),
             [{"ca_type": "spinoff", "ex_date": "2026-04-29"}])
    api.patch(SETTINGS, {"tracking_horizon": "monthly"}, format="json")
    pid = close(api, symbol="SP", closed_at="2026-04-27T15:00:00Z").json()["position_id"]
    wcb_run("eom", "--as-of", "2026-04-30")
    body = api.get(RENDER.format(pid)).json()
    assert_body_shape(body)
    assert body["snapshot"]["spinoff_detected"] is True and body["metadata"]["spinoff_note"]
    assert body["metadata"]["near_eom_note"]  # 3 sessions left after 04-27
    assert body["metadata"]["tracking_days"] == len(body["trajectory"]) == 4


# ---------------------------------------------------------------- never a 500


@pytest.mark.parametrize("body", [
    {"symbol": "TST", "asset_type": "equity", "quantity": "1" * 200, "cost_basis": "1", "close_price": "1"},
    {"symbol": "ＴＳＴ", "asset_type": "equity", "quantity": "1", "cost_basis": "1", "close_price": "1"},
    {"symbol": "TST\x00", "asset_type": "equity", "quantity": "1", "cost_basis": "1", "close_price": "1"},
    {"symbol": "TST", "asset_type": "equity", "quantity": "1e-30", "cost_basis": "1", "close_price": "1"},
    {"symbol": "TST", "asset_type": "equity", "quantity": "-1e12", "cost_basis": "1", "close_price": "1"},
    {"symbol": "TST", "asset_type": "equity", "quantity": "99999999.9999", "cost_basis": "999999.999999",
     "close_price": "999999.999999", "multiplier": 100000},
    {"symbol": "TST", "asset_type": "equity", "quantity": "1", "cost_basis": "1", "close_price": "1",
     "close_commission": "999999.9999"},
    {"symbol": "TST", "asset_type": "equity", "quantity": "1", "cost_basis": "1", "close_price": "1",
     "closed_at": "2026-04-15T18:00:00+25:00"},
    {"symbol": "TST", "asset_type": "equity", "quantity": "1", "cost_basis": "1", "close_price": "1",
     "closed_at": "9999-12-31T23:59:59Z"},
    {"symbol": "TST", "asset_type": "equity", "quantity": "1", "cost_basis": "1", "close_price": "1",
     "closed_at": None},
    {"symbol": ["TST"], "asset_type": ["equity"], "quantity": {"v": 1}, "cost_basis": [], "close_price": {}},
])
def test_close_position_fuzz_never_500(api, data_dir, body):
    r = api.post(CLOSE, body, format="json")
    assert r.status_code in (201, 400), (body, r.status_code, r.content)
    assert "error" in r.json() or "position_id" in r.json()


def test_huge_commission_renders_and_runs_without_500(api, data_dir, wcb_on):
    r = close(api, quantity="1", cost_basis="1", close_price="1", close_commission="999999.9999")
    assert r.status_code in (201, 400)
    if r.status_code == 201:
        wcb_run("eod", "--as-of", "2026-04-15")
        assert api.get(RENDER.format(r.json()["position_id"])).status_code == 200


def test_other_methods_are_json_405(api, db, wcb_on):
    pid = uuid.uuid4()
    for method, url in [("GET", CLOSE), ("PUT", CLOSE), ("DELETE", CLOSE), ("POST", RENDER.format(pid)),
                        ("DELETE", RENDER.format(pid)), ("POST", SETTINGS), ("PUT", SETTINGS),
                        ("DELETE", SETTINGS)]:
        r = api.generic(method, url, "{}", content_type="application/json")
        assert r.status_code in (403, 404, 405), (method, url, r.status_code)
        assert "error" in r.json()


def test_unauthenticated_and_garbage_tokens_are_401(client, db):
    for url, method in [(CLOSE, "post"), (RENDER.format(uuid.uuid4()), "get"), (SETTINGS, "patch")]:
        for header in [None, "Bearer", "Bearer x.y.z", "Basic Zm9vOmJhcg=="]:
            extra = {"HTTP_AUTHORIZATION": header} if header else {}
            r = getattr(client, method)(url, content_type="application/json", **extra)
            assert r.status_code == 401, (url, header, r.status_code)


def test_render_query_fuzz(api, data_dir, wcb_on):
    pid = close(api).json()["position_id"]
    for qs in ["?horizon=eod&horizon=eom", "?horizon=%00", "?horizon=" + "x" * 5000, "?other=1",
               "?horizon[]=eod"]:
        r = api.get(RENDER.format(pid) + qs)
        assert r.status_code in (200, 422), (qs, r.status_code)


@pytest.mark.postgres_only
def test_sql_delete_of_a_closed_position_cascades_to_its_snapshot(api, data_dir):
    """Design §3.1 DDL: the foreign key itself says ON DELETE CASCADE (not only the ORM)."""
    from django.db import connection

    pid = close(api).json()["position_id"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM closed_position_wcb_snapshots WHERE position_id = %s", [pid])
        assert cursor.fetchone()[0] == 1
        cursor.execute("DELETE FROM closed_positions WHERE id = %s", [pid])
        cursor.execute("SELECT count(*) FROM closed_position_wcb_snapshots WHERE position_id = %s", [pid])
        assert cursor.fetchone()[0] == 0


@pytest.mark.parametrize("content", [
    "{not json", '{"symbol": "BAD", "bars": [{"date": "2026-04-15"}]}',
    '{"symbol": "BAD", "bars": [{"date": "15/04/2026", "open": 1, "high": 1, "low": 1, "close": 1}]}',
    '{"symbol": "BAD", "bars": [{"date": "2026-04-15", "open": "x", "high": 1, "low": 1, "close": "abc"}]}',
    '{"symbol": "BAD", "bars": [], "corporate_actions": [{"ca_type": "dividend"}]}', "[]",
])
def test_a_broken_fixture_file_is_unavailable_not_500(api, data_dir, wcb_on, tmp_path, content):
    pid = close(api, symbol="BAD").json()["position_id"]
    (tmp_path / "BAD.json").write_text(content)
    r = api.get(RENDER.format(pid))
    assert (r.status_code, r.json()) == (503, {"error": "market_data_unavailable"})
    line = wcb_run("eod", "--as-of", "2026-04-15")
    assert re.search(r"finalized=0\b", line) and re.search(r"failed=1\b", line), line


def test_a_rewritten_fixture_file_is_read_again(api, data_dir, wcb_on):
    pid = close(api, symbol="RW").json()["position_id"]
    data_dir("RW", flat_bars(["2026-04-15"], close="100"))
    assert api.get(RENDER.format(pid) + "?horizon=eod").json()["trajectory"] == [["2026-04-15", 50.0]]
    from raxx.tests.helpers import clear_cache

    clear_cache()
    data_dir("RW", flat_bars(["2026-04-15"], close="101"))
    assert api.get(RENDER.format(pid) + "?horizon=eod").json()["trajectory"] == [["2026-04-15", 60.0]]


def test_no_market_data_file_stays_pending_as_unavailable(api, data_dir, wcb_on):
    pid = close(api, symbol="NOFILE").json()["position_id"]
    assert re.search(r"finalized=0 pending=1 failed=0", wcb_run("eod", "--as-of", "2026-04-15"))
    body = api.get(RENDER.format(pid)).json()
    assert_body_shape(body)
    assert body["snapshot"]["data_source"] == "unavailable" and body["snapshot"]["horizon_reached"] is False
    assert body["trajectory"] == [] and body["metadata"]["tracking_days"] == 0


def test_absurd_fixture_prices_never_500(api, data_dir, wcb_on):
    data_dir("ABS", flat_bars(["2026-04-15", "2026-04-16"], close="1e30"))
    api.patch(SETTINGS, {"tracking_horizon": "monthly"}, format="json")
    pid = close(api, symbol="ABS").json()["position_id"]
    wcb_run("eod", "--as-of", "2026-04-30")
    wcb_run("eom", "--as-of", "2026-04-30")
    for qs in ("", "?horizon=eod", "?horizon=eom"):
        assert api.get(RENDER.format(pid) + qs).status_code in (200, 503), qs


def test_flat_short_is_zero_not_negative_zero(api, data_dir, wcb_on):
    """Short 10 at 100, bought back at 100, no commission: actual = (100 − 100) × (−10) = 0."""
    data_dir("ZERO", flat_bars(["2026-04-15"], close="100"))
    pid = close(api, symbol="ZERO", quantity="-10", cost_basis="100", close_price="100").json()["position_id"]
    wcb_run("eod", "--as-of", "2026-04-15")
    r = api.get(RENDER.format(pid))
    s = r.json()["snapshot"]
    assert (s["actual_pnl"], s["would_have_pnl"], s["delta_pnl"]) == ("0.000000", "0.000000", "0.000000")
    assert '"-0' not in r.content.decode() and "-0.0]" not in r.content.decode()


def test_design_7_3_example_with_the_shipped_fixtures(api, db, wcb_on, settings):
    """The §7.3 example position on the shipped AAPL file: 50 AAPL, cost 170.12, closed
    2026-04-15 19:45Z at 182.34 → actual 611; held to that close C (read from the file):
    would = (C − 170.12) × 50; delta = would − 611 (no dividend or split on that day)."""
    from pathlib import Path

    import wcb

    settings.MARKET_DATA_PROVIDER = "fixture"
    settings.MARKET_DATA_FIXTURES_DIR = str(Path(wcb.__file__).parent / "fixtures" / "market_data")  # shipped
    doc = json.loads((Path(settings.MARKET_DATA_FIXTURES_DIR) / "AAPL.json").read_text())
    c = Decimal(next(b["close"] for b in doc["bars"] if b["date"] == "2026-04-15"))
    would = (c - Decimal("170.12")) * 50
    r = close(api, symbol="AAPL", quantity="50", cost_basis="170.12", close_price="182.34",
              closed_at="2026-04-15T19:45:00Z")
    pid = r.json()["position_id"]
    assert re.search(r"finalized=1\b", wcb_run("eod", "--as-of", "2026-04-15"))
    body = api.get(RENDER.format(pid)).json()
    assert_body_shape(body)
    s = body["snapshot"]
    assert (s["close_price"], s["cost_basis"], s["position_size_signed"], s["actual_pnl"]) == (
        "182.340000", "170.120000", "50.0000", "611.000000")
    assert (s["horizon_timestamp_utc"], s["horizon_price"], s["would_have_pnl"], s["delta_pnl"]) == (
        "2026-04-15T20:00:00Z", f"{c:.6f}", f"{would:.6f}", f"{would - 611:.6f}")
    assert body["trajectory"] == [["2026-04-15", float(would)]] and body["metadata"]["tracking_days"] == 1
