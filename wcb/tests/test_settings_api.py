import pytest

from raxx.models import AuditEvent
from wcb.models import WcbSetting

URL = "/api/account/settings/wcb"


@pytest.mark.parametrize("tier,value,status", [
    ("pro_plus", "monthly", 200), ("pro_plus", "close_of_market_only", 200),
    ("pro", "close_of_market_only", 200), ("pro", "monthly", 403),
    ("free", "close_of_market_only", 403), ("free", "monthly", 403),
    (None, "close_of_market_only", 403), (None, "monthly", 403),
])
def test_tier_rules(api_for, customer, tier, value, status):
    response = api_for(customer, tier).patch(URL, {"tracking_horizon": value}, format="json")
    assert response.status_code == status
    if status == 200:
        assert response.json() == {"tracking_horizon": value}
        assert WcbSetting.objects.get(customer=customer).tracking_horizon == value
    else:
        assert response.json() == {"error": "tier_insufficient"}
        assert not WcbSetting.objects.exists()


@pytest.mark.parametrize("body", [{"tracking_horizon": "weekly"}, {"tracking_horizon": None}, {"tracking_horizon": 1},
                                  {}, {"tracking_horizon": ["monthly"]}, [1]])
def test_unknown_values_are_422_invalid_value(api, body):
    response = api.patch(URL, body, format="json")
    assert response.status_code == 422 and response.json() == {"error": "invalid_value"}
    assert not WcbSetting.objects.exists() and not AuditEvent.objects.filter(event_type="wcb_setting_changed").exists()


def test_free_tier_is_refused_before_the_body_is_read(api_for, customer):
    response = api_for(customer, "free").patch(URL, {"tracking_horizon": "weekly"}, format="json")
    assert response.status_code == 403


def test_every_change_is_audited(api, customer):
    api.patch(URL, {"tracking_horizon": "monthly"}, format="json")
    api.patch(URL, {"tracking_horizon": "close_of_market_only"}, format="json")
    events = list(AuditEvent.objects.filter(event_type="wcb_setting_changed").order_by("id"))
    assert [(e.data["old_value"], e.data["new_value"]) for e in events] == [
        ("close_of_market_only", "monthly"), ("monthly", "close_of_market_only")]
    assert all(e.customer_id == customer.id and e.data["user_id"] == str(customer.id) for e in events)
    assert events[0].data["changed_at_utc"].endswith("Z")
    assert events[0].actor == f"customer:{customer.id}"


def test_get_shows_the_current_setting(api_for, customer):
    assert api_for(customer, "pro_plus").get(URL).json() == {
        "tracking_horizon": "close_of_market_only", "available_horizons": ["close_of_market_only", "monthly"]}
    assert api_for(customer, "free").get(URL).status_code == 403


def test_query_count_is_bounded(api, django_assert_max_num_queries):
    api.patch(URL, {"tracking_horizon": "monthly"}, format="json")
    with django_assert_max_num_queries(9):
        assert api.patch(URL, {"tracking_horizon": "close_of_market_only"}, format="json").status_code == 200


@pytest.mark.parametrize("method,url", [
    ("get", "/api/positions/00000000-0000-0000-0000-000000000000/what-could-have-been"),
    ("patch", URL), ("get", URL), ("post", "/api/trading/close-position")])
def test_every_wcb_route_needs_a_valid_token(client, db, method, url):
    response = getattr(client, method)(url, content_type="application/json")
    assert response.status_code == 401
    bad = getattr(client, method)(url, content_type="application/json", HTTP_AUTHORIZATION="Bearer not.a.jwt")
    assert bad.status_code == 401
