import re
import uuid
from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from wcb import jobs, market_data, selectors
from wcb.models import WcbSetting, WcbSnapshot

from .conftest import as_of, close_for

URL = "/api/positions/{}/what-could-have-been"
APR15 = date(2026, 4, 15)


@pytest.fixture
def wcb_on(flags):
    flags.on("FLAG_WCB_ENABLED")


@pytest.fixture
def provider_down(monkeypatch):
    def down(symbol, start, end, **kwargs):
        raise market_data.MarketDataUnavailable("HTTP 503 from the provider")

    monkeypatch.setattr(market_data, "get_market_data", down)


@pytest.fixture
def frozen(monkeypatch):
    """Render as at 2026-04-22 23:00 UTC (EOM windows of April still open)."""
    moment = datetime(2026, 4, 22, 23, 0, tzinfo=UTC)
    monkeypatch.setattr(selectors, "_now", lambda: moment)
    return moment


@pytest.fixture
def cache_sets(monkeypatch):
    calls = []
    real = selectors.cache.set

    def spy(key, value, timeout=None):
        if not key.startswith("waffle:"):  # the flag cache (flags/cache.py) shares the store
            calls.append((key, timeout))
        return real(key, value, timeout)

    monkeypatch.setattr(selectors.cache, "set", spy)
    return calls


@pytest.fixture
def finalized(market, record):
    position = record()
    jobs.run_manual("eod", now=as_of(APR15))
    return position


# --- the gate, in order ------------------------------------------------------------------------------

@pytest.mark.parametrize("tier", ["free", None])
def test_free_and_tierless_callers_get_403_before_anything_else(api_for, customer, finalized, flags, tier):
    for flag in (True, False):
        (flags.on if flag else flags.off)("FLAG_WCB_ENABLED")
        for position_id in (finalized.id, uuid.uuid4(), "not-a-uuid"):
            response = api_for(customer, tier).get(URL.format(position_id))
            assert response.status_code == 403
            assert response.json() == {"error": "tier_insufficient"}


def test_flag_off_is_404(api, finalized):
    response = api.get(URL.format(finalized.id))
    assert response.status_code == 404


def test_pro_asking_eom_is_403(api_for, customer, finalized, wcb_on):
    response = api_for(customer, "pro").get(URL.format(finalized.id) + "?horizon=eom")
    assert response.status_code == 403 and response.json() == {"error": "tier_insufficient"}
    assert api_for(customer, "pro").get(URL.format(finalized.id) + "?horizon=eod").status_code == 200


def test_another_customers_position_is_404_position_not_found(other_api, finalized, wcb_on):
    response = other_api.get(URL.format(finalized.id))
    assert response.status_code == 404 and response.json() == {"error": "position_not_found"}


@pytest.mark.parametrize("position_id", [uuid.uuid4(), "not-a-uuid", "1"])
def test_unknown_position_is_404_position_not_found(api, db, wcb_on, position_id):
    response = api.get(URL.format(position_id))
    assert response.status_code == 404 and response.json() == {"error": "position_not_found"}


def test_position_without_snapshot_is_404_wcb_not_available(api, record, market, wcb_on):
    position = record(tier="free")
    response = api.get(URL.format(position.id))
    assert response.status_code == 404 and response.json() == {"error": "wcb_not_available"}


@pytest.mark.parametrize("horizon", ["", "EOD", "monthly", "week", "eod,eom"])
def test_bad_horizon_is_422_invalid_horizon(api, finalized, wcb_on, horizon):
    response = api.get(URL.format(finalized.id), {"horizon": horizon})
    assert response.status_code == 422
    assert response.json() == {"error": "invalid_horizon", "detail": "horizon must be eod or eom"}


# --- the body ------------------------------------------------------------------------------------

def test_finalized_body_is_the_design_7_3_shape(api, finalized, wcb_on):
    response = api.get(URL.format(finalized.id))
    assert response.status_code == 200
    body = response.json()
    price = close_for(APR15)
    assert body["snapshot"] == {
        "position_id": str(finalized.id), "symbol": "ACME", "asset_type": "equity",
        "tracking_horizon": "close_of_market_only", "close_timestamp_utc": "2026-04-15T18:00:00Z",
        "close_price": "110.000000", "cost_basis": "90.000000", "position_size_signed": "10.0000",
        "close_commission": "1.0000", "multiplier": 1, "actual_pnl": "199.000000", "horizon_reached": True,
        "horizon_timestamp_utc": "2026-04-15T20:00:00Z", "horizon_price": f"{price:.6f}",
        "would_have_pnl": f"{(price - 90) * 10 - 1:.6f}", "delta_pnl": f"{(price - 90) * 10 - 200:.6f}",
        "dividends_in_window": "0.000000", "split_ratio_applied": "1.000000", "spinoff_detected": False,
        "data_source": "fixture"}
    assert body["trajectory"] == [["2026-04-15", float((price - 90) * 10 - 1)]]
    assert body["metadata"] == {"horizon_reached": True, "tracking_days": 1, "near_eom_note": None,
                                "options_caveat": None, "spinoff_note": None,
                                "data_as_of_utc": "2026-04-15T20:00:00Z"}


def test_pending_row_shows_no_horizon_values(api, market, record, wcb_on):
    position = record()  # the job has not run
    snap = api.get(URL.format(position.id)).json()["snapshot"]
    assert snap["horizon_reached"] is False
    assert snap["horizon_price"] is None and snap["would_have_pnl"] is None and snap["delta_pnl"] is None


def test_in_progress_eom_has_a_partial_trajectory_cached_for_an_hour(api, customer, market, record, wcb_on, frozen,
                                                                     cache_sets):
    WcbSetting.objects.create(customer=customer, tracking_horizon="monthly")
    position = record()
    body = api.get(URL.format(position.id)).json()
    assert [d for d, _ in body["trajectory"]] == ["2026-04-15", "2026-04-16", "2026-04-17", "2026-04-20",
                                                   "2026-04-21", "2026-04-22"]
    assert body["metadata"]["tracking_days"] == 6 and body["metadata"]["horizon_reached"] is False
    assert body["metadata"]["data_as_of_utc"] == "2026-04-22T20:00:00Z"
    assert cache_sets == [(f"wcb_trajectory:{position.id}:2026-04-22", 3600)]


def test_finalized_trajectory_is_cached_without_expiry(api, finalized, wcb_on, cache_sets, fetches):
    first = api.get(URL.format(finalized.id)).json()
    second = api.get(URL.format(finalized.id)).json()
    assert first == second
    assert cache_sets == [(f"wcb_trajectory:{finalized.id}:final", None)]  # no day in a final key
    assert fetches == ["ACME"]  # the second render was a cache hit


def test_a_finalized_position_viewed_on_two_days_holds_one_cache_entry(api, finalized, wcb_on, cache_sets,
                                                                       fetches, monkeypatch):
    for moment in (datetime(2026, 5, 4, 15, 0, tzinfo=UTC), datetime(2026, 5, 5, 15, 0, tzinfo=UTC)):
        monkeypatch.setattr(selectors, "_now", lambda moment=moment: moment)
        assert api.get(URL.format(finalized.id)).status_code == 200
    assert cache_sets == [(f"wcb_trajectory:{finalized.id}:final", None)]
    assert fetches == ["ACME"]  # the second day was served from the one entry
    live = [k for k in selectors.trajectory_cache_keys([finalized.id]) if selectors.cache.get(k) is not None]
    assert live == [f"wcb_trajectory:{finalized.id}:final"]


def test_a_finalized_other_horizon_is_one_entry_too(api, finalized, wcb_on, cache_sets, monkeypatch):
    for moment in (datetime(2026, 6, 1, 15, 0, tzinfo=UTC), datetime(2026, 6, 2, 15, 0, tzinfo=UTC)):
        monkeypatch.setattr(selectors, "_now", lambda moment=moment: moment)
        assert api.get(URL.format(finalized.id) + "?horizon=eom").status_code == 200
    assert cache_sets == [(f"wcb_trajectory:{finalized.id}:final:monthly", None)]


def test_provider_down_and_nothing_cached_is_503(api, finalized, wcb_on, provider_down):
    response = api.get(URL.format(finalized.id))
    assert response.status_code == 503 and response.json() == {"error": "market_data_unavailable"}


def test_provider_down_with_a_cached_trajectory_still_renders(api, finalized, wcb_on, monkeypatch):
    assert api.get(URL.format(finalized.id)).status_code == 200
    monkeypatch.setattr(market_data, "get_market_data", lambda *a, **kw: (_ for _ in ()).throw(
        market_data.MarketDataUnavailable("down")))
    assert api.get(URL.format(finalized.id)).status_code == 200


REDIS_DOWN = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0",
                          "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.2,
                                      "SOCKET_TIMEOUT": 0.2}}}


def test_redis_down_recomputes_and_never_errors(api, finalized, wcb_on, fetches):
    with override_settings(CACHES=REDIS_DOWN, WAFFLE_CACHE_NAME="default"):
        first = api.get(URL.format(finalized.id))
        second = api.get(URL.format(finalized.id))
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert fetches == ["ACME", "ACME"]  # nothing cached: recomputed each time


def test_other_horizon_is_computed_not_stored(api, finalized, wcb_on):
    body = api.get(URL.format(finalized.id) + "?horizon=eom").json()
    assert body["snapshot"]["tracking_horizon"] == "monthly"
    assert body["snapshot"]["horizon_timestamp_utc"] == "2026-04-30T20:00:00Z"
    assert body["snapshot"]["horizon_price"] == f"{close_for(date(2026, 4, 30)):.6f}"
    assert body["metadata"]["tracking_days"] == 12
    assert WcbSnapshot.objects.get().tracking_horizon == "close_of_market_only"


def test_pro_with_a_monthly_snapshot_sees_close_of_market(api_for, customer, market, record, wcb_on):
    WcbSetting.objects.create(customer=customer, tracking_horizon="monthly")
    position = record()
    body = api_for(customer, "pro").get(URL.format(position.id)).json()
    assert body["snapshot"]["tracking_horizon"] == "close_of_market_only"
    assert len(body["trajectory"]) == 1


def _render_queries(api, url) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        assert api.get(url).status_code == 200
    return [q["sql"] for q in ctx.captured_queries]


def _wcb_part(queries: list[str]) -> list[str]:
    """The route's own queries: not the authentication's customer lookup nor waffle's flag load."""
    return [q for q in queries if not re.search(r'FROM "(customers|waffle_\w+)"', q)]


def test_a_render_costs_one_wcb_query_whatever_the_data(api, market, record, wcb_on):
    """Position, snapshot and tier sighting in one query: uncached or cached, pending or final, 1 or 31 rows."""
    url = URL.format(record().id)
    assert len(_wcb_part(_render_queries(api, url))) == 1  # uncached: computed, then cached
    assert len(_wcb_part(_render_queries(api, url))) == 1  # cached
    for _ in range(30):
        record()
    jobs.run_manual("eod", now=as_of(APR15))
    assert len(_wcb_part(_render_queries(api, url))) == 1  # finalized: the final entry is computed
    cached = _render_queries(api, url)
    assert len(_wcb_part(cached)) == 1
    assert len(cached) <= 2  # with the customer lookup: issue 14's bound for a cached render


@pytest.mark.skipif("not __import__('django.conf').conf.settings.REDIS_URL", reason="needs REDIS_URL")
def test_a_cached_render_reads_the_cache_once(api, finalized, wcb_on, monkeypatch):
    """On Redis the final trajectory is read in the request's one round trip with the customer,
    the flags and the rate limit (raxx/request_cache.py), not by a second read."""
    from raxx.tests.helpers import redis_writes

    url = URL.format(finalized.id)
    first = api.get(url).json()  # computed and cached
    writes = redis_writes(monkeypatch)
    assert api.get(url).json() == first
    assert writes == [3]  # one write: the MGET and the counter's SET NX EX + INCR
    assert api.get(url + "?horizon=eod").status_code == 200  # asked for a horizon: its own read, as before
    assert writes == [3, 3, 1]


def test_a_cached_trajectory_is_never_served_to_another_customer(api, other_api, finalized, wcb_on):
    assert api.get(URL.format(finalized.id)).status_code == 200  # cached under the position's key
    response = other_api.get(URL.format(finalized.id))  # the other customer's request reads that key too
    assert response.status_code == 404 and response.json() == {"error": "position_not_found"}


def test_the_keys_a_render_reads_ahead_are_only_of_canonical_ids(finalized):
    moment = datetime(2026, 4, 22, 23, 0, tzinfo=UTC)
    assert selectors.trajectory_cache_keys_of_render(str(finalized.id), moment) == [
        f"wcb_trajectory:{finalized.id}:final", f"wcb_trajectory:{finalized.id}:2026-04-22"]
    for spelling in (str(finalized.id).upper(), finalized.id.hex, "not-a-uuid", "x" * 5000):
        assert selectors.trajectory_cache_keys_of_render(spelling, moment) == []


# --- retrospective copy ----------------------------------------------------------------------------

FORWARD = re.compile(r"\b(will|won't|expect\w*|likely|tend to|tends to|could still|forecast\w*|predict\w*|"
                     r"going to|should|might|may|upside|potential)\b", re.I)
EMOTION = re.compile(r"\b(regret\w*|unfortunate\w*|sadly|sorry|lucky|unlucky|missed out|painful|happy|"
                     r"great news|congrat\w*|oops|ouch|shame|disappoint\w*|!)", re.I)


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def test_every_response_string_is_retrospective(api, customer, market, record, wcb_on, monkeypatch):
    market.write("ACME", actions=[
        {"ca_type": "split", "ex_date": "2026-04-20", "old_rate": 1, "new_rate": 2},
        {"ca_type": "dividend", "ex_date": "2026-04-22", "cash_amount": "0.25"},
        {"ca_type": "spinoff", "ex_date": "2026-04-24"}])
    market.write("GAPS", skip={date(2026, 4, 16)})
    WcbSetting.objects.create(customer=customer, tracking_horizon="monthly")
    positions = [
        record(), record(quantity="-3"), record(asset_type="call", multiplier=100),
        record(asset_type="multi_leg", multiplier=100), record(symbol="GONE"), record(symbol="GAPS"),
        record(closed_at=datetime(2026, 4, 28, 15, 0, tzinfo=UTC)),  # near month-end
        record(closed_at=datetime(2026, 4, 30, 21, 0, tzinfo=UTC)),  # after the last close of April
    ]
    jobs.run_manual("eom", now=as_of(date(2026, 5, 29)))
    texts = []
    for position in positions:
        for suffix in ("", "?horizon=eod", "?horizon=eom"):
            response = api.get(URL.format(position.id) + suffix)
            assert response.status_code == 200, response.content
            texts.extend(_strings(response.json()))
    metadata_texts = [t for t in texts if " " in t]
    assert any("spinoff" in t for t in metadata_texts) and any("underlying" in t.lower() for t in metadata_texts)
    assert any("day(s)" in t for t in metadata_texts)
    for text in texts:
        assert not FORWARD.search(text), text
        assert not EMOTION.search(text), text


def test_a_cache_that_raises_is_a_miss_not_an_error(api, finalized, wcb_on, monkeypatch, fetches):
    class DownCache:
        def get(self, *args, **kwargs):
            raise ConnectionError("redis is down")

        set = get

    monkeypatch.setattr(selectors, "cache", DownCache())  # WCB's cache only; waffle keeps its own
    assert api.get(URL.format(finalized.id)).status_code == 200
    assert fetches == ["ACME"]


def test_finalizing_switches_the_render_to_the_final_entry(api, market, record, wcb_on, cache_sets):
    """The job leaves the cache alone: the in-progress entry is never read for a finalized row (it expires)."""
    from django.core.cache import cache

    position = record()
    pending = api.get(URL.format(position.id)).json()
    key, ttl = cache_sets[0]
    assert ttl == 3600 and cache.get(key) is not None and pending["snapshot"]["horizon_reached"] is False
    jobs.run_manual("eod", now=as_of(APR15))
    final = api.get(URL.format(position.id)).json()
    assert final["snapshot"]["horizon_reached"] is True and final["metadata"]["horizon_reached"] is True
    assert final["snapshot"]["would_have_pnl"] is not None
    assert cache_sets[-1] == (f"wcb_trajectory:{position.id}:final", None)  # the final entry, no day in its key
    assert api.get(URL.format(position.id)).json() == final  # served from it


def test_alpaca_5xx_with_nothing_cached_is_503_end_to_end(api, finalized, wcb_on, settings):
    import re as regex

    import responses

    settings.MARKET_DATA_PROVIDER = "alpaca"
    settings.ALPACA_API_KEY, settings.ALPACA_SECRET_KEY, settings.ALPHA_VANTAGE_API_KEY = "k", "s", ""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.GET, regex.compile(r"https://.*alpaca\.markets/.*"), status=503, json={"message": "down"})
        response = api.get(URL.format(finalized.id))
    assert response.status_code == 503 and response.json() == {"error": "market_data_unavailable"}


def test_spinoff_split_and_dividend_reach_the_body(api, customer, market, record, wcb_on):
    market.write("ACME", actions=[
        {"ca_type": "split", "ex_date": "2026-04-20", "old_rate": 1, "new_rate": 2},
        {"ca_type": "dividend", "ex_date": "2026-04-22", "cash_amount": "0.25"},
        {"ca_type": "spinoff", "ex_date": "2026-04-24"}])
    WcbSetting.objects.create(customer=customer, tracking_horizon="monthly")
    position = record()
    jobs.run_manual("eom", now=as_of(date(2026, 5, 1)))
    body = api.get(URL.format(position.id)).json()
    snap = body["snapshot"]
    assert snap["horizon_reached"] is True and snap["spinoff_detected"] is True
    # D = 0.25 × r(Apr 22) = 0.25 × 2: the dividend was paid per post-split share (CONTRACTS §4).
    assert snap["split_ratio_applied"] == "2.000000" and snap["dividends_in_window"] == "0.500000"
    # pnl(Apr 30) = (close × 2 − 90) × 10 + 0.5 × 10 − 1
    assert snap["would_have_pnl"] == f"{(close_for(date(2026, 4, 30)) * 2 - 90) * 10 + 5 - 1:.6f}"
    assert body["metadata"]["spinoff_note"] and "spinoff" in body["metadata"]["spinoff_note"]
    assert body["metadata"]["tracking_days"] == len(body["trajectory"]) == 12
